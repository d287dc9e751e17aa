// Preemption end to end on a real control plane (etcd + kube-apiserver), with
// the mesh of scheduler.test.ts (test/e2e/mesh.ts) minus admission and the gateway. Each test
// has its own fake nodes (a `group` label, matched by its pods' node
// selector, so the other tests' nodes are Unresolvable to it):
// - the cheapest victims are evicted through the Eviction API, the preemptor
//   nominated (a lower-priority pod's nomination to that node cleared), a
//   lower-priority pod cannot take the room meanwhile, and the preemptor
//   binds on the nominated node once the victims are gone;
// - a PodDisruptionBudget reaches filterscore's candidate search (informer →
//   stream → snapshot) and steers preemption to the node without one;
// - a candidate whose trial eviction (dryRun=All) a budget refuses evicts
//   nobody, and the stale nomination of a pod left without candidates is
//   cleared.
// No controller manager runs here, so a budget's status never allows a
// disruption: the API server refuses every eviction it covers (429) of a
// Running pod, and the edge reads it as disruptionsAllowed 0. Every check
// reads the API server.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { convertPod } from '@schedmesh/model';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import { createFakeNodes, pollUntil, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { startE2eControlPlane, startE2eMesh } from './mesh.js';
import type { E2eMesh } from './mesh.js';

let cp: ControlPlane;
let mesh: E2eMesh | undefined;

const NODES = ['small-a', 'small-b'];
const PDB_NODES = ['pdb-a', 'pdb-b'];
const TRIAL_NODES = ['trial-a'];

interface PodOptions {
  /** Bound by hand to this node (a resident), else left to schedmesh. */
  readonly node?: string;
  /** The node group its node selector asks for. */
  readonly group: string;
  readonly cpu?: string;
  readonly labels?: Record<string, string>;
  readonly gated?: boolean;
}

/** A pod of one CPU (by default) in one node group. */
function pod(name: string, priorityClassName: string, options: PodOptions): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'preempt-e2e', ...options.labels } },
    spec: {
      ...(options.node ? { nodeName: options.node } : { schedulerName: 'schedmesh' }),
      nodeSelector: { group: options.group },
      priorityClassName,
      ...(options.gated ? { schedulingGates: [{ name: 'schedmesh.io/e2e-hold' }] } : {}),
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: options.cpu ?? '1', memory: '256Mi' } } }],
    },
  };
}

async function create(body: V1Pod): Promise<void> {
  await cp.core.createNamespacedPod({ namespace: 'default', body });
}

/** No kubelet runs here: report the pod Running and Ready, as its kubelet would (the API server evicts Pending pods regardless of budgets). */
async function markRunning(name: string): Promise<void> {
  await runKubectl(cp, ['patch', 'pod', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]);
}

/** A budget that keeps every pod labelled app=<app> (its status is never written here: no disruption is allowed). */
async function budget(app: string): Promise<void> {
  await runKubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: app, namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app } } } }));
}

async function failedSchedulingMatching(name: string, pattern: RegExp): Promise<string> {
  return pollUntil(
    async () => {
      const events = (await cp.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items;
      return events.find((e) => e.reason === 'FailedScheduling' && pattern.test(e.message ?? ''))?.message;
    },
    { what: `a FailedScheduling event of ${name} matching ${pattern}`, timeoutMs: 30_000, intervalMs: 200 },
  );
}

const readPod = (name: string): Promise<V1Pod> => cp.core.readNamespacedPod({ namespace: 'default', name });

beforeAll(async () => {
  cp = await startE2eControlPlane();
  // spec.priority cannot be set directly: the Priority admission plugin refuses a value it did not resolve from a class.
  const classes = [
    ['e2e-low', 10],
    ['e2e-mid', 50],
    ['e2e-high', 1000],
  ] as const;
  await runKubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: classes.map(([name, value]) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value })) }));
  const group = (names: string[], label: string) => names.map((name) => ({ name, labels: { group: label }, capacity: { cpu: '2', memory: '8Gi', pods: '110' } }));
  await createFakeNodes(cp.kubeConfig, [...group(NODES, 'small'), ...group(PDB_NODES, 'pdb'), ...group(TRIAL_NODES, 'trial')]);

  mesh = await startE2eMesh(cp, { name: 'preempt-e2e', nodes: NODES.length + PDB_NODES.length + TRIAL_NODES.length });
}, 180_000);

afterAll(async () => {
  await mesh?.stop();
  await cp?.stop();
}, 60_000);

describe('preemption on a real control plane', () => {
  test('evicts the cheapest victims that suffice, holds the room for the nominee, and binds it there once they are gone', async () => {
    const small = { group: 'small' };
    // small-a: priorities 10 and 50; small-b: 50 and 50. Freeing one CPU on small-a costs a priority-10 pod.
    for (const [name, cls, node] of [
      ['low-a', 'e2e-low', 'small-a'],
      ['mid-a', 'e2e-mid', 'small-a'],
      ['mid-b1', 'e2e-mid', 'small-b'],
      ['mid-b2', 'e2e-mid', 'small-b'],
    ] as const) {
      await create(pod(name, cls, { ...small, node }));
    }
    // A lower-priority pod nominated to small-a earlier (written by hand; its gate keeps it out of the queue).
    await create(pod('parked-low', 'e2e-low', { ...small, gated: true }));
    await runKubectl(cp, ['patch', 'pod', 'parked-low', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { nominatedNodeName: 'small-a' } })]);
    // Created after the residents: the attempt waits for the generation it was seen at, so it sees them all.
    await create(pod('urgent', 'e2e-high', small));

    let urgent: V1Pod | undefined;
    await pollUntil(
      async () => {
        const [victim, preemptor] = await Promise.all([readPod('low-a'), readPod('urgent')]);
        urgent = preemptor;
        return victim.metadata?.deletionTimestamp && preemptor.status?.nominatedNodeName === 'small-a' ? true : undefined;
      },
      { what: 'low-a evicted and urgent nominated to small-a', timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(urgent?.spec?.nodeName).toBeUndefined();
    for (const name of ['mid-a', 'mid-b1', 'mid-b2']) expect((await readPod(name)).metadata?.deletionTimestamp).toBeUndefined();
    await failedSchedulingMatching('urgent', /preemption: evicting 1 pod\(s\) \(default\/low-a\) on node small-a/);
    // The lower-priority nomination to small-a is the preemptor's room now: cleared.
    expect((await readPod('parked-low')).status?.nominatedNodeName ?? '').toBe('');

    // A lower-priority pod that would fit in the room being freed: it waits, parked, before the room frees.
    await create(pod('sneaky', 'e2e-low', small));
    await failedSchedulingMatching('sneaky', /^0\/\d+ nodes are available/);

    // No kubelet runs here: finish the victim's graceful deletion as its kubelet would, with grace 0.
    // Its deletion moves both pending pods; the nominee's room is counted for it in sneaky's filters.
    await cp.core.deleteNamespacedPod({ namespace: 'default', name: 'low-a', gracePeriodSeconds: 0 });
    const bound = await pollUntil(async () => (await readPod('urgent')).spec?.nodeName, { what: 'urgent bound', timeoutMs: 30_000, intervalMs: 200 });
    expect(bound).toBe('small-a');
    // Had sneaky taken the room first, urgent would have had to evict it to bind there.
    const sneaky = await readPod('sneaky');
    expect(sneaky.spec?.nodeName).toBeUndefined();
    expect(sneaky.metadata?.deletionTimestamp).toBeUndefined();
    for (const name of ['mid-a', 'mid-b1', 'mid-b2']) expect((await readPod(name)).metadata?.deletionTimestamp).toBeUndefined();
    for (const name of ['sneaky', 'parked-low']) await cp.core.deleteNamespacedPod({ namespace: 'default', name, gracePeriodSeconds: 0 });
  }, 120_000);

  test("a PodDisruptionBudget reaches filterscore's candidate search and steers preemption to the node without one, where the preemptor binds", async () => {
    const pdbGroup = { group: 'pdb' };
    // pdb-a holds the cheapest victims, but a budget keeps them; pdb-b's pods are pricier and unguarded.
    for (const [name, cls, node, labels] of [
      ['guarded-1', 'e2e-low', 'pdb-a', { app: 'guarded' }],
      ['guarded-2', 'e2e-low', 'pdb-a', { app: 'guarded' }],
      ['plain-1', 'e2e-mid', 'pdb-b', {}],
      ['plain-2', 'e2e-mid', 'pdb-b', {}],
    ] as const) {
      await create(pod(name, cls, { ...pdbGroup, node, labels }));
      await markRunning(name);
    }
    await budget('guarded');

    // Ask filterscore directly, as the attempt does: once the budget has arrived, pdb-b (0 violations) ranks before pdb-a.
    const channel = connectChannel(`127.0.0.1:${mesh!.filterscore.grpcPort}`);
    try {
      const client = createServiceClient(FilterScoreServiceDefinition, channel, { defaultDeadlineMs: 10_000 });
      // Never created: the priority the admission plugin would resolve is set by hand.
      const body = pod('probe', 'e2e-high', pdbGroup);
      const probe = convertPod({ ...body, metadata: { ...body.metadata, uid: 'probe-uid' }, spec: { ...body.spec!, priority: 1000 } });
      const order = await pollUntil(
        async () => {
          const res = await client.findPreemptionCandidates({ pod: probe, options: { profile: '', minGeneration: 0, nodeNames: [] }, maxCandidates: 0 });
          const got = res.candidates.map((c) => `${c.nodeName}:${c.numPdbViolations}`);
          return got[0] === 'pdb-b:0' ? got : undefined;
        },
        { what: 'the budget counted in the candidate search', timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(order).toEqual(['pdb-b:0', 'pdb-a:1']);
    } finally {
      channel.close();
    }

    await create(pod('vip', 'e2e-high', pdbGroup));
    await pollUntil(async () => ((await readPod('vip')).status?.nominatedNodeName === 'pdb-b' ? true : undefined), { what: 'vip nominated to pdb-b', timeoutMs: 30_000, intervalMs: 200 });
    const message = await failedSchedulingMatching('vip', /preemption: evicting 1 pod\(s\) \(default\/plain-[12]\) on node pdb-b/);
    // The first candidate went through: no trial on pdb-a was needed.
    expect(message).not.toMatch(/blocked/);
    for (const name of ['guarded-1', 'guarded-2']) expect((await readPod(name)).metadata?.deletionTimestamp).toBeUndefined();
    const plain = await Promise.all(['plain-1', 'plain-2'].map(readPod));
    const evicted = plain.filter((p) => p.metadata?.deletionTimestamp);
    expect(evicted.length).toBe(1);

    // As its kubelet would, finish the victim's deletion: vip binds where it was nominated, no budget broken.
    await cp.core.deleteNamespacedPod({ namespace: 'default', name: evicted[0]!.metadata!.name!, gracePeriodSeconds: 0 });
    const bound = await pollUntil(async () => (await readPod('vip')).spec?.nodeName, { what: 'vip bound', timeoutMs: 30_000, intervalMs: 200 });
    expect(bound).toBe('pdb-b');
    for (const name of ['guarded-1', 'guarded-2']) expect((await readPod(name)).metadata?.deletionTimestamp).toBeUndefined();
  }, 120_000);

  test('a candidate a budget blocks in its trial eviction evicts nobody, and the stale nomination is cleared', async () => {
    const trial = { group: 'trial' };
    // Both residents must go for the 2-CPU preemptor; the budget keeps the second one evicted (the higher-priority one).
    await create(pod('free-low', 'e2e-low', { ...trial, node: 'trial-a' }));
    await create(pod('kept-mid', 'e2e-mid', { ...trial, node: 'trial-a', labels: { app: 'kept' } }));
    for (const name of ['free-low', 'kept-mid']) await markRunning(name);
    await budget('kept');
    // A pod carrying a nomination from an earlier attempt (held back by a scheduling gate while it is written), then released.
    await create(pod('stuck', 'e2e-high', { ...trial, cpu: '2', gated: true }));
    await runKubectl(cp, ['patch', 'pod', 'stuck', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { nominatedNodeName: 'trial-a' } })]);
    await runKubectl(cp, ['patch', 'pod', 'stuck', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/schedulingGates' }])]);

    const message = await failedSchedulingMatching('stuck', /preemption: every candidate is blocked/);
    expect(message).toMatch(/evicting default\/kept-mid on node trial-a would violate a PodDisruptionBudget/);
    // Without the trial, free-low (evicted first, lowest priority first) would be gone before kept-mid's refusal.
    for (const name of ['free-low', 'kept-mid']) expect((await readPod(name)).metadata?.deletionTimestamp).toBeUndefined();
    await pollUntil(async () => ((await readPod('stuck')).status?.nominatedNodeName ? undefined : true), { what: "stuck's nomination cleared", timeoutMs: 30_000, intervalMs: 200 });
    expect((await readPod('stuck')).spec?.nodeName).toBeUndefined();
  }, 120_000);
});
