// The extender end to end with the real kube-scheduler: etcd + kube-apiserver,
// fake nodes, the mesh in-process (informer, snapshot, filterscore,
// reservation on real Redis, admission) and the extender, and the stock
// kube-scheduler configured with it (filter, prioritize, bind;
// nodeCacheCapable: true; ignorable: true). Every check reads pods and events
// back from the API server.
import { request } from 'node:http';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { extenderConfigSchema, startExtenderApp } from '@schedmesh/extender-service';
import type { ExtenderApp } from '@schedmesh/extender-service';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { createFakeNodes, fakeNodeSpecs, pollUntil, requireBinary, startControlPlane, startKubeScheduler, testEnvKeys, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane, KubeScheduler } from '@schedmesh/testkit';

const NODES = 10;
const PODS = 12;
const CRD = join(__dirname, '../../deploy/base/crds/admissionpolicy.yaml');

let cp: ControlPlane;
let informer: InformerApp | undefined;
let snapshot: SnapshotApp | undefined;
let filterscore: FilterScoreApp | undefined;
let reservation: ReservationApp | undefined;
let admission: AdmissionApp | undefined;
let extender: ExtenderApp | undefined;
let kubeScheduler: KubeScheduler | undefined;

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, shutdown: { grace: '1s' } };
const grpc = { host: '127.0.0.1', port: 0 };
const stream = `EXT_E2E_${process.pid}`;
const subjectPrefix = `ext-e2e-${process.pid}`;
const nats = () => ({ url: process.env[testEnvKeys.natsUrl]!, stream, subjectPrefix, memoryStorage: true });

const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

function pod(name: string, namespace = 'default'): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'ext-e2e' } },
    spec: { containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: '250m', memory: '256Mi' } } }] },
  };
}

async function eventsOf(name: string, namespace = 'default'): Promise<{ reason?: string; message?: string }[]> {
  return (await cp.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;
}

function postExtender(verb: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${extender!.server.urlPrefix}/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as unknown }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function extenderRequests(verb: string): Promise<number> {
  const metric = await extender!.runtime.metrics.getSingleMetric('schedmesh_extender_requests_total')?.get();
  return (metric?.values ?? []).filter((v) => v.labels.verb === verb && v.labels.code === '200').reduce((a, v) => a + v.value, 0);
}

beforeAll(async () => {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kube-scheduler');
  requireBinary('kubectl');
  cp = await startControlPlane();
  await kubectl(['apply', '-f', CRD]);
  await kubectl(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/admissionpolicies.schedmesh.io']);
  await kubectl(['create', 'namespace', 'locked']);
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(NODES, { zones: 2, racksPerZone: 2 }));

  const kubeconfig = cp.kubeconfigPath;
  informer = await startInformerApp(informerConfigSchema.parse({ ...common, grpc, nats: nats(), source: { kubeconfig } }), { handleSignals: false });
  snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, grpc, nats: nats() }), { handleSignals: false });
  filterscore = await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc, snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }), { handleSignals: false });
  reservation = await startReservation(
    reservationConfigSchema.parse({ ...common, grpc, nats: nats(), redis: { url: process.env[testEnvKeys.redisUrl]!, keyPrefix: `ext-e2e-${process.pid}` } }),
    { handleSignals: false },
  );
  admission = await startAdmissionApp(
    admissionConfigSchema.parse({ ...common, grpc, nats: { ...nats(), lastKnownGoodBucket: `ext_e2e_${process.pid}` }, kubernetes: { kubeconfig } }),
    { handleSignals: false },
  );
  extender = await startExtenderApp(
    extenderConfigSchema.parse({
      ...common,
      grpc,
      nats: nats(),
      filterscore: { address: `127.0.0.1:${filterscore.grpcPort}` },
      reservation: { address: `127.0.0.1:${reservation.grpcPort}` },
      admission: { address: `127.0.0.1:${admission.grpcPort}` },
      kubernetes: { kubeconfig },
      extender: { host: '127.0.0.1', port: 0, pathPrefix: '/schedmesh', instance: 'e2e-extender' },
    }),
    { handleSignals: false },
  );
  await pollUntil(async () => (extender!.gate?.synced && extender!.view.size === NODES ? true : undefined), { what: 'extender view in sync', timeoutMs: 60_000 });
  kubeScheduler = await startKubeScheduler(cp, {
    config: {
      extenders: [
        {
          urlPrefix: extender.server.urlPrefix,
          filterVerb: 'filter',
          prioritizeVerb: 'prioritize',
          bindVerb: 'bind',
          weight: 1,
          nodeCacheCapable: true,
          ignorable: true,
          httpTimeout: '5s',
        },
      ],
    },
  });
}, 240_000);

afterAll(async () => {
  await kubeScheduler?.stop();
  for (const app of [extender, admission, reservation, filterscore, snapshot, informer]) await app?.stop().catch(() => undefined);
  await cp?.stop();
}, 120_000);

describe('the extender with the real kube-scheduler', () => {
  test('a pod an AdmissionPolicy rejects stays Pending with a FailedScheduling event carrying the extender reason', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'schedmesh.io/v1alpha1',
        kind: 'AdmissionPolicy',
        metadata: { name: 'lockdown' },
        spec: { targetNamespaces: { names: ['locked'] }, hibernation: { allApps: true } },
      }),
    );
    // The policy reaches admission through the stream; a pod created before that could be admitted.
    await pollUntil(
      async () => {
        const res = await postExtender('filter', { Pod: { ...pod('probe', 'locked'), metadata: { name: 'probe', namespace: 'locked', uid: 'probe-uid' } }, NodeNames: ['fake-node-0'] });
        return Object.keys((res.body as { FailedAndUnresolvableNodes: Record<string, string> }).FailedAndUnresolvableNodes).length > 0 ? true : undefined;
      },
      { what: 'admission applies the lockdown policy', timeoutMs: 60_000, intervalMs: 250 },
    );
    await cp.core.createNamespacedPod({ namespace: 'locked', body: pod('refused', 'locked') });
    const event = await pollUntil(
      async () => (await eventsOf('refused', 'locked')).find((e) => e.reason === 'FailedScheduling'),
      { what: 'FailedScheduling event for the refused pod', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(event.message).toMatch(new RegExp(`^0/${NODES} nodes are available: .*lockdown`));
    const read = await cp.core.readNamespacedPod({ namespace: 'locked', name: 'refused' });
    expect(read.spec?.nodeName ?? '').toBe('');
  }, 120_000);

  test(`${PODS} pods bind through the extender's bind verb, and a retried bind answers success`, async () => {
    const bindsBefore = await extenderRequests('bind');
    const names = Array.from({ length: PODS }, (_, i) => `via-extender-${i}`);
    await Promise.all(names.map((n) => cp.core.createNamespacedPod({ namespace: 'default', body: pod(n) })));
    const pods = await pollUntil(
      async () => {
        const items = (await cp.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=ext-e2e' })).items.filter((p) => p.metadata!.name!.startsWith('via-extender-'));
        return items.length === PODS && items.every((p) => p.spec?.nodeName) ? items : undefined;
      },
      { what: `${PODS} pods bound`, timeoutMs: 120_000, intervalMs: 500 },
    );
    // ignorable: true would fall back to kube-scheduler's own binder on an extender error: the count proves the extender bound them.
    expect((await extenderRequests('bind')) - bindsBefore).toBe(PODS);
    expect(await extenderRequests('filter')).toBeGreaterThanOrEqual(PODS);

    const first = pods[0]!;
    const args = { PodName: first.metadata!.name, PodNamespace: 'default', PodUID: first.metadata!.uid, Node: first.spec!.nodeName };
    expect(await postExtender('bind', args)).toEqual({ status: 200, body: { Error: '' } });
    const other = first.spec!.nodeName === 'fake-node-0' ? 'fake-node-1' : 'fake-node-0';
    expect(((await postExtender('bind', { ...args, Node: other })).body as { Error: string }).Error).toMatch(/is already bound to node/);
    expect(((await postExtender('bind', { ...args, PodName: 'no-such-pod' })).body as { Error: string }).Error).toMatch(/does not exist/);
  }, 180_000);

  test('with ignorable: true and the extender stopped, pods still schedule', async () => {
    await extender!.stop();
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('without-extender') });
    const node = await pollUntil(async () => (await cp.core.readNamespacedPod({ namespace: 'default', name: 'without-extender' })).spec?.nodeName || undefined, {
      what: 'a pod bound with the extender down',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    expect(node).toMatch(/^fake-node-\d+$/);
  }, 150_000);
});
