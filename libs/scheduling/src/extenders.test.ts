// Extenders in the cycle (upstream schedule_one_test.go's extender cases and findNodesThatPassExtenders):
// filtering after the Filter plugins, one batched call per extender, rejections as statuses, ignorable
// failures, cancellation; prioritizing with scores scaled by MAX_NODE_SCORE / MAX_EXTENDER_PRIORITY and
// weighted. The profile is made of small local plugins: this package never depends on the in-tree ones.
import { describe, expect, test } from '@jest/globals';
import { definePlugin, EXTENDER_PLUGIN_NAME, MAX_EXTENDER_PRIORITY, MAX_NODE_SCORE, Status, StatusCode } from '@schedmesh/framework';
import type { Extender, ExtenderFilterResult, ExtenderPriorities, FilterPlugin, NodeInfo, PodInfo, QueueSortPlugin, ScorePlugin } from '@schedmesh/framework';
import { node, pod } from '@schedmesh/testkit';
import type { Node, Pod } from '@schedmesh/proto/v1/types';
import { resolveProfiles } from './config.js';
import { evaluatePod, findNodesThatFitPod, fitErrorMessage, prioritizeNodes } from './cycle.js';
import { ExtenderError, REASON_EXTENDER_DROPPED } from './extenders.js';
import { Framework } from './framework.js';
import { Registry } from './registry.js';
import { snapshotOf } from './snapshot/cluster-snapshot.js';
import { newPodInfo } from './snapshot/pod-info.js';

// A node labelled full=true is rejected; a node's label score=N scores N.
const registry = new Registry([
  definePlugin({ name: 'TestSort', points: ['queueSort'], create: (): QueueSortPlugin => ({ name: 'TestSort', less: (a, b) => a.timestamp < b.timestamp }) }),
  definePlugin({
    name: 'TestFull',
    points: ['filter'],
    create: (): FilterPlugin => ({ name: 'TestFull', filter: (_s, _p, n) => (n.node.labels.full === 'true' ? Status.unschedulable('node is full') : Status.SUCCESS) }),
  }),
  definePlugin({ name: 'TestScore', points: ['score'], create: (): ScorePlugin => ({ name: 'TestScore', score: (_s, _p, n) => Number(n.node.labels.score ?? 0) }) }),
]);

function framework(nodes: Node[], extenders: Extender[], options: { scoring?: boolean; onExtenderError?: (e: ExtenderError) => void } = {}): Framework {
  const enabled = [{ name: 'TestSort' }, { name: 'TestFull' }, ...(options.scoring === false ? [] : [{ name: 'TestScore' }])];
  const config = resolveProfiles({ profiles: [{ plugins: { multiPoint: { disabled: [{ name: '*' }], enabled } } }] }, registry);
  const snapshot = snapshotOf(nodes);
  return new Framework({ profile: config.profiles[0]!, registry, snapshot: () => snapshot, extenders, ...(options.onExtenderError ? { onExtenderError: options.onExtenderError } : {}) });
}

/** An extender answering from functions of the node names it is given; it records every call. */
interface FakeExtender extends Extender {
  readonly calls: string[][];
}
function fake(
  name: string,
  answers: { filter?: (names: string[]) => ExtenderFilterResult; prioritize?: (names: string[]) => ExtenderPriorities; ignorable?: boolean; interested?: (p: Pod) => boolean },
): FakeExtender {
  const calls: string[][] = [];
  const call = <T>(answer: ((names: string[]) => T) | undefined) =>
    answer === undefined
      ? undefined
      : async (_pod: PodInfo, nodes: readonly NodeInfo[], signal: AbortSignal): Promise<T> => {
          const names = nodes.map((n) => n.name);
          calls.push(names);
          const reply = answer(names);
          await Promise.resolve(); // the reply travels; the caller's signal may abort meanwhile
          signal.throwIfAborted();
          return reply;
        };
  const filter = call(answers.filter);
  const prioritize = call(answers.prioritize);
  return {
    name,
    calls,
    ignorable: answers.ignorable ?? false,
    isInterested: answers.interested ?? (() => true),
    ...(filter ? { filter } : {}),
    ...(prioritize ? { prioritize } : {}),
  };
}
const passAll = (names: string[]): ExtenderFilterResult => ({ feasible: names, failed: new Map(), failedAndUnresolvable: new Map() });
const failing = (message: string) => (): never => {
  throw new Error(message);
};

const nodes = (...specs: [string, Record<string, string>?][]): Node[] =>
  specs.map(([name, labels = {}]) => Object.entries(labels).reduce((b, [k, v]) => b.label(k, v), node(name).capacity({ cpu: '4', memory: '8Gi' })).build());
const signal = new AbortController().signal;
const thePod = (): PodInfo => newPodInfo(pod('p').build());

describe('filtering extenders (findNodesThatPassExtenders)', () => {
  test.each<[string, (names: string[]) => ExtenderFilterResult, string[], [string, StatusCode, string][]]>([
    ['every node passes', passAll, ['a', 'b', 'c', 'd'], []],
    [
      'failed is Unschedulable, failedAndUnresolvable is UnschedulableAndUnresolvable',
      () => ({ feasible: ['a', 'd'], failed: new Map([['b', 'no gpu free']]), failedAndUnresolvable: new Map([['c', 'wrong rack']]) }),
      ['a', 'd'],
      [
        ['b', StatusCode.Unschedulable, 'no gpu free'],
        ['c', StatusCode.UnschedulableAndUnresolvable, 'wrong rack'],
      ],
    ],
    [
      'unresolvable wins over failed, and a rejection over feasible',
      () => ({ feasible: ['a', 'b', 'c', 'd'], failed: new Map([['b', 'busy'], ['c', 'busy']]), failedAndUnresolvable: new Map([['c', 'gone']]) }),
      ['a', 'd'],
      [
        ['b', StatusCode.Unschedulable, 'busy'],
        ['c', StatusCode.UnschedulableAndUnresolvable, 'gone'],
      ],
    ],
    [
      'a node listed nowhere is dropped as unresolvable',
      () => ({ feasible: ['d', 'a'], failed: new Map(), failedAndUnresolvable: new Map() }),
      ['a', 'd'],
      [
        ['b', StatusCode.UnschedulableAndUnresolvable, REASON_EXTENDER_DROPPED],
        ['c', StatusCode.UnschedulableAndUnresolvable, REASON_EXTENDER_DROPPED],
      ],
    ],
    [
      'rejections of nodes it was not given are ignored',
      () => ({ feasible: ['a', 'b', 'c', 'd'], failed: new Map([['full', 'busy']]), failedAndUnresolvable: new Map([['ghost', 'gone']]) }),
      ['a', 'b', 'c', 'd'],
      [],
    ],
  ])('%s', async (_name, answer, feasible, rejected) => {
    const ext = fake('gpu', { filter: answer });
    const fwk = framework(nodes(['a'], ['b'], ['full', { full: 'true' }], ['c'], ['d']), [ext]);
    const result = await findNodesThatFitPod(fwk, { pod: thePod(), signal });
    expect(ext.calls).toEqual([['a', 'b', 'c', 'd']]); // one batched call with every node the Filter plugins passed
    expect(result.feasible.map((n) => n.name)).toEqual(feasible); // in the order the cycle found them
    const byExtender = result.rejected.filter((r) => r.status.plugin === 'gpu');
    expect(byExtender.map((r) => [r.nodeName, r.status.code, r.status.message()])).toEqual(rejected);
    for (const [n] of rejected) expect(result.diagnosis.get(n).plugin).toBe('gpu');
    expect(result.diagnosis.unschedulablePlugins.has(EXTENDER_PLUGIN_NAME)).toBe(rejected.length > 0);
    expect(result.diagnosis.unschedulablePlugins.has('gpu')).toBe(false);
    expect(result.nodesEvaluated).toBe(5); // the extenders do not change what the Filter plugins examined
  });

  test('extenders run in order, each on what the previous kept', async () => {
    const first = fake('first', { filter: (names) => ({ feasible: names.filter((n) => n !== 'a'), failed: new Map([['a', 'first says no']]), failedAndUnresolvable: new Map() }) });
    const second = fake('second', { filter: (names) => ({ feasible: names.filter((n) => n !== 'b'), failed: new Map([['b', 'second says no']]), failedAndUnresolvable: new Map() }) });
    const third = fake('third', { filter: () => ({ feasible: [], failed: new Map(), failedAndUnresolvable: new Map([['c', 'third says no']]) }) });
    const fourth = fake('fourth', { filter: passAll });
    const fwk = framework(nodes(['a'], ['b'], ['c']), [first, second, third, fourth]);
    const result = await findNodesThatFitPod(fwk, { pod: thePod(), signal });
    expect([first.calls, second.calls, third.calls, fourth.calls]).toEqual([[['a', 'b', 'c']], [['b', 'c']], [['c']], []]);
    expect(result.feasible).toEqual([]);
    expect(fitErrorMessage(result.numAllNodes, result.diagnosis)).toBe('0/3 nodes are available: 1 first says no, 1 second says no, 1 third says no.');
  });

  test('an extender not interested in the pod, or without filter, is not called', async () => {
    const uninterested = fake('picky', { filter: () => ({ feasible: [], failed: new Map(), failedAndUnresolvable: new Map() }), interested: (p) => p.labels.gpu === 'true' });
    const scorer = fake('scorer', { prioritize: (names) => ({ scores: new Map(names.map((n) => [n, 1])), weight: 1 }) });
    const fwk = framework(nodes(['a'], ['b']), [uninterested, scorer]);
    const result = await findNodesThatFitPod(fwk, { pod: thePod(), signal });
    expect(result.feasible.map((n) => n.name)).toEqual(['a', 'b']);
    expect(uninterested.calls).toEqual([]);
    expect(scorer.calls).toEqual([]);
  });

  test('no node passed the Filter plugins: no extender is called', async () => {
    const ext = fake('gpu', { filter: passAll });
    const fwk = framework(nodes(['x', { full: 'true' }], ['y', { full: 'true' }]), [ext]);
    const result = await findNodesThatFitPod(fwk, { pod: thePod(), signal });
    expect(result.feasible).toEqual([]);
    expect(ext.calls).toEqual([]);
    expect(fitErrorMessage(result.numAllNodes, result.diagnosis)).toBe('0/2 nodes are available: 2 node is full.');
  });

  test.each<[string, Extender, string]>([
    ['it throws', fake('remote', { filter: failing('connection refused') }), 'extender remote (filter): connection refused'],
    ['it claims a node it was not given', fake('remote', { filter: () => ({ feasible: ['a', 'ghost'], failed: new Map(), failedAndUnresolvable: new Map() }) }), 'extender remote (filter): claims a feasible node "ghost" that it was not given'],
  ])('a failing extender fails the cycle with an ExtenderError, not a rejection: %s', async (_name, ext, message) => {
    const fwk = framework(nodes(['a'], ['b']), [ext]);
    const run = findNodesThatFitPod(fwk, { pod: thePod(), signal });
    await expect(run).rejects.toThrow(ExtenderError);
    await expect(findNodesThatFitPod(fwk, { pod: thePod(), signal })).rejects.toThrow(message);
  });

  test('an ignorable extender that fails is skipped for the cycle, and the listener is told', async () => {
    const seen: ExtenderError[] = [];
    const broken = fake('flaky', { filter: failing('timeout'), ignorable: true });
    const next = fake('next', { filter: (names) => ({ feasible: names.filter((n) => n !== 'b'), failed: new Map([['b', 'nope']]), failedAndUnresolvable: new Map() }) });
    const fwk = framework(nodes(['a'], ['b']), [broken, next], { onExtenderError: (e) => seen.push(e) });
    const result = await findNodesThatFitPod(fwk, { pod: thePod(), signal });
    expect(next.calls).toEqual([['a', 'b']]); // the nodes pass on unchanged
    expect(result.feasible.map((n) => n.name)).toEqual(['a']);
    expect(seen.map((e) => [e.extender, e.verb, e.message])).toEqual([['flaky', 'filter', 'extender flaky (filter): timeout']]);
  });

  test('a cancelled cycle fails even on an ignorable extender', async () => {
    const controller = new AbortController();
    const seen: ExtenderError[] = [];
    const ext = fake('slow', {
      filter: (names) => {
        controller.abort(new Error('deadline'));
        return passAll(names);
      },
      ignorable: true,
    });
    const fwk = framework(nodes(['a'], ['b']), [ext], { onExtenderError: (e) => seen.push(e) });
    await expect(findNodesThatFitPod(fwk, { pod: thePod(), signal: controller.signal })).rejects.toThrow(ExtenderError);
    expect(seen).toEqual([]);
  });

  test('without scoring, a filtering extender makes the cycle look past the first feasible node', async () => {
    const many = nodes(...Array.from({ length: 10 }, (_, i): [string] => [`n${i}`]));
    const plain = await findNodesThatFitPod(framework(many, [], { scoring: false }), { pod: thePod(), signal });
    expect(plain.nodesEvaluated).toBe(1);
    const ext = fake('gpu', { filter: passAll });
    const filtered = await findNodesThatFitPod(framework(many, [ext], { scoring: false }), { pod: thePod(), signal });
    expect(filtered.nodesEvaluated).toBe(10);
    expect(ext.calls[0]).toHaveLength(10);
  });
});

describe('prioritizing extenders (prioritizeNodes)', () => {
  const scale = MAX_NODE_SCORE / MAX_EXTENDER_PRIORITY;

  test.each<[string, Record<string, number>, number, Record<string, number>]>([
    ['scores are scaled to the plugins range and weighted', { a: 10, b: 5 }, 2, { a: 10 + 10 * scale * 2, b: 20 + 5 * scale * 2, c: 30 }],
    ['weight 0 adds nothing', { a: 10, b: 10, c: 10 }, 0, { a: 10, b: 20, c: 30 }],
    ['the top extender score equals a top plugin score at weight 1', { a: MAX_EXTENDER_PRIORITY }, 1, { a: 10 + MAX_NODE_SCORE, b: 20, c: 30 }],
  ])('%s', async (_name, scores, weight, totals) => {
    const ext = fake('ranker', { prioritize: () => ({ scores: new Map(Object.entries(scores)), weight }) });
    const fwk = framework(nodes(['a', { score: '10' }], ['b', { score: '20' }], ['c', { score: '30' }]), [ext]);
    const state = (await findNodesThatFitPod(fwk, { pod: thePod(), signal })).state;
    const { nodes: result, summary } = await prioritizeNodes(fwk, state, thePod(), fwk.snapshot().nodeInfos(), signal);
    expect(Object.fromEntries(result.map((r) => [r.name, r.total]))).toEqual(totals);
    // The trace's summary covers the extender beside the plugins, over the nodes it scored.
    expect(summary.map((s) => [s.plugin, s.nodes])).toEqual([['TestScore', 3], ['ranker', Object.keys(scores).length]]);
    expect(ext.calls).toEqual([['a', 'b', 'c']]);
    for (const r of result) {
      const part = r.scores.find((s) => s.plugin === 'ranker');
      if (scores[r.name] === undefined) expect(part).toBeUndefined();
      else expect(part).toEqual({ plugin: 'ranker', score: (scores[r.name] ?? 0) * scale, weight });
      expect(r.total).toBe(r.scores.reduce((sum, s) => sum + s.score * s.weight, 0));
    }
  });

  test('every prioritizing extender adds its part; the ranking follows the totals', async () => {
    const one = fake('one', { prioritize: () => ({ scores: new Map([['a', 10]]), weight: 1 }) });
    const two = fake('two', { prioritize: () => ({ scores: new Map([['a', 10], ['b', 3]]), weight: 3 }) });
    const fwk = framework(nodes(['a'], ['b', { score: '100' }], ['c', { score: '100' }]), [one, two]);
    const result = await evaluatePod(fwk, { pod: thePod(), signal });
    expect(result.ranked.map((r) => [r.name, r.total])).toEqual([
      ['a', 100 + 300],
      ['b', 100 + 90],
      ['c', 100],
    ]);
    expect(result.ranked[0]?.scores.map((s) => s.plugin)).toEqual(['TestScore', 'one', 'two']);
  });

  test.each<[string, (names: string[]) => ExtenderPriorities, string]>([
    ['it throws', failing('503 Service Unavailable'), 'extender ranker (prioritize): 503 Service Unavailable'],
    ['a score above MAX_EXTENDER_PRIORITY', () => ({ scores: new Map([['a', 11]]), weight: 1 }), 'extender ranker (prioritize): score 11 for node a is outside [0, 10]'],
    ['a fractional score', () => ({ scores: new Map([['a', 2.5]]), weight: 1 }), 'extender ranker (prioritize): score 2.5 for node a is outside [0, 10]'],
    ['a node it was not given', () => ({ scores: new Map([['ghost', 1]]), weight: 1 }), 'extender ranker (prioritize): scores node "ghost" that it was not given'],
    ['a negative weight', () => ({ scores: new Map([['a', 1]]), weight: -1 }), 'extender ranker (prioritize): weight -1 is not a non-negative integer'],
  ])('a failed prioritize gives no score and does not fail the cycle: %s', async (_name, answer, message) => {
    const seen: string[] = [];
    const ext = fake('ranker', { prioritize: answer }); // not ignorable: prioritize failures never fail the cycle (upstream)
    const fwk = framework(nodes(['a', { score: '10' }], ['b', { score: '20' }]), [ext], { onExtenderError: (e) => seen.push(e.message) });
    const result = await evaluatePod(fwk, { pod: thePod(), signal });
    expect(result.ranked.map((r) => [r.name, r.total])).toEqual([
      ['b', 20],
      ['a', 10],
    ]);
    expect(seen).toEqual([message]);
  });

  test('without Score plugins the extenders alone rank the nodes', async () => {
    const ext = fake('ranker', { prioritize: () => ({ scores: new Map([['b', 7]]), weight: 1 }) });
    const fwk = framework(nodes(['a'], ['b']), [ext], { scoring: false });
    const result = await evaluatePod(fwk, { pod: thePod(), signal });
    expect(result.ranked.map((r) => [r.name, r.total])).toEqual([
      ['b', 70],
      ['a', 0],
    ]);
  });

  test('a cancelled cycle fails in prioritize too', async () => {
    const controller = new AbortController();
    const ext = fake('slow', {
      prioritize: () => {
        controller.abort(new Error('deadline'));
        return { scores: new Map(), weight: 1 };
      },
    });
    const fwk = framework(nodes(['a'], ['b']), [ext]);
    await expect(evaluatePod(fwk, { pod: thePod(), signal: controller.signal })).rejects.toThrow(ExtenderError);
  });
});
