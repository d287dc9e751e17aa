/**
 * The NodeInfo the snapshot service serves (proto schedmesh.v1.NodeInfo),
 * made from the one aggregation (a framework NodeInfo of ClusterSnapshot).
 */
import type { NodeInfo } from '@schedmesh/framework';
import type { NodeInfo as NodeInfoMessage } from '@schedmesh/proto/v1/snapshot';
import type { HostPort, Pod, Resources } from '@schedmesh/proto/v1/types';

function copyResources(r: Readonly<Resources>): Resources {
  return { milliCpu: r.milliCpu, memory: r.memory, ephemeralStorage: r.ephemeralStorage, pods: r.pods, scalar: { ...r.scalar } };
}

/**
 * The proto message of a NodeInfo: the node, the sums (copied: the snapshot
 * changes its own in place), the pods that hold the node, every distinct
 * (protocol, hostIp, port) in use as the pods declare it, and the stream
 * generation that last changed the node. Node and Pod messages are shared,
 * not copied: the snapshot replaces them, never mutates them.
 */
export function toNodeInfoMessage(info: NodeInfo): NodeInfoMessage {
  const ports = new Map<string, HostPort>();
  const pods: Pod[] = [];
  for (const { pod } of info.pods) {
    pods.push(pod);
    for (const port of pod.hostPorts) {
      const key = `${port.protocol}/${port.hostIp}/${port.port}`;
      if (!ports.has(key)) ports.set(key, port);
    }
  }
  return {
    node: info.node,
    requested: copyResources(info.requested),
    nonZeroRequested: copyResources(info.nonZeroRequested),
    pods,
    usedPorts: [...ports.values()],
    generation: info.generation,
  };
}
