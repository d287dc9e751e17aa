/**
 * @schedmesh/plugins: the in-tree scheduling plugins, a folder each
 * (`<name>/plugin.ts`, its `<Name>Args`, tests and README), written against
 * the contract of @schedmesh/framework only, and their registry
 * (IN_TREE_PLUGINS, inTreeRegistry) for the runner of @schedmesh/scheduling.
 */
export { IN_TREE_PLUGINS, inTreeRegistry } from './registry.js';
export { brokenLinearFunction, defaultNormalizeScore } from './helpers/normalize.js';
export type { FunctionShapePoint } from './helpers/normalize.js';
export type { NodeAffinityArgs } from './nodeaffinity/args.js';
export type { NodeResourcesFitArgs } from './noderesourcesfit/args.js';
export type { NodeResourcesBalancedAllocationArgs } from './noderesourcesbalancedallocation/args.js';
export type { PodTopologySpreadArgs } from './podtopologyspread/args.js';
export type { InterPodAffinityArgs } from './interpodaffinity/args.js';
export type { TopologyAwareArgs } from './topologyaware/args.js';
export { PREFERRED_RACK_KEY, PREFERRED_ZONE_KEY } from './topologyaware/args.js';
export type { DefaultPreemptionArgs } from './defaultpreemption/args.js';
