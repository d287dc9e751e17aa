// Preemption end to end on a real control plane (etcd + kube-apiserver), with
// the mesh of scheduler.test.ts minus admission and the gateway: two small
// fake nodes full of low-priority pods, and a high-priority pod that fits
// only if some go. The scheduler evicts the cheapest victims through the
// Eviction API, nominates the node on the preemptor, and binds it there once
// the victims are gone. Every check reads the API server.
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { schedulerConfigSchema, startSchedulerApp } from '@schedmesh/scheduler-service';
import type { SchedulerApp } from '@schedmesh/scheduler-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { createFakeNodes, pollUntil, requireBinary, startControlPlane, testEnvKeys, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';

let cp: ControlPlane;
let informer: InformerApp | undefined;
let snapshot: SnapshotApp | undefined;
let filterscore: FilterScoreApp | undefined;
let reservation: ReservationApp | undefined;
let scheduler: SchedulerApp | undefined;

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, shutdown: { grace: '1s' } };
const grpc = { host: '127.0.0.1', port: 0 };
const stream = `PREEMPT_E2E_${process.pid}`;
const subjectPrefix = `preempt-e2e-${process.pid}`;
const nats = () => ({ url: process.env[testEnvKeys.natsUrl]!, stream, subjectPrefix, memoryStorage: true });
const NODES = ['small-a', 'small-b'];
// The informer watches AdmissionPolicies; without the CRD it retries a 404 in a loop.
const CRD = join(__dirname, '../../deploy/base/crds/admissionpolicy.yaml');

/** A pod of one CPU: bound by hand to `node` (a resident), or left to schedmesh. */
function pod(name: string, priorityClassName: string, node?: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'preempt-e2e' } },
    spec: {
      ...(node ? { nodeName: node } : { schedulerName: 'schedmesh' }),
      priorityClassName,
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: '1', memory: '256Mi' } } }],
    },
  };
}

const readPod = (name: string): Promise<V1Pod> => cp.core.readNamespacedPod({ namespace: 'default', name });

beforeAll(async () => {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kubectl');
  cp = await startControlPlane();
  await runKubectl(cp, ['apply', '-f', CRD]);
  await runKubectl(cp, ['wait', '--for', 'condition=established', '--timeout=30s', 'crd/admissionpolicies.schedmesh.io']);
  await runKubectl(cp, ['create', 'namespace', 'schedmesh-system']);
  // spec.priority cannot be set directly: the Priority admission plugin refuses a value it did not resolve from a class.
  const classes = [
    ['e2e-low', 10],
    ['e2e-mid', 50],
    ['e2e-high', 1000],
  ] as const;
  await runKubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: classes.map(([name, value]) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value })) }));
  await createFakeNodes(cp.kubeConfig, NODES.map((name) => ({ name, capacity: { cpu: '2', memory: '8Gi', pods: '110' } })));

  const kubeconfig = cp.kubeconfigPath;
  informer = await startInformerApp(informerConfigSchema.parse({ ...common, grpc, nats: nats(), source: { kubeconfig } }), { handleSignals: false });
  snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, grpc, nats: nats() }), { handleSignals: false });
  filterscore = await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc, nats: nats(), snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }), { handleSignals: false });
  reservation = await startReservation(
    reservationConfigSchema.parse({ ...common, grpc, nats: nats(), redis: { url: process.env[testEnvKeys.redisUrl]!, keyPrefix: `preempt-e2e-${process.pid}` } }),
    { handleSignals: false },
  );
  scheduler = await startSchedulerApp(
    schedulerConfigSchema.parse({
      ...common,
      grpc,
      nats: nats(),
      filterscore: { address: `127.0.0.1:${filterscore.grpcPort}` },
      reservation: { address: `127.0.0.1:${reservation.grpcPort}` },
      kubernetes: { kubeconfig },
      scheduler: { durableName: `preempt-e2e-${process.pid}`, instance: 'preempt-e2e-0' },
    }),
    { handleSignals: false },
  );
  await pollUntil(async () => (scheduler!.source.gate.synced && scheduler!.source.viewNodes() === NODES.length ? true : undefined), { what: 'scheduler view in sync', timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  for (const app of [scheduler, reservation, filterscore, snapshot, informer]) await app?.stop().catch(() => undefined);
  await cp?.stop();
}, 60_000);

describe('preemption on a real control plane', () => {
  test('evicts the cheapest victims that suffice, nominates their node, and binds the preemptor there once they are gone', async () => {
    // small-a: priorities 10 and 50; small-b: 50 and 50. Freeing one CPU on small-a costs a priority-10 pod.
    const residents = [pod('low-a', 'e2e-low', 'small-a'), pod('mid-a', 'e2e-mid', 'small-a'), pod('mid-b1', 'e2e-mid', 'small-b'), pod('mid-b2', 'e2e-mid', 'small-b')];
    for (const body of residents) await cp.core.createNamespacedPod({ namespace: 'default', body });
    // Created after the residents: the attempt waits for the generation it was seen at, so it sees them all.
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('urgent', 'e2e-high') });

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
    await pollUntil(
      async () => {
        const events = (await cp.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=urgent' })).items;
        return events.find((e) => e.reason === 'FailedScheduling' && /preemption: evicting 1 pod\(s\) \(default\/low-a\) on node small-a/.test(e.message ?? ''));
      },
      { what: 'a FailedScheduling event naming the preemption', timeoutMs: 10_000, intervalMs: 200 },
    );

    // No kubelet runs here: finish the victim's graceful deletion as its kubelet would, with grace 0.
    await cp.core.deleteNamespacedPod({ namespace: 'default', name: 'low-a', gracePeriodSeconds: 0 });
    const bound = await pollUntil(async () => (await readPod('urgent')).spec?.nodeName, { what: 'urgent bound', timeoutMs: 30_000, intervalMs: 200 });
    expect(bound).toBe('small-a');
    for (const name of ['mid-a', 'mid-b1', 'mid-b2']) expect((await readPod(name)).metadata?.deletionTimestamp).toBeUndefined();
  }, 90_000);
});
