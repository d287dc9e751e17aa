/**
 * Plugin names: the constants every config, registry entry and Status.plugin
 * uses. Upstream's names where the plugin mirrors an upstream one.
 */
export const PluginNames = {
  PrioritySort: 'PrioritySort',
  NodeName: 'NodeName',
  NodeUnschedulable: 'NodeUnschedulable',
  TaintToleration: 'TaintToleration',
  NodeAffinity: 'NodeAffinity',
  NodePorts: 'NodePorts',
  NodeResourcesFit: 'NodeResourcesFit',
  NodeResourcesBalancedAllocation: 'NodeResourcesBalancedAllocation',
  ImageLocality: 'ImageLocality',
  PodTopologySpread: 'PodTopologySpread',
  InterPodAffinity: 'InterPodAffinity',
  TopologyAware: 'TopologyAware',
  DefaultPreemption: 'DefaultPreemption',
} as const;

/** The name of an in-tree plugin. */
export type PluginName = (typeof PluginNames)[keyof typeof PluginNames];
