/**
 * NodePorts: a pod's host ports must be free on the node, for the same
 * protocol on the same address or on 0.0.0.0 (upstream nodeports.NodePorts).
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/nodeports/node_ports.go.
 */
import { definePlugin, PluginNames, StateKey, Status } from '@schedmesh/framework';
import type { CycleState, FilterPlugin, NodeInfo, PodInfo, PreFilterPlugin, PreFilterResult, ReadonlyCycleState, StateData } from '@schedmesh/framework';
import type { HostPort } from '@schedmesh/proto/v1/types';

/** The Filter reason. */
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";

class PreFilterState implements StateData {
  constructor(readonly ports: readonly HostPort[]) {}
  clone(): this {
    return this;
  }
}

const PRE_FILTER_KEY = new StateKey<PreFilterState>(`PreFilter${PluginNames.NodePorts}`);

/** Whether none of the ports conflicts with what the node uses. */
export function fitsPorts(ports: readonly HostPort[], nodeInfo: NodeInfo): boolean {
  for (const p of ports) if (nodeInfo.usedPorts.conflicts(p)) return false;
  return true;
}

class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = PluginNames.NodePorts;

  async preFilter(state: CycleState, pod: PodInfo): Promise<PreFilterResult> {
    const ports = pod.pod.hostPorts.filter((p) => p.port > 0);
    if (ports.length === 0) return { status: Status.SKIP };
    state.write(PRE_FILTER_KEY, new PreFilterState(ports));
    return { status: Status.SUCCESS };
  }

  filter(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const ports = state.read(PRE_FILTER_KEY)?.ports ?? pod.pod.hostPorts;
    if (ports.length === 0 || nodeInfo.usedPorts.size === 0) return Status.SUCCESS;
    return fitsPorts(ports, nodeInfo) ? Status.SUCCESS : Status.unschedulable(REASON_PORTS);
  }
}

/** The NodePorts factory. */
export const nodePortsPlugin = definePlugin({
  name: PluginNames.NodePorts,
  points: ['preFilter', 'filter'],
  create: () => new NodePorts(),
});
