// The cycle runner (@schedmesh/scheduling) over the in-tree plugins with the default profile: the fair
// rotation of nextStartNodeIndex, FitError messages (framework/types_test.go TestFitError_Error),
// PreFilter narrowing, nominated pods, and weighted totals. It lives here, not beside cycle.ts, because
// the runner's package never depends on the plugins.
import { describe, expect, test } from '@jest/globals';
import { definePlugin, PluginError, PluginNames, StatusCode } from '@schedmesh/framework';
import type { NodeScore, Status } from '@schedmesh/framework';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { Node } from '@schedmesh/proto/v1/types';
import { aggregateReasons, evaluatePod, findNodesThatFitPod, Framework, newPodInfo, REASON_NODE_NOT_FOUND, resolveProfiles, snapshotOf, summarizeScores } from '@schedmesh/scheduling';
import { inTreeRegistry } from './registry.js';
import { inReq, node, pod } from './testing/index.js';

const signal = new AbortController().signal;
const defaultFramework = (nodes: Node[], pods = [] as ReturnType<ReturnType<typeof pod>['build']>[]) => {
  const snapshot = snapshotOf(nodes, pods);
  const config = resolveProfiles(undefined, inTreeRegistry());
  const profile = config.profiles[0];
  if (profile === undefined) throw new Error('no profile');
  return new Framework({ profile, registry: inTreeRegistry(), snapshot: () => snapshot });
};
const many = (n: number, cpu = '4') => Array.from({ length: n }, (_, i) => node(`n${String(i).padStart(5, '0')}`).capacity({ cpu, memory: '16Gi' }).build());

describe('filtering', () => {
  test('stops once enough feasible nodes are found and the next cycle starts where it stopped', async () => {
    const fwk = defaultFramework(many(300));
    const p = newPodInfo(pod('p').req({ cpu: '1', memory: '1Gi' }).build());
    const first = await findNodesThatFitPod(fwk, { pod: p, signal });
    expect(first.nodesEvaluated).toBe(144); // 300 * (50 - 300/125)% = 300 * 48%
    expect(first.feasible).toHaveLength(144);
    const second = await findNodesThatFitPod(fwk, { pod: p, signal });
    const firstNames = new Set(first.feasible.map((n) => n.name));
    expect(second.feasible.some((n) => firstNames.has(n.name))).toBe(false);
    expect(fwk.nextStartNodeIndex).toBe(288);
    const exhaustive = await findNodesThatFitPod(fwk, { pod: p, signal, exhaustive: true });
    expect(exhaustive.nodesEvaluated).toBe(300);
  });

  test('the nominated node is tried first and alone: when it fits it is the answer, unscored (evaluateNominatedNode)', async () => {
    const fwk = defaultFramework(many(300));
    const p = newPodInfo(pod('p').nominated('n00250').req({ cpu: '1', memory: '1Gi' }).build());
    const result = await evaluatePod(fwk, { pod: p, signal });
    expect(result.nodesEvaluated).toBe(1);
    expect(result.ranked.map((r) => r.name)).toEqual(['n00250']);
    expect(fwk.nextStartNodeIndex).toBe(0);
  });

  test('a nominated node that does not fit (or is unknown) leaves the choice to the full pass', async () => {
    const fwk = defaultFramework([...many(3), node('tiny').capacity({ cpu: '1', memory: '16Gi' }).build()]);
    for (const nominated of ['tiny', 'gone']) {
      const result = await evaluatePod(fwk, { pod: newPodInfo(pod('p').nominated(nominated).req({ cpu: '2', memory: '1Gi' }).build()), signal });
      expect(result.nodesEvaluated).toBe(4);
      expect(result.ranked.map((r) => r.name).sort()).toEqual(['n00000', 'n00001', 'n00002']);
    }
  });

  test('a PreFilter node set narrows filtering; the rest count as unresolvable', async () => {
    const fwk = defaultFramework(many(5));
    const p = pod('p').requiredNodeTerm({ matchFields: [{ key: 'metadata.name', operator: inReq('x').operator, values: ['n00002'] }] });
    const result = await evaluatePod(fwk, { pod: newPodInfo(p.build()), signal });
    expect(result.nodesEvaluated).toBe(1);
    expect(result.ranked.map((r) => r.name)).toEqual(['n00002']);
  });

  test("a caller's node list: unknown names are rejected, excluded nodes get a rejection each", async () => {
    const fwk = defaultFramework(many(3));
    const p = pod('p').requiredNodeTerm({ matchFields: [{ key: 'metadata.name', operator: inReq('x').operator, values: ['n00001'] }] });
    const result = await findNodesThatFitPod(fwk, { pod: newPodInfo(p.build()), signal, nodeNames: ['n00000', 'n00001', 'ghost'] });
    expect(result.feasible.map((n) => n.name)).toEqual(['n00001']);
    expect(result.rejected.map((r) => [r.nodeName, r.status.reasons[0]])).toEqual([
      ['ghost', REASON_NODE_NOT_FOUND],
      ['n00000', "node(s) didn't satisfy plugin(s) [NodeAffinity]"],
    ]);
    expect(result.numAllNodes).toBe(3);
  });

  test("nominated pods of higher priority hold their node's resources (RunFilterPluginsWithNominatedPods)", async () => {
    const nodes = [node('a').capacity({ cpu: '4', memory: '8Gi' }).build(), node('b').capacity({ cpu: '4', memory: '8Gi' }).build()];
    const nominated = pod('big').priority(100).nominated('a').req({ cpu: '3', memory: '1Gi' }).build();
    const fwk = defaultFramework(nodes, [nominated]);
    const low = await findNodesThatFitPod(fwk, { pod: newPodInfo(pod('p').priority(10).req({ cpu: '2', memory: '1Gi' }).build()), signal, exhaustive: true });
    expect(low.feasible.map((n) => n.name)).toEqual(['b']);
    const high = await findNodesThatFitPod(fwk, { pod: newPodInfo(pod('q').priority(1000).req({ cpu: '2', memory: '1Gi' }).build()), signal, exhaustive: true });
    expect(high.feasible.map((n) => n.name).sort()).toEqual(['a', 'b']);
  });

  test('a nomination that arrives between cycles holds room in the next one (the no-nomination fast path is decided per cycle)', async () => {
    const nodes = [node('a').capacity({ cpu: '4', memory: '8Gi' }).build(), node('b').capacity({ cpu: '4', memory: '8Gi' }).build()];
    const snapshot = snapshotOf(nodes);
    const config = resolveProfiles(undefined, inTreeRegistry());
    const fwk = new Framework({ profile: config.profiles[0]!, registry: inTreeRegistry(), snapshot: () => snapshot });
    const p = newPodInfo(pod('p').priority(10).req({ cpu: '2', memory: '1Gi' }).build());
    expect((await findNodesThatFitPod(fwk, { pod: p, signal, exhaustive: true })).feasible.map((n) => n.name).sort()).toEqual(['a', 'b']);
    snapshot.apply({ generation: 1, type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'pod', value: pod('big').priority(100).nominated('b').req({ cpu: '3', memory: '1Gi' }).build() } });
    const next = await findNodesThatFitPod(fwk, { pod: p, signal, exhaustive: true });
    expect(next.feasible.map((n) => n.name)).toEqual(['a']);
    expect(next.diagnosis.get('b').reasons).toEqual(['Insufficient cpu']);
  });

  test('a plugin failure is an error, not a rejection', async () => {
    const broken = definePlugin({
      name: 'Broken',
      points: ['filter'],
      create: () => ({
        name: 'Broken',
        filter: (): Status => {
          throw new Error('boom');
        },
      }),
    });
    const registry = inTreeRegistry().merge([broken]);
    const config = resolveProfiles({ profiles: [{ plugins: { filter: { enabled: [{ name: 'Broken' }] } } }] }, registry);
    const snapshot = snapshotOf(many(2));
    const fwk = new Framework({ profile: config.profiles[0]!, registry, snapshot: () => snapshot });
    await expect(evaluatePod(fwk, { pod: newPodInfo(pod('p').build()), signal })).rejects.toThrow(PluginError);
    await expect(evaluatePod(fwk, { pod: newPodInfo(pod('p').build()), signal })).rejects.toThrow('Filter plugin Broken: boom');
  });
});

describe('the explanation (TestFitError_Error)', () => {
  test('the histogram with the preemption part, as kube-scheduler\'s event reads', async () => {
    const nodes = [
      ...['a', 'b', 'c'].map((n) => node(n).capacity({ cpu: '1', memory: '8Gi' }).build()),
      ...['d', 'e'].map((n) => node(n).capacity({ cpu: '8', memory: '8Gi' }).taint('key', 'value', 'NoSchedule').build()),
    ];
    const fwk = defaultFramework(nodes);
    const result = await evaluatePod(fwk, { pod: newPodInfo(pod('p').req({ cpu: '2', memory: '1Gi' }).build()), signal });
    expect(result.ranked).toEqual([]);
    expect(result.summary).toBe(
      '0/5 nodes are available: 2 node(s) had untolerated taint(s), 3 Insufficient cpu. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.',
    );
    expect(aggregateReasons(result.diagnosis, 5)).toEqual([
      { reason: 'node(s) had untolerated taint(s)', count: 2, resolvable: false },
      { reason: 'Insufficient cpu', count: 3, resolvable: false },
    ]);
  });

  test('resolvable reasons: preemption finds victims on the nodes that lack cpu', async () => {
    const nodes = ['a', 'b'].map((n) => node(n).capacity({ cpu: '2', memory: '8Gi' }).build());
    const fwk = defaultFramework(nodes, [pod('low').node('a').req({ cpu: '2', memory: '1Gi' }).build(), pod('vip').node('b').priority(5000).req({ cpu: '2', memory: '1Gi' }).build()]);
    const result = await evaluatePod(fwk, { pod: newPodInfo(pod('p').priority(100).req({ cpu: '1', memory: '1Gi' }).build()), signal });
    // A candidate exists (node a), so the preemption part is empty as upstream's PostFilter succeeded.
    expect(result.summary).toBe('0/2 nodes are available: 2 Insufficient cpu.');
    expect(aggregateReasons(result.diagnosis, 2)).toEqual([{ reason: 'Insufficient cpu', count: 2, resolvable: true }]);
  });

  test('a PreFilter rejection explains every node at once', async () => {
    const fwk = defaultFramework(many(3));
    const p = pod('p').requiredNodeTerm({ matchFields: [{ key: 'metadata.name', operator: inReq('x').operator, values: ['x'] }, { key: 'metadata.name', operator: inReq('x').operator, values: ['y'] }] });
    const result = await evaluatePod(fwk, { pod: newPodInfo(p.build()), signal });
    expect(result.preFilterStatus?.code).toBe(StatusCode.UnschedulableAndUnresolvable);
    expect(result.preFilterStatus?.plugin).toBe(PluginNames.NodeAffinity);
    expect(result.summary).toBe('0/3 nodes are available: pod affinity terms conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
  });

  test('no nodes at all', async () => {
    const fwk = defaultFramework([]);
    const result = await evaluatePod(fwk, { pod: newPodInfo(pod('p').build()), signal });
    expect(result.summary).toBe('no nodes available to schedule pods');
  });
});

describe('scoring', () => {
  test('totals are the weighted sum of normalized plugin scores, best first, ties in random order', async () => {
    const nodes = [
      node('tainted').capacity({ cpu: '4', memory: '8Gi' }).taint('k', 'v', 'PreferNoSchedule').build(),
      node('clean').capacity({ cpu: '4', memory: '8Gi' }).build(),
      node('clean2').capacity({ cpu: '4', memory: '8Gi' }).build(),
    ];
    const fwk = defaultFramework(nodes);
    const result = await evaluatePod(fwk, { pod: newPodInfo(pod('p').req({ cpu: '1', memory: '1Gi' }).build()), signal });
    expect(result.ranked.slice(0, 2).map((r) => r.name).sort()).toEqual(['clean', 'clean2']);
    expect(result.ranked[2]!.name).toBe('tainted');
    const clean = result.ranked.find((r) => r.name === 'clean')!;
    expect(clean.total).toBe(clean.scores.reduce((s, p) => s + p.score * p.weight, 0));
    expect(clean.scores.find((s) => s.plugin === PluginNames.TaintToleration)).toEqual({ plugin: 'TaintToleration', score: 100, weight: 3 });
    expect(result.ranked[2]!.scores.find((s) => s.plugin === PluginNames.TaintToleration)?.score).toBe(0);
    const limited = await evaluatePod(fwk, { pod: newPodInfo(pod('p').req({ cpu: '1', memory: '1Gi' }).build()), signal, maxRanked: 1 });
    expect(limited.ranked).toHaveLength(1);
    // The trace's summary, made in the scoring pass, agrees with the per-node parts read back from it.
    expect(result.scoreSummary).toEqual(summarizeScores(result.ranked));
    expect(result.scoreSummary.find((s) => s.plugin === PluginNames.TaintToleration)).toEqual({ plugin: 'TaintToleration', weight: 3, nodes: 3, min: 0, max: 100, mean: 200 / 3 });
  });

  const scorer = (score: number, normalizeTo?: number) =>
    definePlugin({
      name: 'Odd',
      points: ['score'],
      create: () => ({
        name: 'Odd',
        score: () => score,
        ...(normalizeTo === undefined ? {} : { normalizeScore: (_s: unknown, _p: unknown, list: NodeScore[]) => list.forEach((e) => (e.score = normalizeTo)) }),
      }),
    });
  test.each([
    ['a raw score above 100', scorer(101), 'score 101 for node n00000 is outside [0, 100]'],
    ['a fractional raw score', scorer(2.5), 'score 2.5 for node n00000 is outside [0, 100]'],
    ['a normalized score below 0', scorer(50, -1), 'score -1 for node n00000 is outside [0, 100]'],
  ])('%s is a plugin error naming the node', async (_name, plugin, message) => {
    const registry = inTreeRegistry().merge([plugin]);
    const config = resolveProfiles({ profiles: [{ plugins: { score: { enabled: [{ name: 'Odd' }] } } }] }, registry);
    const snapshot = snapshotOf(many(2));
    const fwk = new Framework({ profile: config.profiles[0]!, registry, snapshot: () => snapshot });
    await expect(evaluatePod(fwk, { pod: newPodInfo(pod('p').build()), signal })).rejects.toThrow(`Score plugin Odd: ${message}`);
  });

});
