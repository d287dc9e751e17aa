import { describe, expect, test } from '@jest/globals';
import { node, pod } from '@schedmesh/testkit';
import { NodeInfo as NodeInfoMessage } from '@schedmesh/proto/v1/snapshot';
import { ClusterEventType, PodPhase } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Node, Pod } from '@schedmesh/proto/v1/types';
import { ClusterSnapshot } from './cluster-snapshot.js';
import { toNodeInfoMessage } from './node-info-message.js';
import { newPodInfo } from './pod-info.js';

function at(generation: number, object: Node | Pod, type: 'upsert' | 'delete' = 'upsert'): ClusterEvent {
  const t = type === 'delete' ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
  return 'unschedulable' in object ? { generation, type: t, object: { $case: 'node', value: object } } : { generation, type: t, object: { $case: 'pod', value: object } };
}

describe('NodeInfo.generation: the stream generation that last changed the node', () => {
  test('set by node and pod events of that node only', () => {
    const s = new ClusterSnapshot();
    s.apply(at(1, node('n1').build()));
    s.apply(at(2, node('n2').build()));
    expect([s.nodeInfo('n1')?.generation, s.nodeInfo('n2')?.generation]).toEqual([1, 2]);
    s.apply(at(3, pod('a').node('n1').req({ cpu: '1' }).build()));
    s.apply(at(4, pod('pending').req({ cpu: '1' }).build())); // holds no node
    expect([s.nodeInfo('n1')?.generation, s.nodeInfo('n2')?.generation]).toEqual([3, 2]);
    s.apply(at(5, pod('a').node('n2').req({ cpu: '1' }).build())); // moved: both change
    expect([s.nodeInfo('n1')?.generation, s.nodeInfo('n2')?.generation]).toEqual([5, 5]);
    s.apply(at(6, node('n1').label('zone', 'a').build()));
    expect(s.nodeInfo('n1')?.generation).toBe(6);
    expect(s.generation).toBe(6);
  });

  test('a clone keeps it; the revision moves with every change, the clone\'s apart', () => {
    const s = new ClusterSnapshot();
    s.apply(at(7, node('n1').capacity({ cpu: '4' }).build()));
    const info = s.nodeInfo('n1')!;
    const before = info.revision;
    const copy = info.clone();
    expect([copy.generation, copy.revision]).toEqual([7, before]);
    copy.addPod(newPodInfo(pod('sim').node('n1').req({ cpu: '3' }).build()));
    expect(copy.revision).not.toBe(before);
    expect(copy.requested.milliCpu).toBe(3000);
    expect([info.revision, info.requested.milliCpu, info.pods.length]).toEqual([before, 0, 0]);
    expect(copy.removePod(pod('sim').build().uid)).toBe(true);
    expect(copy.pods).toEqual([]);
  });
});

describe('toNodeInfoMessage', () => {
  test('the node, the sums, the pods holding it, the distinct host ports as declared, the generation', () => {
    const s = new ClusterSnapshot();
    s.apply(at(1, node('n1').capacity({ cpu: '8', memory: '32Gi' }).build()));
    s.apply(at(2, pod('a').node('n1').req({ cpu: '500m', memory: '1Gi' }).hostPort(8080).hostPort(53, 'UDP', '10.0.0.1').build()));
    s.apply(at(3, pod('b').node('n1').hostPort(8080).build()));
    s.apply(at(4, pod('done').node('n1').req({ cpu: '4' }).phase(PodPhase.POD_PHASE_SUCCEEDED).build())); // holds nothing
    const message = toNodeInfoMessage(s.nodeInfo('n1')!);
    expect(message.node?.name).toBe('n1');
    expect(message.requested).toMatchObject({ milliCpu: 500, memory: 1024 ** 3, pods: 2 });
    expect(message.nonZeroRequested).toMatchObject({ milliCpu: 500, pods: 2 }); // b has no container, so no non-zero default
    expect(message.pods.map((p) => p.name)).toEqual(['a', 'b']);
    expect(message.usedPorts).toEqual([
      { port: 8080, protocol: 1, hostIp: '' },
      { port: 53, protocol: 2, hostIp: '10.0.0.1' },
    ]);
    expect(message.generation).toBe(3);
    // A valid message: encoding and decoding it loses nothing.
    expect(NodeInfoMessage.decode(NodeInfoMessage.encode(message).finish())).toEqual(NodeInfoMessage.fromPartial(message));
  });

  test('the sums are copies: the snapshot changing later does not change a message already built', () => {
    const s = new ClusterSnapshot();
    s.apply(at(1, node('n1').build()));
    s.apply(at(2, pod('a').node('n1').req({ cpu: '1' }).build()));
    const message = toNodeInfoMessage(s.nodeInfo('n1')!);
    s.apply(at(3, pod('b').node('n1').req({ cpu: '2' }).build()));
    expect(message.requested?.milliCpu).toBe(1000);
    expect(message.pods).toHaveLength(1);
    expect(toNodeInfoMessage(s.nodeInfo('n1')!).requested?.milliCpu).toBe(3000);
  });
});
