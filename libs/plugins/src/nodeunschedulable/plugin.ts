/**
 * NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods
 * that tolerate the node.kubernetes.io/unschedulable:NoSchedule taint
 * (upstream nodeunschedulable.NodeUnschedulable).
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go.
 */
import { definePlugin, PluginNames, Status } from '@schedmesh/framework';
import type { FilterPlugin, NodeInfo, PodInfo, ReadonlyCycleState } from '@schedmesh/framework';
import { tolerationsTolerateTaint } from '@schedmesh/model';
import { TaintEffect } from '@schedmesh/proto/v1/types';
import type { Taint } from '@schedmesh/proto/v1/types';

/** The Filter reason. */
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

/** The taint a cordoned node implies. */
export const UNSCHEDULABLE_TAINT: Taint = Object.freeze({ key: 'node.kubernetes.io/unschedulable', value: '', effect: TaintEffect.TAINT_EFFECT_NO_SCHEDULE });

class NodeUnschedulable implements FilterPlugin {
  readonly name = PluginNames.NodeUnschedulable;

  filter(_state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.node.unschedulable) return Status.SUCCESS;
    if (tolerationsTolerateTaint(pod.pod.tolerations, UNSCHEDULABLE_TAINT)) return Status.SUCCESS;
    return Status.unresolvable(REASON_UNSCHEDULABLE);
  }
}

/** The NodeUnschedulable factory. */
export const nodeUnschedulablePlugin = definePlugin({
  name: PluginNames.NodeUnschedulable,
  points: ['filter'],
  create: () => new NodeUnschedulable(),
});
