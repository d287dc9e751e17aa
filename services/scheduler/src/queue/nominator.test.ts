import { expect, test } from '@jest/globals';
import { Pod } from '@schedmesh/proto/v1/types';
import { Nominator } from './nominator.js';

function pod(name: string, nominatedNodeName = '', resourceVersion = '1'): Pod {
  return Pod.fromPartial({ uid: `uid-${name}`, namespace: 'default', name, nominatedNodeName, resourceVersion });
}

const names = (pods: Pod[]): string[] => pods.map((p) => p.name);

test.each<[string, (n: Nominator) => void, Record<string, string[]>]>([
  ['a pod carrying a nomination', (n) => n.add(pod('a', 'n1')), { n1: ['a'] }],
  ['a pod without one is not nominated', (n) => n.add(pod('a')), { n1: [] }],
  ['an explicit node overrides the pod’s field', (n) => n.add(pod('a', 'n1'), 'n2'), { n1: [], n2: ['a'] }],
  ['an empty node clears', (n) => (n.add(pod('a', 'n1')), n.add(pod('a'), '')), { n1: [] }],
  ['nomination order per node', (n) => (n.add(pod('b'), 'n1'), n.add(pod('a'), 'n1')), { n1: ['b', 'a'] }],
  ['re-nominating moves the pod', (n) => (n.add(pod('a'), 'n1'), n.add(pod('a'), 'n2')), { n1: [], n2: ['a'] }],
  ['delete forgets', (n) => (n.add(pod('a'), 'n1'), n.delete('uid-a'), n.delete('uid-x')), { n1: [] }],
  [
    'an update with no nomination on either side keeps the scheduler’s own (the API server has not caught up)',
    (n) => (n.add(pod('a'), 'n1'), n.update(pod('a'), pod('a', '', '2'))),
    { n1: ['a'] },
  ],
  ['an update carrying a nomination takes it', (n) => (n.add(pod('a'), 'n1'), n.update(pod('a'), pod('a', 'n2'))), { n1: [], n2: ['a'] }],
  ['an update that removes the nomination clears it', (n) => (n.add(pod('a', 'n1')), n.update(pod('a', 'n1'), pod('a'))), { n1: [] }],
  ['an update of a pod never nominated stays unnominated', (n) => n.update(undefined, pod('a')), { n1: [] }],
])('%s', (_name, act, want) => {
  const n = new Nominator();
  act(n);
  for (const [node, pods] of Object.entries(want)) expect(names(n.podsFor(node))).toEqual(pods);
});

test('podsFor returns the latest version of the pod', () => {
  const n = new Nominator();
  n.add(pod('a'), 'n1');
  n.update(pod('a'), pod('a', '', '7'));
  expect(n.podsFor('n1')[0]?.resourceVersion).toBe('7');
  expect(n.nodeOf('uid-a')).toBe('n1');
  expect(n.nodeOf('uid-x')).toBeUndefined();
});
