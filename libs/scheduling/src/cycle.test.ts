// The cycle runner's own arithmetic: upstream schedule_one_test.go TestNumFeasibleNodesToFind and the
// FitError message (framework/types_test.go TestFitError_Error). The cycle over the in-tree plugins
// (rotation, PreFilter narrowing, nominated pods, weighted totals) is tested in @schedmesh/plugins
// (src/cycle.test.ts): this package never depends on the plugins. Extenders: extenders.test.ts.
import { describe, expect, test } from '@jest/globals';
import { Status } from '@schedmesh/framework';
import { Diagnosis, fitErrorMessage, numFeasibleNodesToFind, rankNodes, summarizeScores } from './cycle.js';

describe('numFeasibleNodesToFind (TestNumFeasibleNodesToFind)', () => {
  test.each([
    ['not set percentageOfNodesToScore and nodes number not more than 50', 0, 10, 10],
    ['set percentageOfNodesToScore and nodes number not more than 50', 40, 10, 10],
    ['not set percentageOfNodesToScore and nodes number more than 50', 0, 1000, 420],
    ['set percentageOfNodesToScore and nodes number more than 50', 40, 1000, 400],
    ['not set percentageOfNodesToScore and nodes number more than 50*125', 0, 6000, 300],
    ['set percentageOfNodesToScore and nodes number more than 50*125', 40, 6000, 2400],
    ['adaptive at 5,000 nodes', 0, 5000, 500],
    ['adaptive at 15,000 nodes (5% floor)', 0, 15000, 750],
    ['never fewer than 100', 0, 150, 100],
  ])('%s', (_name, percentage, nodes, want) => {
    expect(numFeasibleNodesToFind(percentage, nodes)).toBe(want);
  });
});

describe('the explanation (TestFitError_Error)', () => {
  test('reasons are counted per node and sorted as strings; absent nodes share the absent status', () => {
    const d = new Diagnosis();
    d.set('n1', Status.unschedulable('Insufficient cpu'));
    d.set('n2', Status.unschedulable('Insufficient cpu', 'Insufficient memory'));
    d.set('n3', Status.unresolvable("node(s) didn't match Pod's node affinity/selector"));
    d.absentStatus = Status.unresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]");
    expect(fitErrorMessage(12, d)).toBe(
      "0/12 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu, 9 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    );
  });
});

describe('rankNodes (selectHost)', () => {
  const score = (name: string, total: number) => ({ name, total, scores: [] });

  test.each([
    ['a random key orders ties', [0.9, 0.1, 0.5], ['b', 'c', 'a']],
    ['another draw, another order', [0.1, 0.9, 0.5], ['a', 'c', 'b']],
  ])('%s; higher totals always come first', (_, keys, tiedOrder) => {
    let i = 0;
    const random = (): number => keys[i++ % keys.length]!;
    const ranked = rankNodes([score('a', 10), score('b', 10), score('c', 10), score('low', 3), score('high', 20)], random);
    expect(ranked.map((r) => r.name)).toEqual(['high', ...tiedOrder, 'low']);
  });

  test.each([1, 2, 3, 5, 8])('the best %i are the first of the whole ranking, with the same draws', (limit) => {
    const scores = Array.from({ length: 40 }, (_, i) => score(`n${i}`, (i * 7) % 5));
    const draws = Array.from({ length: scores.length }, (_, i) => ((i * 37) % 41) / 41);
    const replay = (): (() => number) => {
      let i = 0;
      return () => draws[i++]!;
    };
    const all = rankNodes(scores, replay()).map((r) => r.name);
    expect(rankNodes(scores, replay(), limit).map((r) => r.name)).toEqual(all.slice(0, limit));
  });

  test('over many draws every tied node comes first, none of the lower ones', () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 200; i++) firsts.add(rankNodes([score('a', 7), score('b', 7), score('c', 7), score('d', 6)])[0]!.name);
    expect([...firsts].sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('summarizeScores (the bounded view of a cycle that traces carry)', () => {
  const node = (name: string, scores: [string, number][]) => ({ name, total: 0, scores: scores.map(([plugin, score]) => ({ plugin, score, weight: plugin === 'TaintToleration' ? 3 : 1 })) });
  test.each([
    ['nothing scored', [], []],
    [
      'one entry per plugin, in the order the plugins ran, over every node',
      [node('a', [['NodeResourcesFit', 80], ['TaintToleration', 100]]), node('b', [['NodeResourcesFit', 20], ['TaintToleration', 100]]), node('c', [['NodeResourcesFit', 50], ['TaintToleration', 0]])],
      [
        { plugin: 'NodeResourcesFit', weight: 1, nodes: 3, min: 20, max: 80, mean: 50 },
        { plugin: 'TaintToleration', weight: 3, nodes: 3, min: 0, max: 100, mean: 200 / 3 },
      ],
    ],
  ])('%s', (_name, scores, want) => {
    expect(summarizeScores(scores)).toEqual(want);
  });
});
