/**
 * NodeName: a pod that names its node (spec.nodeName) fits only there
 * (upstream nodename.NodeName).
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/nodename/node_name.go.
 */
import { definePlugin, PluginNames, Status } from '@schedmesh/framework';
import type { FilterPlugin, NodeInfo, PodInfo, ReadonlyCycleState } from '@schedmesh/framework';

/** The Filter reason. */
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";

class NodeName implements FilterPlugin {
  readonly name = PluginNames.NodeName;

  filter(_state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const wanted = pod.pod.nodeName;
    if (wanted === '' || wanted === nodeInfo.name) return Status.SUCCESS;
    return Status.unresolvable(REASON_NODE_NAME);
  }
}

/** The NodeName factory. */
export const nodeNamePlugin = definePlugin({
  name: PluginNames.NodeName,
  points: ['filter'],
  create: () => new NodeName(),
});
