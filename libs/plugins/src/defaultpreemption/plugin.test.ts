// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/defaultpreemption/default_preemption_test.go:
// TestPickOneNodeForPreemption (candidate order), TestSelectNodesForPreemption (victims, reprieve,
// PodDisruptionBudgets), TestPodEligibleToPreemptOthers, and the PostFilter messages of TestPostFilter.
import { describe, expect, test } from '@jest/globals';
import { PluginNames } from '@schedmesh/framework';
import type { PodDisruptionBudget } from '@schedmesh/proto/v1/types';
import { evaluatePod, findPreemptionCandidates, newPodInfo, snapshotOf } from '@schedmesh/scheduling';
import { inTreeRegistry } from '../registry.js';
import { affinityTerm, frameworkWith, node, pod, selector } from '../testing/index.js';
import type { NodeBuilder, PodBuilder } from '../testing/index.js';

const LOW = 0;
const MID = 100;
const HIGH = 1000;
const signal = new AbortController().signal;
const cpuNode = (name: string, cpu: string) => node(name).capacity({ cpu, memory: '100Gi' });
const victim = (name: string, nodeName: string, priority: number, cpu: string, createdMs = 0) => pod(name).node(nodeName).priority(priority).req({ cpu, memory: '1' }).created(createdMs);
const preemptor = (cpu: string, priority = HIGH) => pod('preemptor').priority(priority).req({ cpu, memory: '1' });

/** A budget over pods labelled app=<app> in the default namespace. */
const budget = (app: string, disruptionsAllowed: number, disruptedPods: string[] = []): PodDisruptionBudget => ({
  namespace: 'default',
  name: `${app}-pdb`,
  resourceVersion: '1',
  selector: { matchLabels: { app }, matchExpressions: [] },
  disruptionsAllowed,
  disruptedPods,
});

async function search(nodes: NodeBuilder[], existing: PodBuilder[], incoming: PodBuilder, plugins: string[] = [PluginNames.NodeResourcesFit, PluginNames.DefaultPreemption], pdbs: PodDisruptionBudget[] = []) {
  const fwk = frameworkWith(plugins, snapshotOf(nodes.map((n) => n.build()), existing.map((e) => e.build()), [], pdbs));
  return findPreemptionCandidates(fwk, { pod: newPodInfo(incoming.build()), signal, maxCandidates: 0 });
}

describe('candidate order (TestPickOneNodeForPreemption)', () => {
  test.each<[string, NodeBuilder[], PodBuilder[], PodBuilder, string[]]>([
    [
      'machine with min highest priority pod is picked',
      [cpuNode('node1', '5'), cpuNode('node2', '5'), cpuNode('node3', '5')],
      [victim('p1.1', 'node1', MID, '3'), victim('p1.2', 'node1', LOW, '2'), victim('p2.1', 'node2', LOW, '3'), victim('p2.2', 'node2', LOW, '2'), victim('p3.1', 'node3', MID, '5')],
      preemptor('5'),
      ['node2', 'node3', 'node1'],
    ],
    [
      'when highest priorities are the same, minimum sum of lower priority pods is picked',
      [cpuNode('node1', '5'), cpuNode('node2', '5')],
      [victim('p1.1', 'node1', MID, '3'), victim('p1.2', 'node1', MID, '2'), victim('p2.1', 'node2', MID, '3'), victim('p2.2', 'node2', LOW, '2')],
      preemptor('5'),
      ['node2', 'node1'],
    ],
    [
      'when highest priority and sum are the same, minimum number of pods is picked',
      [cpuNode('node1', '5'), cpuNode('node2', '5')],
      [victim('p1.1', 'node1', LOW, '2'), victim('p1.2', 'node1', LOW, '3'), victim('p2.1', 'node2', LOW, '5')],
      preemptor('5'),
      ['node2', 'node1'],
    ],
    [
      'when highest priority, sum and number of pods are the same, the node with the latest start time of highest priority pods is picked',
      [cpuNode('node1', '5'), cpuNode('node2', '5')],
      [victim('p1.1', 'node1', MID, '5', 1_000), victim('p2.1', 'node2', MID, '5', 2_000)],
      preemptor('5'),
      ['node2', 'node1'],
    ],
  ])('%s', async (_name, nodes, existing, incoming, order) => {
    const result = await search(nodes, existing, incoming);
    expect(result.candidates.map((c) => c.nodeName)).toEqual(order);
    expect(result.candidates.every((c) => c.numPdbViolations === 0)).toBe(true);
  });
});

describe('victims (TestSelectNodesForPreemption)', () => {
  test('pods are reprieved, most important first, when the preemptor still fits', async () => {
    // 5 CPU: after removing everything, mid (1) and the older low (1) fit back; the 3-CPU low pod is the only victim.
    const result = await search([cpuNode('node1', '5')], [victim('a', 'node1', LOW, '1', 1), victim('b', 'node1', LOW, '3', 2), victim('c', 'node1', MID, '1', 3)], preemptor('3'));
    expect(result.candidates).toHaveLength(1);
    expect(result.candidates[0]?.victims.map((v) => v.name)).toEqual(['b']);
  });

  test('victims are listed most important first', async () => {
    const result = await search([cpuNode('node1', '4')], [victim('low', 'node1', LOW, '2'), victim('mid', 'node1', MID, '2')], preemptor('4'));
    expect(result.candidates[0]?.victims.map((v) => v.name)).toEqual(['mid', 'low']);
  });

  test('equal or higher priority pods are never victims', async () => {
    const result = await search([cpuNode('node1', '4')], [victim('same', 'node1', HIGH, '2'), victim('low', 'node1', LOW, '2')], preemptor('4'));
    expect(result.candidates).toEqual([]);
    expect(result.summary).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.');
    // The search ran and found nothing: a nomination the preemptor holds is stale.
    expect(result.clearNomination).toBe(true);
  });

  test("a victim's required anti-affinity stops counting once it is removed (RemovePod extension)", async () => {
    const blocker = victim('blocker', 'node1', LOW, '1').podAntiAffinity('required', affinityTerm('kubernetes.io/hostname', selector({ app: 'web' })));
    const nodes = [cpuNode('node1', '8').label('kubernetes.io/hostname', 'node1')];
    const result = await search(nodes, [blocker], preemptor('1').label('app', 'web'), [PluginNames.NodeResourcesFit, PluginNames.InterPodAffinity, PluginNames.DefaultPreemption]);
    expect(result.candidates.map((c) => [c.nodeName, c.victims.map((v) => v.name)])).toEqual([['node1', ['blocker']]]);
  });
});

describe('PodDisruptionBudgets (TestSelectNodesForPreemption, TestPickOneNodeForPreemption)', () => {
  const fit = [PluginNames.NodeResourcesFit, PluginNames.DefaultPreemption];

  test('a node whose victims violate no budget goes before one with lower-priority victims that do', async () => {
    const result = await search(
      [cpuNode('node1', '2'), cpuNode('node2', '2')],
      [victim('db', 'node1', LOW, '2').label('app', 'db'), victim('web', 'node2', MID, '2')],
      preemptor('2'),
      fit,
      [budget('db', 0)],
    );
    expect(result.candidates.map((c) => [c.nodeName, c.numPdbViolations])).toEqual([
      ['node2', 0],
      ['node1', 1],
    ]);
  });

  test('pods a budget protects are reprieved first; the unprotected one goes instead', async () => {
    // Without the budget the older 'free' pod is more important and spared, and 'db' is the victim.
    const existing = [victim('free', 'node1', LOW, '1', 1), victim('db', 'node1', LOW, '1', 2).label('app', 'db')];
    const without = await search([cpuNode('node1', '3')], existing, preemptor('2'), fit);
    expect(without.candidates[0]?.victims.map((v) => v.name)).toEqual(['db']);
    const withBudget = await search([cpuNode('node1', '3')], existing, preemptor('2'), fit, [budget('db', 0)]);
    expect(withBudget.candidates[0]?.victims.map((v) => v.name)).toEqual(['free']);
    expect(withBudget.candidates[0]?.numPdbViolations).toBe(0);
  });

  test('a violation that cannot be avoided is counted, and the victims stay most important first', async () => {
    const result = await search(
      [cpuNode('node1', '2')],
      [victim('db', 'node1', LOW, '1').label('app', 'db'), victim('web', 'node1', MID, '1')],
      preemptor('2'),
      fit,
      [budget('db', 0)],
    );
    expect(result.candidates[0]?.victims.map((v) => v.name)).toEqual(['web', 'db']);
    expect(result.candidates[0]?.numPdbViolations).toBe(1);
  });

  test('a budget allowing one disruption covers one victim; a pod it already lists as disrupted is not counted again', async () => {
    const two = [victim('db-0', 'node1', LOW, '1').label('app', 'db'), victim('db-1', 'node1', LOW, '1').label('app', 'db')];
    expect((await search([cpuNode('node1', '2')], two, preemptor('2'), fit, [budget('db', 1)])).candidates[0]?.numPdbViolations).toBe(1);
    expect((await search([cpuNode('node1', '2')], two, preemptor('2'), fit, [budget('db', 1, ['db-0'])])).candidates[0]?.numPdbViolations).toBe(0);
  });

  test('a budget of another namespace, or with an empty selector, protects nothing', async () => {
    const pods = [victim('db', 'node1', LOW, '2').label('app', 'db')];
    const elsewhere = { ...budget('db', 0), namespace: 'other' };
    const empty = { ...budget('db', 0), selector: { matchLabels: {}, matchExpressions: [] } };
    for (const pdb of [elsewhere, empty]) expect((await search([cpuNode('node1', '2')], pods, preemptor('2'), fit, [pdb])).candidates[0]?.numPdbViolations).toBe(0);
  });
});

test("a candidate names the node's lower-priority nominated pods, whose nominations the preemptor takes over (getLowerPriorityNominatedPods)", async () => {
  const result = await search(
    [cpuNode('node1', '2')],
    [victim('resident', 'node1', LOW, '2'), pod('waiting-low').priority(LOW).nominated('node1').req({ cpu: '1', memory: '1' }), pod('waiting-high').priority(HIGH + 1).nominated('node1').req({ cpu: '0', memory: '1' })],
    preemptor('2'),
  );
  expect(result.candidates.map((c) => [c.nodeName, (c.lowerPriorityNominated ?? []).map((p) => p.name)])).toEqual([['node1', ['waiting-low']]]);
});

describe('PostFilter messages (TestPostFilter, TestPodEligibleToPreemptOthers)', () => {
  test('preemptionPolicy Never', async () => {
    const result = await search([cpuNode('node1', '4')], [victim('low', 'node1', LOW, '4')], preemptor('4').preemptNever());
    expect(result.summary).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
  });

  test('nodes where preemption cannot help and nodes without victims', async () => {
    const nodes = [cpuNode('small', '2'), cpuNode('busy', '5')];
    const fwk = frameworkWith([PluginNames.NodeResourcesFit, PluginNames.DefaultPreemption], snapshotOf(nodes.map((n) => n.build()), [victim('vip', 'busy', HIGH, '3').build()]));
    const result = await evaluatePod(fwk, { pod: newPodInfo(preemptor('5', MID).build()), signal });
    expect(result.summary).toBe(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    );
    expect(result.rejected.map((r) => [r.nodeName, r.status.code])).toEqual(
      expect.arrayContaining([
        ['small', 4],
        ['busy', 3],
      ]),
    );
  });

  test('a terminating lower-priority pod on the nominated node makes the pod wait', async () => {
    const result = await search([cpuNode('node1', '4')], [victim('leaving', 'node1', LOW, '4').terminating()], preemptor('4').nominated('node1'));
    expect(result.summary).toContain('preemption: not eligible due to a terminating pod on the nominated node.');
    // The pod waits for its victims: its nomination stands.
    expect(result.clearNomination).toBe(false);
  });
});

test('DefaultPreemptionArgs: both minimums 0 are refused', () => {
  const issues = inTreeRegistry().get(PluginNames.DefaultPreemption)?.validateArgs({ minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0 }) ?? [];
  expect(issues.map((i) => i.path.join('.'))).toEqual(['minCandidateNodesAbsolute']);
});
