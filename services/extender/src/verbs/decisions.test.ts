import { describe, expect, test } from '@jest/globals';
import { makePod } from '@schedmesh/testkit';
import { DecisionCache } from './decisions.js';

const pod = makePod('p').build();
const scores = new Map([
  ['a', 10],
  ['b', 4],
]);

function cache(options: { maxEntries?: number } = {}): { decisions: DecisionCache; clock: { t: number } } {
  const clock = { t: 0 };
  return { decisions: new DecisionCache({ maxAgeMs: 1_000, maxEntries: options.maxEntries ?? 8, now: () => clock.t }), clock };
}

describe('DecisionCache', () => {
  test('prioritize over exactly the feasible nodes, in any order, gets filter’s scores once', () => {
    const { decisions } = cache();
    decisions.put(pod, ['a', 'b'], scores);
    expect(decisions.take(pod, ['b', 'a'])).toBe(scores);
    expect(decisions.take(pod, ['b', 'a'])).toBeUndefined();
  });

  test.each([
    ['a node filter did not find feasible', ['a', 'c']],
    ['fewer nodes', ['a']],
    ['more nodes', ['a', 'b', 'c']],
  ])('%s: no answer, and the entry is gone', (_, names) => {
    const { decisions } = cache();
    decisions.put(pod, ['a', 'b'], scores);
    expect(decisions.take(pod, names)).toBeUndefined();
    expect(decisions.size).toBe(0);
  });

  test('another version of the pod, or another pod, is not answered from it', () => {
    const { decisions } = cache();
    decisions.put(pod, ['a', 'b'], scores);
    expect(decisions.take(makePod('p').version('2').build(), ['a', 'b'])).toBeUndefined();
    decisions.put(pod, ['a', 'b'], scores);
    expect(decisions.take(makePod('q').build(), ['a', 'b'])).toBeUndefined();
    expect(decisions.take(pod, ['a', 'b'])).toBe(scores);
  });

  test('a decision older than maxAgeMs is not used', () => {
    const { decisions, clock } = cache();
    decisions.put(pod, ['a', 'b'], scores);
    clock.t = 1_001;
    expect(decisions.take(pod, ['a', 'b'])).toBeUndefined();
  });

  test('forget drops the pod’s decision (a new cycle filters again)', () => {
    const { decisions } = cache();
    decisions.put(pod, ['a', 'b'], scores);
    decisions.forget(pod);
    expect(decisions.take(pod, ['a', 'b'])).toBeUndefined();
  });

  test('at most maxEntries are kept, the oldest dropped first', () => {
    const { decisions } = cache({ maxEntries: 2 });
    const pods = ['p1', 'p2', 'p3'].map((n) => makePod(n).build());
    for (const p of pods) decisions.put(p, ['a'], scores);
    expect(decisions.size).toBe(2);
    expect(decisions.take(pods[0]!, ['a'])).toBeUndefined();
    expect(decisions.take(pods[2]!, ['a'])).toBe(scores);
  });
});
