// The extender's verbs over the real mesh, called as kube-scheduler calls
// them, without kube-scheduler: etcd + kube-apiserver, the informer, snapshot,
// filterscore, reservation on real Redis, admission and the extender, all on
// loopback. Proves the preempt verb's answers, the bounded wait for a node
// the stream has not brought yet, and that hostile requests change nothing:
// reservation's Redis keys are read back whole before and after each one.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import { createFakeNodes, pollUntil, testEnvKeys, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { startExtenderControlPlane, startExtenderMesh } from './extender-mesh.js';
import type { ExtenderMesh } from './extender-mesh.js';

// Generous: a fresh node must reach the extender through the informer and NATS within it on a loaded machine.
const NODE_WAIT_MS = 10_000;
const MAX_BODY = 1024 * 1024;

let cp: ControlPlane;
let mesh: ExtenderMesh;
let redis: Redis;
const uids = new Map<string, string>();

const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

function pod(name: string, opts: { cpu: string; node?: string; priorityClassName?: string; namespace?: string }): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: { app: 'ext-verbs' } },
    spec: {
      // Nobody schedules these: pending pods stay pending unless a test binds them.
      ...(opts.node ? { nodeName: opts.node } : { schedulerName: 'nobody' }),
      ...(opts.priorityClassName ? { priorityClassName: opts.priorityClassName } : {}),
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: opts.cpu, memory: '128Mi' } } }],
    },
  };
}

/** The pod as the extender receives it: the API object with its UID. */
async function created(p: V1Pod): Promise<V1Pod> {
  const out = await cp.core.createNamespacedPod({ namespace: p.metadata!.namespace!, body: p });
  uids.set(p.metadata!.name!, out.metadata!.uid!);
  return out;
}

const uid = (name: string): string => uids.get(name)!;
const meta = (...names: string[]) => ({ Pods: names.map((n) => ({ UID: n.startsWith('uid:') ? n.slice(4) : uid(n) })), NumPDBViolations: 0 });

/** Every key reservation keeps in Redis, with its value (type-aware). */
async function redisState(): Promise<Record<string, unknown>> {
  // The replicas' heartbeat registry changes with time, not with requests: it is no ledger state.
  const keys = (await redis.keys(`*${mesh.redisKeyPrefix}*`)).filter((key) => !key.endsWith(':replicas')).sort();
  const state: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') state[key] = await redis.get(key);
    else if (type === 'hash') state[key] = await redis.hgetall(key);
    else if (type === 'zset') state[key] = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    else if (type === 'set') state[key] = (await redis.smembers(key)).sort();
    else if (type === 'list') state[key] = await redis.lrange(key, 0, -1);
    else state[key] = type;
  }
  return state;
}

beforeAll(async () => {
  cp = await startExtenderControlPlane({ kubeScheduler: false });
  await kubectl(['create', 'namespace', 'locked']);
  const classes = [
    ['verbs-low', 10],
    ['verbs-high', 1000],
  ] as const;
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: classes.map(([name, value]) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value })) }));
  await createFakeNodes(
    cp.kubeConfig,
    ['n-a', 'n-b', 'n-c', 'n-d', 'doomed'].map((name) => ({ name, capacity: { cpu: '1', memory: '4Gi', pods: '110' } })),
  );
  // Residents: n-a and n-b each hold one low-priority pod of 600m, n-c two of 300m; n-d is empty.
  for (const [name, node, cpu] of [
    ['low-a', 'n-a', '600m'],
    ['low-b', 'n-b', '600m'],
    ['low-c1', 'n-c', '300m'],
    ['low-c2', 'n-c', '300m'],
  ] as const) {
    await created(pod(name, { cpu, node, priorityClassName: 'verbs-low' }));
  }
  await created(pod('high', { cpu: '800m', priorityClassName: 'verbs-high' }));
  mesh = await startExtenderMesh(cp, { tag: 'ext-verbs', nodes: 5, extender: { nodeWait: NODE_WAIT_MS, verbTimeout: 3 * NODE_WAIT_MS, maxBodyBytes: MAX_BODY } });
  redis = new Redis(process.env[testEnvKeys.redisUrl]!);
  // The residents must be in filterscore's snapshot before any verb is asked about them.
  await pollUntil(async () => (mesh.filterscore.replica.current.podCount >= 5 ? true : undefined), { what: 'filterscore holds the residents', timeoutMs: 60_000 });
}, 240_000);

afterAll(async () => {
  redis?.disconnect();
  await mesh?.stop();
  await cp?.stop();
}, 120_000);

const highPod = async (): Promise<V1Pod> => cp.core.readNamespacedPod({ namespace: 'default', name: 'high' });

describe('preempt', () => {
  test('keeps nodes where schedmesh evicts the same or fewer of the proposed victims, drops the rest, never adds one', async () => {
    const res = await mesh.post('preempt', {
      Pod: await highPod(),
      NodeNameToMetaVictims: {
        // Exactly what schedmesh would evict: kept as is.
        'n-a': meta('low-a'),
        // One more than needed: kept with schedmesh's one victim.
        'n-b': { ...meta('low-b', 'uid:not-needed'), NumPDBViolations: 1 },
        // Too few: schedmesh would also evict low-c2, which kube-scheduler did not propose.
        'n-c': meta('low-c1'),
        // A node schedmesh has never seen, and a node without victims.
        ghost: meta('uid:ghost-pod'),
        'n-d': { Pods: [], NumPDBViolations: 0 },
      },
    });
    expect(res).toEqual({
      status: 200,
      body: { NodeNameToMetaVictims: { 'n-a': meta('low-a'), 'n-b': meta('low-b') } },
    });
  }, 60_000);

  test('full victims (nodeCacheCapable: false) get the same answer, by UID', async () => {
    const read = (name: string) => cp.core.readNamespacedPod({ namespace: 'default', name });
    const res = await mesh.post('preempt', {
      Pod: await highPod(),
      NodeNameToVictims: { 'n-a': { Pods: [await read('low-a')], NumPDBViolations: 0 }, 'n-c': { Pods: [await read('low-c1')], NumPDBViolations: 0 } },
    });
    expect(res).toEqual({ status: 200, body: { NodeNameToMetaVictims: { 'n-a': meta('low-a') } } });
  }, 60_000);

  test('a node where the pod already passes schedmesh keeps kube-scheduler victims as proposed', async () => {
    const res = await mesh.post('preempt', { Pod: await highPod(), NodeNameToMetaVictims: { 'n-d': meta('uid:kube-scheduler-says') } });
    expect(res).toEqual({ status: 200, body: { NodeNameToMetaVictims: { 'n-d': meta('uid:kube-scheduler-says') } } });
  }, 60_000);

  test('a pod admission rejects gets no node at all', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'schedmesh.io/v1alpha1', kind: 'AdmissionPolicy', metadata: { name: 'lockdown' }, spec: { targetNamespaces: { names: ['locked'] }, hibernation: { allApps: true } } }),
    );
    const locked = await created(pod('locked-high', { cpu: '800m', priorityClassName: 'verbs-high', namespace: 'locked' }));
    const res = await pollUntil(
      async () => {
        const r = await mesh.post('preempt', { Pod: locked, NodeNameToMetaVictims: { 'n-a': meta('low-a') } });
        return Object.keys((r.body as { NodeNameToMetaVictims: object }).NodeNameToMetaVictims).length === 0 ? r : undefined;
      },
      { what: 'admission applies the lockdown policy', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(res).toEqual({ status: 200, body: { NodeNameToMetaVictims: {} } });
  }, 90_000);
});

describe('filter then prioritize, as one kube-scheduler cycle calls them', () => {
  test('prioritize over the nodes filter left feasible is answered from filter’s attempt, with the scores a fresh attempt gives', async () => {
    const p = { ...pod('scored', { cpu: '300m' }), metadata: { name: 'scored', namespace: 'default', uid: 'scored-uid', resourceVersion: '1' } };
    const filtered = await mesh.post('filter', { Pod: p, NodeNames: ['n-a', 'n-b', 'n-c', 'n-d'] });
    const feasible = (filtered.body as { NodeNames: string[] }).NodeNames;
    expect(feasible).toEqual(['n-a', 'n-b', 'n-c', 'n-d']);
    expect(mesh.extender.decisions.size).toBe(1);
    const kept = await mesh.post('prioritize', { Pod: p, NodeNames: feasible });
    expect(mesh.extender.decisions.size).toBe(0);
    // The empty node scores best; the others less, as filterscore's scores rank them.
    expect(kept.body).toContainEqual({ Host: 'n-d', Score: 10 });
    expect((kept.body as { Score: number }[]).some((h) => h.Score < 10)).toBe(true);
    // Nothing kept now: a fresh attempt over the same nodes, at least as new, ranks them the same.
    expect(await mesh.post('prioritize', { Pod: p, NodeNames: feasible })).toEqual(kept);
  }, 60_000);

  test('with extender.maxFeasibleNodes, filter answers only the best-ranked feasible nodes (no failure for the others), and prioritize gets those', async () => {
    await mesh.stopExtender();
    await mesh.restartExtender({ maxFeasibleNodes: 2 });
    try {
      const p = { ...pod('top-two', { cpu: '300m' }), metadata: { name: 'top-two', namespace: 'default', uid: 'top-two-uid', resourceVersion: '1' } };
      const all = ['n-a', 'n-b', 'n-c', 'n-d'];
      const filtered = (await mesh.post('filter', { Pod: p, NodeNames: all })).body as { NodeNames: string[]; FailedNodes: object; FailedAndUnresolvableNodes: object; Error: string };
      expect(filtered.Error).toBe('');
      expect(filtered.NodeNames).toHaveLength(2);
      // Left out, not failed: kube-scheduler drops them, and preemption is not asked about them.
      expect(filtered.FailedNodes).toEqual({});
      expect(filtered.FailedAndUnresolvableNodes).toEqual({});
      const kept = (await mesh.post('prioritize', { Pod: p, NodeNames: filtered.NodeNames })).body as { Host: string; Score: number }[];
      expect(kept.map((h) => h.Host).sort()).toEqual([...filtered.NodeNames].sort());
      // The two are the best of the four: a fresh prioritize over all of them (another node list) scores no other node higher.
      const scores = (await mesh.post('prioritize', { Pod: p, NodeNames: all })).body as { Host: string; Score: number }[];
      const keptLowest = Math.min(...scores.filter((h) => filtered.NodeNames.includes(h.Host)).map((h) => h.Score));
      for (const h of scores) if (!filtered.NodeNames.includes(h.Host)) expect(h.Score).toBeLessThanOrEqual(keptLowest);
      expect(filtered.NodeNames).toContain('n-d');
    } finally {
      await mesh.stopExtender();
      await mesh.restartExtender();
    }
  }, 120_000);
});

describe('nodes the cluster stream has not brought yet', () => {
  test('a fresh node is waited for, then decided', async () => {
    const small = { ...pod('small', { cpu: '100m' }), metadata: { name: 'small', namespace: 'default', uid: 'small-uid' } };
    const answer = mesh.post('filter', { Pod: small, NodeNames: ['n-d', 'fresh'] });
    // The node is created only once the verb is waiting for it.
    await pollUntil(async () => (mesh.extender.view.waiting > 0 ? true : undefined), { what: 'the filter waiting for fresh', timeoutMs: 30_000, intervalMs: 20 });
    await createFakeNodes(cp.kubeConfig, [{ name: 'fresh', capacity: { cpu: '1', memory: '4Gi', pods: '110' } }]);
    expect(await answer).toEqual({ status: 200, body: { Nodes: null, NodeNames: ['n-d', 'fresh'], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' } });
  }, 60_000);

  test('past the bound, a node still unknown is a FailedNode with the reason, and the others are answered', async () => {
    const small = { ...pod('small', { cpu: '100m' }), metadata: { name: 'small', namespace: 'default', uid: 'small-uid' } };
    const res = await mesh.post('filter', { Pod: small, NodeNames: ['never', 'n-d'] });
    expect(res.body).toEqual({
      Nodes: null,
      NodeNames: ['n-d'],
      FailedNodes: { never: `node is not in schedmesh's cluster state: it did not arrive on the cluster stream within ${NODE_WAIT_MS} ms` },
      FailedAndUnresolvableNodes: {},
      Error: '',
    });
  }, 60_000);
});

describe('hostile requests against the real mesh change nothing', () => {
  const good = () => ({ PodName: 'pending', PodNamespace: 'default', PodUID: uid('pending'), Node: 'n-d' });
  const filterArgs = (over: object) => JSON.stringify({ Pod: { metadata: { name: 'x', namespace: 'default', uid: 'x-uid' }, spec: { containers: [{ name: 'c' }] } }, NodeNames: ['n-d'], ...over });

  beforeAll(async () => {
    await created(pod('pending', { cpu: '100m' }));
    await created(pod('resident', { cpu: '100m', node: 'n-b' }));
    // A node that no longer exists: the extender's replica has seen it go.
    await cp.core.deleteNode({ name: 'doomed' });
    await pollUntil(async () => (mesh.extender.view.node('doomed') === undefined ? true : undefined), { what: 'the extender sees doomed deleted', timeoutMs: 60_000 });
  }, 90_000);

  const cases: [string, string, () => unknown, number, RegExp][] = [
    ['a bind for a pod that does not exist', 'bind', () => ({ ...good(), PodName: 'no-such-pod' }), 200, /pod default\/no-such-pod .* does not exist/],
    ['a bind whose UID is not the pod’s', 'bind', () => ({ ...good(), PodUID: 'stale-uid' }), 200, /does not exist/],
    ['a bind to a node that no longer exists', 'bind', () => ({ ...good(), Node: 'doomed' }), 200, /node doomed does not exist/],
    ['a bind to a node that never existed', 'bind', () => ({ ...good(), Node: 'nowhere' }), 200, /node nowhere does not exist/],
    ['a bind of a pod bound elsewhere', 'bind', () => ({ ...good(), PodName: 'resident', PodUID: uid('resident') }), 200, /already bound to node n-b/],
    ['a bind with an empty node', 'bind', () => ({ ...good(), Node: '' }), 400, /Node: must be a non-empty node name/],
    ['a bind with a numeric UID', 'bind', () => ({ ...good(), PodUID: 12 }), 400, /PodUID: must be a string/],
    ['a truncated filter body', 'filter', () => filterArgs({}).slice(0, 40), 400, /not valid JSON/],
    ['a huge filter body', 'filter', () => `{"Pod": {}, "NodeNames": [${'"n-d",'.repeat(MAX_BODY / 5)}"n-d"]}`, 413, /larger than 1048576 bytes/],
    ['a filter whose Pod is an array', 'filter', () => filterArgs({ Pod: [] }), 400, /Pod: must be a JSON object/],
    ['a filter with an empty pod', 'filter', () => filterArgs({ Pod: {} }), 400, /ExtenderArgs.Pod: .*metadata: required/],
    ['a filter whose node list is an object', 'filter', () => filterArgs({ NodeNames: { 'n-d': true } }), 400, /NodeNames: must be an array/],
    ['a filter with a node object of a bad quantity', 'filter', () => filterArgs({ NodeNames: null, Nodes: { items: [{ metadata: { name: 'n-d' }, status: { allocatable: { cpu: 'many' } } }] } }), 400, /Nodes\.items\[0\].*cpu/],
    ['a prioritize with a pod of a bad quantity', 'prioritize', () => filterArgs({ Pod: { metadata: { name: 'x', namespace: 'default', uid: 'u' }, spec: { containers: [{ name: 'c', resources: { requests: { memory: '-1Gi' } } }] } } }), 400, /memory/],
    ['a preempt whose victims are a list', 'preempt', () => ({ Pod: {}, NodeNameToMetaVictims: [] }), 400, /NodeNameToMetaVictims: must be a map/],
    ['a preempt with a victim UID of the wrong type', 'preempt', () => filterArgs({ NodeNames: undefined, NodeNameToMetaVictims: { 'n-a': { Pods: [{ UID: false }] } } }), 400, /UID: must be a string/],
  ];
  test.each(cases)('%s: answered %#, no lease or pod changed', async (_, verb, body, status, message) => {
    const before = await redisState();
    const res = await mesh.post(verb, body());
    expect(res.status).toBe(status);
    expect((res.body as { Error: string }).Error).toMatch(message);
    expect(await redisState()).toEqual(before);
    expect((await cp.core.readNamespacedPod({ namespace: 'default', name: 'pending' })).spec?.nodeName ?? '').toBe('');
  }, 60_000);

  test('a preempt naming only victims schedmesh does not know frees no node', async () => {
    const before = await redisState();
    const res = await mesh.post('preempt', { Pod: await highPod(), NodeNameToMetaVictims: { 'n-a': meta('uid:unknown-1'), 'n-c': meta('uid:unknown-2') } });
    expect(res).toEqual({ status: 200, body: { NodeNameToMetaVictims: {} } });
    expect(await redisState()).toEqual(before);
  }, 60_000);

  test('a bind decided on the replica’s copy of a pod bound elsewhere since is refused, and keeps no lease', async () => {
    await created(pod('moved', { cpu: '100m' }));
    const view = mesh.extender.view;
    const pending = await pollUntil(async () => view.pendingPod(uid('moved')), { what: 'the extender holds moved as pending', timeoutMs: 60_000 });
    await cp.core.createNamespacedPodBinding({
      namespace: 'default',
      name: 'moved',
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'moved', namespace: 'default', uid: uid('moved') }, target: { apiVersion: 'v1', kind: 'Node', name: 'n-a' } },
    });
    await pollUntil(async () => (view.pendingPod(uid('moved')) === undefined ? true : undefined), { what: 'the extender sees moved bound', timeoutMs: 60_000 });
    // A replica that lags the API server, made deterministic: the pending copy written back as if the bound event had not arrived.
    view.apply({ generation: mesh.extender.gate!.generation, type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'pod', value: pending } });
    expect(view.pendingPod(uid('moved'))).toBe(pending);
    const res = await mesh.post('bind', { PodName: 'moved', PodNamespace: 'default', PodUID: uid('moved'), Node: 'n-d' });
    expect(res).toEqual({ status: 200, body: { Error: expect.stringMatching(/pod default\/moved .* is bound to node n-a, not n-d/) } });
    // No lease on n-d: neither n-d's ledger nor the pod's index names it there.
    const state = await redisState();
    expect(Object.entries(state).filter(([key, value]) => key.includes('{n-d}') && JSON.stringify(value).includes(uid('moved')))).toEqual([]);
    expect(state[`${mesh.redisKeyPrefix}:pod:{${uid('moved')}}`]).not.toBe('n-d');
    expect((await cp.core.readNamespacedPod({ namespace: 'default', name: 'moved' })).spec?.nodeName).toBe('n-a');
  }, 60_000);

  test('the state read back is reservation’s own: a real bind does change it', async () => {
    const before = await redisState();
    expect(Object.keys(before).length).toBeGreaterThan(0);
    expect(await mesh.post('bind', good())).toEqual({ status: 200, body: { Error: '' } });
    expect(await redisState()).not.toEqual(before);
    expect((await cp.core.readNamespacedPod({ namespace: 'default', name: 'pending' })).spec?.nodeName).toBe('n-d');
  }, 60_000);
});
