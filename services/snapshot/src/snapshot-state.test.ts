import { describe, expect, test } from '@jest/globals';
import type { NodeInfo as NodeInfoMessage } from '@schedmesh/proto/v1/snapshot';
import { AdmissionPolicy, ClusterEventType, ConfigMap, PodPhase } from '@schedmesh/proto/v1/types';
import { ClusterSnapshot, toNodeInfoMessage } from '@schedmesh/scheduling';
import { clusterEvent, makeNode, makePod } from '@schedmesh/testkit';
import { SnapshotState } from './snapshot-state.js';

const GiB = 1024 ** 3;

function stateWith(...events: Parameters<typeof clusterEvent>[]): SnapshotState {
  const state = new SnapshotState();
  events.forEach((args, i) => state.apply({ ...clusterEvent(...args), generation: i + 1 }));
  return state;
}

describe('NodeInfo aggregation', () => {
  test('requested, non-zero requested, pods and ports sum the bound pods', () => {
    const state = stateWith(
      [makeNode('n1').capacity('8', '32Gi').build()],
      [makePod('a').requests('500m', '1Gi').on('n1').hostPort(8080).build()],
      [makePod('b').requests('0', '0').on('n1').build()],
      [makePod('pending').requests('2', '2Gi').build()],
    );
    const info = state.nodeInfoMessage('n1')!;
    expect(info.requested).toMatchObject({ milliCpu: 500, memory: GiB, pods: 2 });
    // b requests nothing: scoring counts it as 100m / 200Mi, as upstream does.
    expect(info.nonZeroRequested).toMatchObject({ milliCpu: 600, memory: GiB + 200 * 1024 ** 2 });
    expect(info.pods.map((p) => p.name).sort()).toEqual(['a', 'b']);
    expect(info.usedPorts).toEqual([{ port: 8080, protocol: 1, hostIp: '' }]);
    expect(info.generation).toBe(3);
    expect(state.generation).toBe(4);
  });

  test('a pod moving, finishing or being deleted releases what it held', () => {
    const state = stateWith(
      [makeNode('n1').build()],
      [makeNode('n2').build()],
      [makePod('a').requests('1', '1Gi').on('n1').hostPort(80).build()],
    );
    state.apply({ ...clusterEvent(makePod('a').requests('1', '1Gi').on('n2').hostPort(80).build()), generation: 4 });
    expect(state.nodeInfoMessage('n1')!.requested!.milliCpu).toBe(0);
    expect(state.nodeInfoMessage('n1')!.usedPorts).toEqual([]);
    expect(state.nodeInfoMessage('n2')!.requested!.milliCpu).toBe(1000);

    state.apply({ ...clusterEvent(makePod('a').requests('1', '1Gi').on('n2').phase(PodPhase.POD_PHASE_SUCCEEDED).build()), generation: 5 });
    expect(state.nodeInfoMessage('n2')!.requested!.milliCpu).toBe(0);
    expect(state.podByName('default', 'a')?.phase).toBe(PodPhase.POD_PHASE_SUCCEEDED);

    state.apply({ ...clusterEvent(makePod('a').build(), 'delete'), generation: 6 });
    expect(state.podByName('default', 'a')).toBeUndefined();
    expect(state.podSize).toBe(0);
  });

  test('a pod recreated under the same name replaces the old uid', () => {
    const state = stateWith(
      [makeNode('n1').build()],
      [makePod('db-0').uid('old').requests('1', '1Gi').on('n1').build()],
      [makePod('db-0').uid('new').requests('2', '1Gi').on('n1').build()],
    );
    expect(state.podByUid('old')).toBeUndefined();
    expect(state.nodeInfoMessage('n1')!.requested!.milliCpu).toBe(2000);
    expect(state.nodeInfoMessage('n1')!.pods.map((p) => p.uid)).toEqual(['new']);
  });

  test('pods that arrive before their node are counted once the node arrives', () => {
    const state = stateWith([makePod('early').requests('1', '0').on('n9').build()]);
    expect(state.nodeInfoMessage('n9')).toBeUndefined();
    expect(state.nodeInfoMessages()).toEqual([]);
    state.apply({ ...clusterEvent(makeNode('n9').build()), generation: 2 });
    expect(state.nodeInfoMessage('n9')!.requested!.milliCpu).toBe(1000);
  });

  test('a deleted node stops being listed; its pods come back with it', () => {
    const state = stateWith([makeNode('n1').build()], [makePod('a').requests('1', '0').on('n1').build()], [makeNode('n1').build(), 'delete']);
    expect(state.nodeSize).toBe(0);
    expect(state.nodeInfoMessage('n1')).toBeUndefined();
    state.apply({ ...clusterEvent(makeNode('n1').build()), generation: 4 });
    expect(state.nodeInfoMessage('n1')!.requested!.milliCpu).toBe(1000);
  });

  test('the full state rebuilds an identical replica', () => {
    const state = stateWith(
      [makeNode('n1').zone('a').build()],
      [makeNode('n2').zone('b').build()],
      [makePod('a').requests('1', '1Gi').on('n1').build()],
      [makePod('b').requests('1', '1Gi').on('n2').build()],
      [makePod('c').build()],
      [makeNode('n2').zone('b').build(), 'delete'],
    );
    const replica = new SnapshotState();
    for (const event of state.fullState()) replica.apply(event);
    expect(replica.generation).toBe(state.generation);
    // Per-node generations differ: a replica from a full state knows only the state's generation.
    const strip = (s: SnapshotState) => s.nodeInfoMessages().map(({ generation: _, ...rest }) => rest);
    expect(strip(replica)).toEqual(strip(state));
    expect(replica.nodeInfoMessages().every((i) => i.generation === state.generation)).toBe(true);
    expect(replica.podSize).toBe(3);
  });
});

describe('one model with the replicas', () => {
  test('GetNode serves exactly the NodeInfo a ClusterSnapshot replica computes from the same stream', () => {
    const state = stateWith(
      [makeNode('n1').capacity('8', '32Gi').zone('a').build()],
      [makePod('a').requests('500m', '1Gi').on('n1').hostPort(8080).build()],
      [makePod('b').requests('1', '2Gi').on('n1').build()],
      [makePod('done').requests('4', '1Gi').on('n1').phase(PodPhase.POD_PHASE_FAILED).build()],
    );
    const replica = new ClusterSnapshot();
    for (const event of state.fullState()) replica.apply(event);
    const strip = ({ generation: _, ...rest }: NodeInfoMessage) => rest;
    expect(strip(toNodeInfoMessage(replica.nodeInfo('n1')!))).toEqual(strip(state.nodeInfoMessage('n1')!));
  });

  test("the full state carries the Services' and controllers' selectors to a replica", () => {
    const state = new SnapshotState();
    const upsert = ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
    const selector = { matchLabels: { app: 'web' }, matchExpressions: [] };
    state.apply({ generation: 1, type: upsert, object: { $case: 'service', value: { namespace: 'shop', name: 'web', resourceVersion: '1', selector } } });
    state.apply({ generation: 2, type: upsert, object: { $case: 'replicationController', value: { namespace: 'shop', name: 'web-rc', resourceVersion: '1', selector } } });
    const replica = new ClusterSnapshot();
    for (const event of state.fullState()) replica.apply(event);
    expect(replica.services('shop')).toEqual([{ namespace: 'shop', name: 'web', resourceVersion: '1', selector }]);
    expect(replica.controller('ReplicationController', 'shop', 'web-rc')?.selector).toEqual(selector);
  });

  test('a message is rebuilt only after its node changed', () => {
    const state = stateWith([makeNode('n1').build()], [makeNode('n2').build()], [makePod('a').requests('1', '1Gi').on('n1').build()]);
    const first = state.nodeInfoMessage('n1');
    expect(state.nodeInfoMessage('n1')).toBe(first);
    state.apply({ ...clusterEvent(makePod('b').requests('1', '1Gi').on('n2').build()), generation: 4 });
    expect(state.nodeInfoMessage('n1')).toBe(first);
    state.apply({ ...clusterEvent(makePod('c').requests('1', '1Gi').on('n1').build()), generation: 5 });
    expect(state.nodeInfoMessage('n1')).not.toBe(first);
    expect(state.nodeInfoMessage('n1')?.generation).toBe(5);
  });

  test('only Node objects that exist or change count as node changes; policies and config maps move the generation', () => {
    const state = new SnapshotState();
    const upsert = ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
    expect(state.apply({ ...clusterEvent(makeNode('ghost').build(), 'delete'), generation: 1 }).nodeObjectChanged).toBe(false);
    expect(state.apply({ ...clusterEvent(makeNode('n1').build()), generation: 2 }).nodeObjectChanged).toBe(true);
    expect(state.apply({ ...clusterEvent(makePod('a').on('n1').build()), generation: 3 }).nodeObjectChanged).toBe(false);
    const policy = AdmissionPolicy.fromPartial({ name: 'p1' });
    const configMap = ConfigMap.fromPartial({ namespace: 'ns', name: 'plugins' });
    expect(state.apply({ generation: 4, type: upsert, object: { $case: 'admissionPolicy', value: policy } }).nodeObjectChanged).toBe(false);
    expect(state.apply({ generation: 5, type: upsert, object: { $case: 'configMap', value: configMap } }).nodeObjectChanged).toBe(false);
    expect(state.generation).toBe(5);
    expect([...state.fullState()].map((e) => e.object?.$case)).toEqual(['node', 'pod', 'admissionPolicy', 'configMap']);
    expect(state.apply({ ...clusterEvent(makeNode('n1').build(), 'delete'), generation: 6 }).nodeObjectChanged).toBe(true);
    state.clear();
    expect([state.generation, state.nodeSize, state.podSize, [...state.fullState()].length]).toEqual([0, 0, 0, 0]);
  });
});
