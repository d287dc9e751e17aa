import { expect, test } from '@jest/globals';
import { PodPhase } from '@schedmesh/proto/v1/types';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { ClusterState } from './cluster-state.js';
import type { LedgerChange } from './cluster-state.js';
import { nodeEvent, podEvent } from './testing/harness.js';

function run(events: ClusterEvent[]): { state: ClusterState; changes: string[][] } {
  const state = new ClusterState();
  const changes = events.map((e, i) => state.apply({ ...e, generation: i + 1 }).map(label));
  return { state, changes };
}

function label(c: LedgerChange): string {
  switch (c.kind) {
    case 'node':
    case 'node-deleted':
      return `${c.kind} ${c.node}`;
    default:
      return `${c.kind} ${c.pod.uid}@${c.node ?? '-'}`;
  }
}

const n1 = nodeEvent('n1', { cpu: 1000, pods: 10 });

test.each<[string, ClusterEvent[], string[][]]>([
  ['a node appears, changes, is re-sent unchanged, is deleted', [n1, nodeEvent('n1', { cpu: 2000, pods: 10 }), nodeEvent('n1', { cpu: 2000, pods: 10 }), nodeEvent('n1', {}, { deleted: true })], [['node n1'], ['node n1'], [], ['node-deleted n1']]],
  ['a pending pod is nothing; bound it holds capacity; re-sent it is nothing', [n1, podEvent({ uid: 'a' }), podEvent({ uid: 'a', node: 'n1' }), podEvent({ uid: 'a', node: 'n1' })], [['node n1'], [], ['pod-bound a@n1'], []]],
  ['a bound pod whose requests change is bound again', [n1, podEvent({ uid: 'a', node: 'n1', requests: { cpu: 1 } }), podEvent({ uid: 'a', node: 'n1', requests: { cpu: 2 } })], [['node n1'], ['pod-bound a@n1'], ['pod-bound a@n1']]],
  ['terminal phases release a bound pod', [n1, podEvent({ uid: 'a', node: 'n1' }), podEvent({ uid: 'a', node: 'n1', phase: PodPhase.POD_PHASE_SUCCEEDED })], [['node n1'], ['pod-bound a@n1'], ['pod-released a@n1']]],
  ['a pending pod that fails gives back any lease', [podEvent({ uid: 'a' }), podEvent({ uid: 'a', phase: PodPhase.POD_PHASE_FAILED })], [[], ['pod-released a@-']]],
  ['a delete that carries only the key releases the pod remembered under it', [n1, podEvent({ uid: 'a', node: 'n1' }), podEvent({ uid: '', name: 'a', deleted: true })], [['node n1'], ['pod-bound a@n1'], ['pod-released a@n1']]],
  ['a delete of a pod never seen releases by uid', [podEvent({ uid: 'x', deleted: true })], [['pod-released x@-']]],
  ['a pod re-created under the same name with a new uid releases the old one', [n1, podEvent({ uid: 'old', name: 'web', node: 'n1' }), podEvent({ uid: 'new', name: 'web' })], [['node n1'], ['pod-bound old@n1'], ['pod-released old@n1']]],
])('%s', (_, events, expected) => {
  expect(run(events).changes).toEqual(expected);
});

test('memory keeps what a rebuild needs: capacities, bound pods per node, gang members, the generation', () => {
  const { state } = run([
    n1,
    nodeEvent('n2', { cpu: 500, pods: 5, scalar: { 'nvidia.com/gpu': 2 } }),
    podEvent({ uid: 'a', node: 'n1', requests: { cpu: 100 }, group: { name: 'g', minMember: 2 } }),
    podEvent({ uid: 'b', node: 'n1', requests: { cpu: 200 } }),
    podEvent({ uid: 'c', node: 'n2', requests: { cpu: 300 }, phase: PodPhase.POD_PHASE_SUCCEEDED }),
    nodeEvent('n3', {}, { deleted: true }),
  ]);
  expect(state.generation).toBe(6);
  expect(state.nodeNames()).toEqual(['n1', 'n2']);
  expect(state.deletedNodeNames()).toEqual(['n3']);
  expect(state.capacity('n2')).toEqual(new Map([['cpu', 500], ['memory', 0], ['ephemeral-storage', 0], ['pods', 5], ['nvidia.com/gpu', 2]]));
  expect(state.boundPods('n1').map((p) => [p.uid, Object.fromEntries(p.demand)])).toEqual([
    ['a', { cpu: 100, pods: 1 }],
    ['b', { cpu: 200, pods: 1 }],
  ]);
  expect(state.boundPods('n2')).toEqual([]);
  expect(state.boundNodeOf('a')).toBe('n1');
  expect(state.boundNodeOf('c')).toBeUndefined();
  expect([...state.boundGroupMembers('default/g')]).toEqual(['a']);
});
