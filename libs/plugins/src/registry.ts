/**
 * The in-tree plugins: every factory schedmesh ships, by name. This file
 * composes the plugins with the runner's Registry (upstream
 * plugins/registry.go); the plugins themselves know only the contract.
 */
import type { PluginFactory } from '@schedmesh/framework';
import { Registry } from '@schedmesh/scheduling';
import { defaultPreemptionPlugin } from './defaultpreemption/plugin.js';
import { imageLocalityPlugin } from './imagelocality/plugin.js';
import { interPodAffinityPlugin } from './interpodaffinity/plugin.js';
import { nodeAffinityPlugin } from './nodeaffinity/plugin.js';
import { nodeNamePlugin } from './nodename/plugin.js';
import { nodePortsPlugin } from './nodeports/plugin.js';
import { nodeResourcesBalancedAllocationPlugin } from './noderesourcesbalancedallocation/plugin.js';
import { nodeResourcesFitPlugin } from './noderesourcesfit/plugin.js';
import { nodeUnschedulablePlugin } from './nodeunschedulable/plugin.js';
import { podTopologySpreadPlugin } from './podtopologyspread/plugin.js';
import { prioritySortPlugin } from './prioritysort/plugin.js';
import { taintTolerationPlugin } from './tainttoleration/plugin.js';
import { topologyAwarePlugin } from './topologyaware/plugin.js';

/** The in-tree factories, in the default profile's order. */
export const IN_TREE_PLUGINS: readonly PluginFactory[] = Object.freeze([
  prioritySortPlugin,
  nodeUnschedulablePlugin,
  nodeNamePlugin,
  taintTolerationPlugin,
  nodeAffinityPlugin,
  nodePortsPlugin,
  nodeResourcesFitPlugin,
  podTopologySpreadPlugin,
  interPodAffinityPlugin,
  defaultPreemptionPlugin,
  nodeResourcesBalancedAllocationPlugin,
  imageLocalityPlugin,
  topologyAwarePlugin,
]);

/** A registry of the in-tree plugins (add out-of-tree ones with Registry.merge). */
export function inTreeRegistry(): Registry {
  return new Registry(IN_TREE_PLUGINS);
}
