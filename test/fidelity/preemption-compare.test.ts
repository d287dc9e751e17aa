// The preemption aspect's rule: kube-scheduler's pick among candidates that
// tie on upstream's first four rules is accepted, its victims on that node
// must be schedmesh's exactly.
import { expect, test } from '@jest/globals';
import type { FindPreemptionCandidatesResponse, PreemptionCandidate } from '@schedmesh/proto/v1/filterscore';
import { preemptionDifference } from './preemption-compare.js';

const candidate = (nodeName: string, victims: [string, number][], numPdbViolations = 0): PreemptionCandidate => ({
  nodeName,
  victims: victims.map(([name, priority]) => ({ pod: { uid: name, namespace: 'fidelity', name }, priority })),
  numPdbViolations,
  lowerPriorityNominated: [],
});
const search = (...candidates: PreemptionCandidate[]): FindPreemptionCandidatesResponse => ({ generation: 1, candidates, summary: candidates.length ? '' : '0/2 nodes are available: 2 Insufficient cpu.', clearNomination: false });

test('a node tied with schedmesh\'s best on PDB violations, highest and summed priority and victim count is accepted; a worse one is not', () => {
  const mesh = search(candidate('a', [['a-1', 2]]), candidate('b', [['b-1', 2]]), candidate('c', [['c-1', 3]]));
  expect(preemptionDifference({ kube: { nominatedNode: 'b', victims: ['b-1'] }, mesh })).toBeUndefined();
  expect(preemptionDifference({ kube: { nominatedNode: 'c', victims: ['c-1'] }, mesh })).toMatch(/nominated c.*schedmesh ranks it 0\/3\/3\/1.*best \(0\/2\/2\/1\): a, b/);
});

test('fewer PDB violations outrank lower priorities', () => {
  const mesh = search(candidate('b', [['b-1', 3]]), candidate('a', [['a-1', 1]], 1));
  expect(preemptionDifference({ kube: { nominatedNode: 'a', victims: ['a-1'] }, mesh })).toMatch(/best \(0\/3\/3\/1\): b/);
});

test('the victims on the nominated node must be the same set', () => {
  const mesh = search(candidate('a', [['a-2', 2], ['a-1', 1]]));
  expect(preemptionDifference({ kube: { nominatedNode: 'a', victims: ['a-1', 'a-2'] }, mesh })).toBeUndefined();
  expect(preemptionDifference({ kube: { nominatedNode: 'a', victims: ['a-1'] }, mesh })).toMatch(/schedmesh's victims on a: \[a-1, a-2\]/);
});

test('no candidate on one side only is a difference; on both, agreement', () => {
  expect(preemptionDifference({ kube: { nominatedNode: undefined, victims: [] }, mesh: search() })).toBeUndefined();
  expect(preemptionDifference({ kube: { nominatedNode: undefined, victims: [] }, mesh: search(candidate('a', [['a-1', 1]])) })).toMatch(/nominated no node; schedmesh: best candidate a/);
  expect(preemptionDifference({ kube: { nominatedNode: 'a', victims: ['a-1'] }, mesh: search() })).toMatch(/schedmesh: no candidate \(0\/2 nodes/);
});
