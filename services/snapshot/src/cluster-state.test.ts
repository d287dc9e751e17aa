import { describe, expect, test } from '@jest/globals';
import { PodPhase } from '@schedmesh/proto/v1/types';
import { clusterEvent, makeNode, makePod } from '@schedmesh/testkit';
import { ClusterState } from './cluster-state.js';

const GiB = 1024 ** 3;

function stateWith(...events: Parameters<typeof clusterEvent>[]): ClusterState {
  const state = new ClusterState();
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
    const info = state.nodeInfo('n1')!;
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
    expect(state.nodeInfo('n1')!.requested!.milliCpu).toBe(0);
    expect(state.nodeInfo('n1')!.usedPorts).toEqual([]);
    expect(state.nodeInfo('n2')!.requested!.milliCpu).toBe(1000);

    state.apply({ ...clusterEvent(makePod('a').requests('1', '1Gi').on('n2').phase(PodPhase.POD_PHASE_SUCCEEDED).build()), generation: 5 });
    expect(state.nodeInfo('n2')!.requested!.milliCpu).toBe(0);
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
    expect(state.nodeInfo('n1')!.requested!.milliCpu).toBe(2000);
    expect(state.nodeInfo('n1')!.pods.map((p) => p.uid)).toEqual(['new']);
  });

  test('pods that arrive before their node are counted once the node arrives', () => {
    const state = stateWith([makePod('early').requests('1', '0').on('n9').build()]);
    expect(state.nodeInfo('n9')).toBeUndefined();
    expect(state.nodeInfos()).toEqual([]);
    state.apply({ ...clusterEvent(makeNode('n9').build()), generation: 2 });
    expect(state.nodeInfo('n9')!.requested!.milliCpu).toBe(1000);
  });

  test('a deleted node stops being listed; its pods come back with it', () => {
    const state = stateWith([makeNode('n1').build()], [makePod('a').requests('1', '0').on('n1').build()], [makeNode('n1').build(), 'delete']);
    expect(state.nodeSize).toBe(0);
    expect(state.nodeInfo('n1')).toBeUndefined();
    state.apply({ ...clusterEvent(makeNode('n1').build()), generation: 4 });
    expect(state.nodeInfo('n1')!.requested!.milliCpu).toBe(1000);
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
    const replica = new ClusterState();
    for (const event of state.fullState()) replica.apply(event);
    expect(replica.generation).toBe(state.generation);
    // Per-node generations differ: a replica from a full state knows only the state's generation.
    const strip = (s: ClusterState) => s.nodeInfos().map(({ generation: _, ...rest }) => rest);
    expect(strip(replica)).toEqual(strip(state));
    expect(replica.nodeInfos().every((i) => i.generation === state.generation)).toBe(true);
    expect(replica.podSize).toBe(3);
  });
});
