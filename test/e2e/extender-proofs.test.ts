// What the extender changes for a stock kube-scheduler, shown on one real
// control plane with two real kube-schedulers side by side: "default-scheduler"
// configured with the extender (filter, prioritize, bind; nodeCacheCapable;
// ignorable: false) and "stock-scheduler" without it; plus a schedmesh
// scheduler replica (schedulerName: schedmesh). The mesh runs in-process on
// real NATS and Redis. Every result is read back from the API server.
//
// - topology: pods preferring a zone land in it through the extender, and
//   spread over both zones with kube-scheduler alone;
// - outage (ignorable: false): pods wait while the extender is down and bind
//   through it once it is back;
// - preemption: kube-scheduler asks the extender's preempt verb before it
//   evicts, and the preemptor binds where the victims were;
// - overbooking: kube-scheduler + extender and the schedmesh replica share
//   room for exactly OVERBOOK_ROOM pods; twice as many are submitted.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { milliValue } from '@schedmesh/model';
import { createFakeNodes, fakeNodeSpecs, kubectl, pollUntil, startKubeScheduler, ZONE_LABEL } from '@schedmesh/testkit';
import type { ControlPlane, KubeScheduler } from '@schedmesh/testkit';
import { extenderEntry } from './extender-entry.js';
import { startExtenderControlPlane, startExtenderMesh } from './extender-mesh.js';
import type { ExtenderMesh } from './extender-mesh.js';

const NODES = 10;
/** Overbooking nodes: tainted, so only the overbooking pods (which tolerate it) go there. */
const OVERBOOK_NODES = 10;
/** 4 CPUs per node and 400m per pod: exactly 10 pods a node. */
const OVERBOOK_ROOM = OVERBOOK_NODES * 10;
const OVERBOOK_TAINT = { key: 'schedmesh.io/overbook', value: 'true', effect: 'NoSchedule' };
const PREFERRED_ZONE = 'zone-1';
const TOPOLOGY_PODS = 8;
/** The node the preemption test fills and then claims whole. */
const PREEMPT_NODE = 'fake-node-9';
/** The extender's verb timeout here; kube-scheduler waits 5 s more. */
const VERB_TIMEOUT_MS = 25_000;

let cp: ControlPlane;
let mesh: ExtenderMesh | undefined;
const kubeSchedulers: KubeScheduler[] = [];
const figures: Record<string, string> = {};

function pod(name: string, opts: { schedulerName?: string; cpu?: string; annotations?: Record<string, string>; overbook?: boolean } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'ext-proofs' }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      ...(opts.schedulerName ? { schedulerName: opts.schedulerName } : {}),
      ...(opts.overbook ? { nodeSelector: { pool: 'overbook' }, tolerations: [{ key: OVERBOOK_TAINT.key, operator: 'Equal', value: 'true', effect: 'NoSchedule' }] } : {}),
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: opts.cpu ?? '250m', memory: '64Mi' } } }],
    },
  };
}

const listPods = async (prefix: string): Promise<V1Pod[]> =>
  (await cp.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=ext-proofs' })).items.filter((p) => p.metadata!.name!.startsWith(prefix));

async function allBound(prefix: string, count: number): Promise<V1Pod[]> {
  return pollUntil(
    async () => {
      const pods = await listPods(prefix);
      return pods.length === count && pods.every((p) => p.spec?.nodeName) ? pods : undefined;
    },
    { what: `${count} ${prefix}* pods bound`, timeoutMs: 180_000, intervalMs: 500 },
  );
}

/** Waits until the extender has answered at least `atLeast` requests of a verb: a pod shows bound before the bind verb has answered (Confirm follows the Binding). */
const answered = (verb: string, atLeast: number): Promise<number> =>
  pollUntil(
    async () => {
      const n = await mesh!.requests(verb);
      return n >= atLeast ? n : undefined;
    },
    { what: `${atLeast} ${verb} answers`, timeoutMs: 60_000 },
  );

beforeAll(async () => {
  cp = await startExtenderControlPlane({ kubeScheduler: true });
  await kubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'proofs-high' }, value: 1000 }));
  await createFakeNodes(cp.kubeConfig, [
    ...fakeNodeSpecs(NODES, { zones: 2, racksPerZone: 2 }),
    ...fakeNodeSpecs(OVERBOOK_NODES, { prefix: 'overbook', zones: 1, labels: { pool: 'overbook' } }).map((s) => ({ ...s, taints: [OVERBOOK_TAINT] })),
  ]);
  // Verb timeouts far above a verb's time even on a loaded machine: a preempt verb past its timeout leaves kube-scheduler's preemptor
  // parked as unschedulable until a cluster event or 5 minutes (its podMaxInUnschedulablePodsDuration), past this file's waits.
  mesh = await startExtenderMesh(cp, { tag: 'ext-proofs', nodes: NODES + OVERBOOK_NODES, scheduler: true, extender: { verbTimeout: VERB_TIMEOUT_MS } });
  kubeSchedulers.push(
    // A weight of 10: the zone preference outweighs the spreading of kube-scheduler's own scores.
    await startKubeScheduler(cp, { config: { extenders: [extenderEntry(mesh, { ignorable: false, weight: 10, preempt: true, httpTimeout: `${VERB_TIMEOUT_MS / 1000 + 5}s` })] } }),
    await startKubeScheduler(cp, { config: { profiles: [{ schedulerName: 'stock-scheduler' }] } }),
  );
}, 300_000);

afterAll(async () => {
  if (Object.keys(figures).length > 0) console.log(`extender proofs:\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
  for (const s of kubeSchedulers) await s.stop();
  await mesh?.stop();
  await cp?.stop();
}, 120_000);

describe('kube-scheduler with the extender, against kube-scheduler alone', () => {
  test('topology-aware scoring puts pods in their preferred zone; kube-scheduler alone spreads them', async () => {
    const zoneOf = new Map((await cp.core.listNode()).items.map((n) => [n.metadata!.name!, n.metadata!.labels?.[ZONE_LABEL]]));
    const prefer = { 'schedmesh.io/preferred-zone': PREFERRED_ZONE };
    // kube-scheduler alone first, so that the extender's pods meet nodes loaded evenly, not a fresh cluster.
    for (let i = 0; i < TOPOLOGY_PODS; i++) await cp.core.createNamespacedPod({ namespace: 'default', body: pod(`topo-stock-${i}`, { schedulerName: 'stock-scheduler', annotations: prefer }) });
    const stock = await allBound('topo-stock-', TOPOLOGY_PODS);
    for (let i = 0; i < TOPOLOGY_PODS; i++) await cp.core.createNamespacedPod({ namespace: 'default', body: pod(`topo-ext-${i}`, { annotations: prefer }) });
    const withExtender = await allBound('topo-ext-', TOPOLOGY_PODS);

    const inZone = (pods: V1Pod[]) => pods.filter((p) => zoneOf.get(p.spec!.nodeName!) === PREFERRED_ZONE).length;
    figures[`pods in ${PREFERRED_ZONE}`] = `with the extender ${inZone(withExtender)}/${TOPOLOGY_PODS}, kube-scheduler alone ${inZone(stock)}/${TOPOLOGY_PODS}`;
    expect(inZone(withExtender)).toBe(TOPOLOGY_PODS);
    expect(inZone(stock)).toBeLessThan(TOPOLOGY_PODS);
    // The preference is the extender's: it bound every one of them.
    expect(await answered('bind', TOPOLOGY_PODS)).toBe(TOPOLOGY_PODS);
  }, 240_000);

  test('ignorable: false — pods wait while the extender is down and bind through it once it is back', async () => {
    await mesh!.stopExtender();
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('outage-0') });
    const event = await pollUntil(
      async () => (await cp.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=outage-0' })).items.find((e) => e.reason === 'FailedScheduling'),
      { what: 'FailedScheduling while the extender is down', timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(event.message).toMatch(/extender|connection refused|schedmesh/i);
    expect((await cp.core.readNamespacedPod({ namespace: 'default', name: 'outage-0' })).spec?.nodeName ?? '').toBe('');

    await mesh!.restartExtender();
    const [bound] = await allBound('outage-', 1);
    expect(bound!.spec!.nodeName).toMatch(/^fake-node-/);
    expect(await answered('bind', 1)).toBe(1);
  }, 400_000);

  test('preemption: kube-scheduler asks the extender, evicts, and the preemptor binds on the freed node', async () => {
    // A resident of lower priority, bound by hand, so that the node is never empty.
    await cp.core.createNamespacedPod({ namespace: 'default', body: { ...pod('resident'), spec: { ...pod('resident').spec!, nodeName: PREEMPT_NODE } } });
    // The whole node: every pod on it must go, and only this node is allowed.
    const preemptor = pod('preemptor', { cpu: '4' });
    preemptor.spec = { ...preemptor.spec!, priorityClassName: 'proofs-high', nodeSelector: { 'kubernetes.io/hostname': PREEMPT_NODE } };
    await cp.core.createNamespacedPod({ namespace: 'default', body: preemptor });

    const onNode = async () => (await listPods('')).filter((p) => p.spec?.nodeName === PREEMPT_NODE && p.metadata!.name !== 'preemptor');
    const victims = await pollUntil(
      async () => {
        const pods = await onNode();
        return pods.length > 0 && pods.every((p) => p.metadata?.deletionTimestamp) ? pods : undefined;
      },
      { what: `every pod on ${PREEMPT_NODE} being deleted by preemption`, timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(await mesh!.requests('preempt')).toBeGreaterThan(0);
    figures['preemption'] = `${victims.length} victim(s) on ${PREEMPT_NODE}: ${victims.map((p) => p.metadata!.name).join(', ')}`;
    // No kubelet runs here: finish the deletions as it would.
    for (const v of victims) await cp.core.deleteNamespacedPod({ namespace: 'default', name: v.metadata!.name!, gracePeriodSeconds: 0 });
    const [bound] = await allBound('preemptor', 1);
    expect(bound!.spec!.nodeName).toBe(PREEMPT_NODE);
  }, 240_000);

  test(`overbooking: kube-scheduler + extender and a schedmesh replica share room for ${OVERBOOK_ROOM}; ${2 * OVERBOOK_ROOM} submitted, exactly ${OVERBOOK_ROOM} bound`, async () => {
    const names = Array.from({ length: 2 * OVERBOOK_ROOM }, (_, i) => `overbook-${i}`);
    // Interleaved: even pods to kube-scheduler (and the extender), odd ones to the schedmesh replica.
    const create = async (i: number): Promise<void> => {
      await cp.core.createNamespacedPod({ namespace: 'default', body: pod(names[i]!, { cpu: '400m', overbook: true, ...(i % 2 === 1 ? { schedulerName: 'schedmesh' } : {}) }) });
    };
    for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((_, j) => create(i + j)));

    // Settled: the room is full, and every pod left over was tried and found no room (PodScheduled=False).
    const pods = await pollUntil(
      async () => {
        const all = await listPods('overbook-');
        const bound = all.filter((p) => p.spec?.nodeName);
        const refused = all.filter((p) => !p.spec?.nodeName && p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'));
        return all.length === names.length && bound.length >= OVERBOOK_ROOM && bound.length + refused.length === names.length ? all : undefined;
      },
      { what: `${OVERBOOK_ROOM} overbook pods bound and the rest refused`, timeoutMs: 300_000, intervalMs: 1_000 },
    );
    const bound = pods.filter((p) => p.spec?.nodeName);
    figures['overbooking'] = `${bound.length} of ${names.length} bound (room ${OVERBOOK_ROOM})`;
    expect(bound).toHaveLength(OVERBOOK_ROOM);

    const nodes = (await cp.core.listNode({ labelSelector: 'pool=overbook' })).items;
    for (const node of nodes) {
      const on = bound.filter((p) => p.spec!.nodeName === node.metadata!.name);
      const requested = on.reduce((sum, p) => sum + milliValue(p.spec!.containers[0]!.resources!.requests!.cpu!), 0);
      expect({ node: node.metadata!.name, requested: requested <= milliValue(node.status!.allocatable!.cpu!) }).toEqual({ node: node.metadata!.name, requested: true });
    }
    // Both schedulers took part: the race was real.
    const byKube = bound.filter((p) => (p.spec!.schedulerName ?? 'default-scheduler') === 'default-scheduler').length;
    figures['overbooking'] += `: ${byKube} by kube-scheduler + extender, ${bound.length - byKube} by the schedmesh replica`;
    expect(byKube).toBeGreaterThan(0);
    expect(bound.length - byKube).toBeGreaterThan(0);
  }, 420_000);
});
