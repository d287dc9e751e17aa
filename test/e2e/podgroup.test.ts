// Gangs from scheduler-plugins' PodGroup objects, on a real control plane
// (etcd + kube-apiserver) with the mesh in-process: informer, snapshot,
// filterscore, reservation (real Redis) and the scheduler binding pods with
// schedulerName: schedmesh. Members carry the pod-group label only, no
// schedmesh annotations: minMember and the Permit timeout come from the
// PodGroup object.
//
// The informer starts before the PodGroup CRD exists: it must be ready
// without it, and publish PodGroups once the CRD is applied.
//
// Nothing waits on a sleep: every wait polls the API for a condition, with
// generous limits for a busy two-core machine.
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { LABEL_POD_GROUP } from '@schedmesh/model';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { schedulerConfigSchema, startSchedulerApp } from '@schedmesh/scheduler-service';
import type { SchedulerApp } from '@schedmesh/scheduler-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { createFakeNodes, fakeNodeObject, fakeNodeSpecs, pollUntil, requireBinary, startControlPlane, testEnvKeys, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';

const CRD = join(__dirname, 'fixtures/podgroup-crd.yaml');
const NAMESPACE = 'ml';
const NODE_CPU = '2';
// One member per node: two do not fit a node.
const MEMBER_CPU = '1500m';
const TIMEOUT_SECONDS = 6;

let cp: ControlPlane;
let informer: InformerApp | undefined;
let snapshot: SnapshotApp | undefined;
let filterscore: FilterScoreApp | undefined;
let reservation: ReservationApp | undefined;
let scheduler: SchedulerApp | undefined;
const figures: Record<string, string> = {};

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, shutdown: { grace: '1s' } };
const grpc = { host: '127.0.0.1', port: 0 };
// One stream and key prefix per run: NATS and Redis outlive this suite.
const run = `podgroup-e2e-${process.pid}`;
const nats = () => ({ url: process.env[testEnvKeys.natsUrl]!, stream: `PODGROUP_E2E_${process.pid}`, subjectPrefix: run, memoryStorage: true });
const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

function member(name: string, group: string, pool: string, cpu = MEMBER_CPU): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { [LABEL_POD_GROUP]: group } },
    spec: {
      schedulerName: 'schedmesh',
      nodeSelector: { pool },
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu, memory: '256Mi' } } }],
    },
  };
}

async function applyPodGroup(name: string, minMember: number, scheduleTimeoutSeconds?: number): Promise<void> {
  const spec = { minMember, ...(scheduleTimeoutSeconds !== undefined ? { scheduleTimeoutSeconds } : {}) };
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'scheduling.x-k8s.io/v1alpha1', kind: 'PodGroup', metadata: { name, namespace: NAMESPACE }, spec }));
}

async function failedScheduling(): Promise<CoreV1Event[]> {
  return (await cp.core.listNamespacedEvent({ namespace: NAMESPACE })).items.filter((e) => e.reason === 'FailedScheduling');
}

const nodeOf = async (name: string): Promise<string> => (await cp.core.readNamespacedPod({ namespace: NAMESPACE, name })).spec?.nodeName ?? '';

beforeAll(async () => {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kubectl');
  cp = await startControlPlane();
  await cp.core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  // Room for exactly 3 members of the gang; the solo pool for the missing-group case.
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(3, { prefix: 'gang-node', labels: { pool: 'gang' }, capacity: { cpu: NODE_CPU, memory: '4Gi', pods: '110' } }));
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(1, { prefix: 'solo-node', labels: { pool: 'solo' }, capacity: { cpu: NODE_CPU, memory: '4Gi', pods: '110' } }));

  const kubeconfig = cp.kubeconfigPath;
  // No PodGroup CRD yet: the informer must become ready all the same.
  informer = await startInformerApp(
    informerConfigSchema.parse({ ...common, grpc, nats: nats(), source: { kubeconfig, admissionPolicies: false, pluginConfigMap: '', profilesConfigMap: '', restartBackoff: '100ms' } }),
    { handleSignals: false },
  );
  const readyz = `http://127.0.0.1:${informer.httpPort}/readyz`;
  await pollUntil(async () => ((await fetch(readyz)).status === 200 ? true : undefined), { what: 'informer ready without the PodGroup CRD', timeoutMs: 60_000, intervalMs: 250 });

  await kubectl(['apply', '-f', CRD]);
  await kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd/podgroups.scheduling.x-k8s.io']);

  snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, grpc, nats: nats() }), { handleSignals: false });
  filterscore = await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc, snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }), { handleSignals: false });
  reservation = await startReservation(reservationConfigSchema.parse({ ...common, grpc, nats: nats(), redis: { url: process.env[testEnvKeys.redisUrl]!, keyPrefix: run } }), {
    handleSignals: false,
  });
  scheduler = await startSchedulerApp(
    schedulerConfigSchema.parse({
      ...common,
      grpc,
      nats: nats(),
      filterscore: { address: `127.0.0.1:${filterscore.grpcPort}` },
      reservation: { address: `127.0.0.1:${reservation.grpcPort}` },
      kubernetes: { kubeconfig },
      scheduler: {
        durableName: run,
        instance: 'podgroup-e2e',
        profilesConfigMap: '',
        // Gang members must meet inside one Permit round: backoff stays well under the group's timeout.
        podInitialBackoff: '500ms',
        podMaxBackoff: '2s',
        // Every gang node is tried at Reserve, not only the first three ranked.
        maxReserveTries: 5,
      },
    }),
    { handleSignals: false },
  );
  await pollUntil(async () => (scheduler!.source.gate.synced && scheduler!.source.viewNodes() === 4 ? true : undefined), { what: 'scheduler view in sync', timeoutMs: 60_000 });
}, 240_000);

afterAll(async () => {
  for (const app of [scheduler, reservation, filterscore, snapshot, informer]) await app?.stop().catch(() => undefined);
  await cp?.stop();
  if (Object.keys(figures).length > 0) console.log(`podgroup e2e figures:\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
}, 120_000);

describe('gangs from PodGroup objects on a real control plane', () => {
  test('a pod naming a missing PodGroup stays Pending with "not found", then binds once the group (minMember 1) is created', async () => {
    await cp.core.createNamespacedPod({ namespace: NAMESPACE, body: member('solo', 'later', 'solo', '250m') });
    const message = await pollUntil(
      async () => {
        const pod = await cp.core.readNamespacedPod({ namespace: NAMESPACE, name: 'solo' });
        const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
        const event = (await failedScheduling()).find((e) => e.involvedObject.name === 'solo');
        return cond && event ? { condition: cond.message ?? '', event: event.message ?? '' } : undefined;
      },
      { what: 'PodScheduled=False and FailedScheduling on the pod of the missing group', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(message.condition).toContain('pod group ml/later not found');
    expect(message.event).toContain('pod group ml/later not found');
    expect(await nodeOf('solo')).toBe('');

    const created = Date.now();
    await applyPodGroup('later', 1);
    // The PodGroup event moves the parked pod back: no five-minute flush, no backoff to wait out.
    const node = await pollUntil(async () => (await nodeOf('solo')) || undefined, { what: 'the pod bound after its PodGroup was created', timeoutMs: 60_000, intervalMs: 250 });
    figures['PodGroup created -> pod bound'] = `${Date.now() - created} ms`;
    expect(node).toBe('solo-node-0');
  }, 180_000);

  test('a PodGroup of 4 with room for 3 binds nobody until a node for the fourth is added, then all 4, one per node', async () => {
    const members = ['train-0', 'train-1', 'train-2', 'train-3'];
    await applyPodGroup('train', 4, TIMEOUT_SECONDS);
    const created = Date.now();
    await Promise.all(members.map((n) => cp.core.createNamespacedPod({ namespace: NAMESPACE, body: member(n, 'train', 'gang') })));

    // Three members reserve and wait at Permit for a fourth that finds no room; once the group's
    // timeout passes, the round fails: every member gets a FailedScheduling naming the gang.
    const refused = await pollUntil(
      async () => {
        const events = (await failedScheduling()).filter((e) => members.includes(e.involvedObject.name!));
        const byPod = new Map<string, string[]>();
        for (const e of events) byPod.set(e.involvedObject.name!, [...(byPod.get(e.involvedObject.name!) ?? []), e.message ?? '']);
        const timedOut = events.filter((e) => /pod group ml\/train: .*timed out.*\/4 reserved/.test(e.message ?? ''));
        return members.every((n) => byPod.has(n)) && timedOut.length > 0 ? byPod : undefined;
      },
      { what: 'FailedScheduling for all 4 members, a Permit timeout of group train among them', timeoutMs: 120_000, intervalMs: 250 },
    );
    figures['gang: create -> all 4 refused'] = `${Date.now() - created} ms`;
    // The round lasted the PodGroup's scheduleTimeoutSeconds (no annotation says so).
    expect(Date.now() - created).toBeGreaterThanOrEqual(TIMEOUT_SECONDS * 1000);
    figures['gang: refusals'] = JSON.stringify(Object.fromEntries([...refused].map(([n, msgs]) => [n, msgs[0]])));
    for (const [n, msgs] of refused) for (const m of msgs) expect(`${n}: ${m}`).toMatch(new RegExp(`^${n}: pod group ml/train: `));
    for (const n of members) expect(await nodeOf(n)).toBe('');

    const added = Date.now();
    await cp.core.createNode({
      body: fakeNodeObject({ ...fakeNodeSpecs(1, { prefix: 'gang-node-extra' })[0]!, labels: { pool: 'gang' }, capacity: { cpu: NODE_CPU, memory: '4Gi', pods: '110' } }),
    });
    const nodes = await pollUntil(
      async () => {
        const bound = await Promise.all(members.map(nodeOf));
        return bound.every((n) => n !== '') ? bound : undefined;
      },
      { what: 'all 4 members bound after the node was added', timeoutMs: 120_000, intervalMs: 500 },
    );
    figures['gang: node added -> all 4 bound'] = `${Date.now() - added} ms`;
    expect(new Set(nodes).size).toBe(4);
  }, 300_000);
});
