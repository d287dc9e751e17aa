// The scheduler end to end on a real control plane: etcd + kube-apiserver,
// fake nodes, and the whole mesh in-process — informer (watching the API),
// snapshot, filterscore, reservation (real Redis), admission, the gateway with
// the example cost-tracking REST plugin, and the scheduler binding pods with
// schedulerName: schedmesh. Every check reads pods, nodes and events back from
// the API server. Profiles come from a ConfigMap that filterscore and the
// scheduler follow without a restart. Missing binaries fail the suite with the
// build command.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { gatewayConfigSchema, startGatewayService } from '@schedmesh/gateway-service';
import type { GatewayServiceHandle } from '@schedmesh/gateway-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { startExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { ExamplePlugin } from '@schedmesh/rest-plugin-example';
import { schedulerConfigSchema, startSchedulerApp } from '@schedmesh/scheduler-service';
import type { SchedulerApp } from '@schedmesh/scheduler-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { milliValue, value } from '@schedmesh/model';
import { createFakeNodes, fakeNodeObject, fakeNodeSpecs, pollUntil, requireBinary, startControlPlane, testEnvKeys, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { meshConfig } from './mesh';
import type { AddressOf, MeshService, MeshSetting } from './mesh';

const NODES = 100;
const PODS = 300;
const CRD = join(__dirname, '../../deploy/base/crds/admissionpolicy.yaml');

let cp: ControlPlane;
let informer: InformerApp | undefined;
let snapshot: SnapshotApp | undefined;
let filterscore: FilterScoreApp | undefined;
let reservation: ReservationApp | undefined;
let admission: AdmissionApp | undefined;
let gateway: GatewayServiceHandle | undefined;
let plugin: ExamplePlugin | undefined;
let scheduler: SchedulerApp | undefined;
const figures: Record<string, string> = {};

// The services call each other at the ports they bound (port 0).
const address: AddressOf = (s) => {
  const apps: Partial<Record<MeshService, { grpcPort: number } | undefined>> = { snapshot, filterscore, reservation, admission, gateway };
  return `127.0.0.1:${apps[s]!.grpcPort}`;
};

const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

function pod(name: string, opts: { namespace?: string; cpu?: string; memory?: string; labels?: Record<string, string> } = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: { app: 'sched-e2e', 'cost-center': 'cc-7', ...opts.labels } },
    spec: {
      schedulerName: 'schedmesh',
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: opts.cpu ?? '250m', memory: opts.memory ?? '256Mi' } } }],
    },
  };
}

async function readPod(name: string, namespace = 'default'): Promise<V1Pod> {
  return cp.core.readNamespacedPod({ namespace, name });
}

async function eventsOf(name: string, namespace = 'default'): Promise<{ reason?: string; message?: string }[]> {
  return (await cp.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;
}

beforeAll(async () => {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kubectl');
  cp = await startControlPlane();
  await kubectl(['apply', '-f', CRD]);
  await kubectl(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/admissionpolicies.schedmesh.io']);
  await kubectl(['create', 'namespace', 'locked']);
  await kubectl(['create', 'namespace', 'schedmesh-system']);
  let started = Date.now();
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(NODES, { zones: 3, racksPerZone: 4 }));
  figures[`create ${NODES} fake nodes`] = `${Date.now() - started} ms`;

  const dir = mkdtempSync(join(tmpdir(), 'sched-e2e-'));
  plugin = await startExamplePlugin();
  const pluginsFile = join(dir, 'plugins.yaml');
  writeFileSync(
    pluginsFile,
    `plugins:\n- name: cost-tracking\n  type: rest\n  endpoint: ${plugin.url}\n  extensionPoints: [preBind]\n  failurePolicy: Fail\n`,
  );
  // One stream, durable and key prefix per run: the shared NATS and Redis outlive this suite.
  const setting: MeshSetting = { natsUrl: process.env[testEnvKeys.natsUrl]!, redisUrl: process.env[testEnvKeys.redisUrl]!, kubeconfig: cp.kubeconfigPath, runId: `sched${process.pid}`, pluginsFile };
  const config = (s: MeshService): Record<string, unknown> => meshConfig(s, setting, address);
  const inProcess = { handleSignals: false };
  informer = await startInformerApp(informerConfigSchema.parse(config('informer')), inProcess);
  snapshot = await startSnapshotApp(snapshotConfigSchema.parse(config('snapshot')), inProcess);
  // With a nats block, filterscore follows the profiles ConfigMap (schedmesh-system/schedmesh-profiles); so does the scheduler.
  filterscore = await startFilterScoreApp(filterScoreConfigSchema.parse(config('filterscore')), inProcess);
  reservation = await startReservation(reservationConfigSchema.parse(config('reservation')), inProcess);
  gateway = await startGatewayService(gatewayConfigSchema.parse(config('gateway')), inProcess);
  admission = await startAdmissionApp(admissionConfigSchema.parse(config('admission')), inProcess);
  started = Date.now();
  scheduler = await startSchedulerApp(schedulerConfigSchema.parse(config('scheduler')), inProcess);
  await pollUntil(async () => (scheduler!.source.gate.synced && scheduler!.source.viewNodes() === NODES ? true : undefined), { what: 'scheduler view in sync', timeoutMs: 60_000 });
  figures['mesh start to view in sync'] = `${Date.now() - started} ms`;
}, 240_000);

afterAll(async () => {
  for (const app of [scheduler, admission, gateway, reservation, filterscore, snapshot, informer]) await app?.stop().catch(() => undefined);
  await plugin?.close();
  await cp?.stop();
  if (Object.keys(figures).length > 0) console.log(`scheduler e2e figures:\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
}, 120_000);

describe('the schedmesh scheduler on a real control plane', () => {
  test(`binds ${PODS} pods onto ${NODES} nodes, none over allocatable, each tagged by the REST plugin`, async () => {
    const started = Date.now();
    const names = Array.from({ length: PODS }, (_, i) => `place-${i}`);
    // Creation through the API in parallel batches: the informer sees them as kubectl users make them.
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => cp.core.createNamespacedPod({ namespace: 'default', body: pod(n) })));
    }
    let pods: V1Pod[] = [];
    await pollUntil(
      async () => {
        pods = (await cp.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=sched-e2e' })).items.filter((p) => p.metadata!.name!.startsWith('place-'));
        return pods.length === PODS && pods.every((p) => p.spec?.nodeName) ? true : undefined;
      },
      { what: `${PODS} pods bound`, timeoutMs: 180_000, intervalMs: 500 },
    );
    const ms = Date.now() - started;
    figures[`create + schedule + bind ${PODS} pods`] = `${ms} ms (${((PODS * 1000) / ms).toFixed(1)} pods/s)`;

    const nodes = new Map<string, V1Node>((await cp.core.listNode({})).items.map((n) => [n.metadata!.name!, n]));
    const used = new Map<string, { cpu: number; memory: number; pods: number }>();
    for (const p of pods) {
      const node = p.spec!.nodeName!;
      expect(nodes.has(node)).toBe(true);
      const u = used.get(node) ?? { cpu: 0, memory: 0, pods: 0 };
      const req = p.spec!.containers[0]!.resources!.requests!;
      u.cpu += milliValue(req.cpu!);
      u.memory += value(req.memory!);
      u.pods += 1;
      used.set(node, u);
      // PreBind: the cost-tracking plugin's patch is on the bound pod.
      expect(p.metadata?.labels?.['schedmesh.io/cost-tracked']).toBe('true');
      expect(p.metadata?.annotations?.['schedmesh.io/cost-center']).toBe('cc-7');
    }
    for (const [name, u] of used) {
      const alloc = nodes.get(name)!.status!.allocatable!;
      expect(u.cpu).toBeLessThanOrEqual(milliValue(alloc.cpu!));
      expect(u.memory).toBeLessThanOrEqual(value(alloc.memory!));
      expect(u.pods).toBeLessThanOrEqual(Number(alloc.pods));
    }
    figures[`nodes used by the ${PODS} pods`] = `${used.size}/${NODES}`;
    // Spread, not piled: ties are broken at random (selectHost), so parallel attempts on one snapshot
    // do not all pick the same least-allocated node.
    expect(used.size).toBeGreaterThan(NODES / 2);
    const scheduled = (await eventsOf('place-0')).find((e) => e.reason === 'Scheduled');
    expect(scheduled?.message).toMatch(/^Successfully assigned default\/place-0 to fake-node-\d+$/);
  }, 240_000);

  test('a pod an AdmissionPolicy rejects gets a FailedScheduling event naming the policy, and stays pending', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'schedmesh.io/v1alpha1',
        kind: 'AdmissionPolicy',
        metadata: { name: 'lockdown' },
        spec: { targetNamespaces: { names: ['locked'] }, hibernation: { allApps: true } },
      }),
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n(the policy shape comes from deploy/base/crds/admissionpolicy.yaml)`);
    });
    await cp.core.createNamespacedPod({ namespace: 'locked', body: pod('refused', { namespace: 'locked' }) });
    const event = await pollUntil(
      async () => (await eventsOf('refused', 'locked')).find((e) => e.reason === 'FailedScheduling'),
      { what: 'FailedScheduling event for the refused pod', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(event.message).toContain('lockdown');
    const read = await readPod('refused', 'locked');
    expect(read.spec?.nodeName ?? '').toBe('');
    expect(read.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  }, 90_000);

  test('a pod whose spec cannot be converted gets one FailedScheduling event naming the field, and no attempt', async () => {
    // The API server accepts 100Ei; schedmesh's exact integer model does not (beyond 2^53-1 bytes).
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('unconvertible', { memory: '100Ei' }) });
    const event = await pollUntil(
      async () => (await eventsOf('unconvertible')).find((e) => e.reason === 'FailedScheduling'),
      { what: 'FailedScheduling event for the unconvertible pod', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(event.message).toContain('spec.containers[0].resources.requests[memory]');
    expect((await readPod('unconvertible')).status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    // Not in a loop: a later pod's event proves time passed; this one still has exactly one.
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('after-unconvertible') });
    await pollUntil(async () => (await readPod('after-unconvertible')).spec?.nodeName || undefined, { what: 'a later pod bound', timeoutMs: 60_000, intervalMs: 250 });
    expect((await eventsOf('unconvertible')).filter((e) => e.reason === 'FailedScheduling')).toHaveLength(1);
    expect(scheduler!.records.byPodName('default', 'unconvertible')).toBeUndefined();
  }, 150_000);

  test('a pod that fits nowhere binds soon after a node that fits is added, moved by the event', async () => {
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('too-big', { cpu: '64' }) });
    const event = await pollUntil(
      async () => (await eventsOf('too-big')).find((e) => e.reason === 'FailedScheduling'),
      { what: 'FailedScheduling event for the too-big pod', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(event.message).toMatch(new RegExp(`^0/${NODES} nodes are available: ${NODES} Insufficient cpu\\.`));
    const added = Date.now();
    await cp.core.createNode({ body: fakeNodeObject({ ...fakeNodeSpecs(1)[0]!, name: 'big-node', capacity: { cpu: '96', memory: '256Gi', pods: '110' } }) });
    // The pool's own flush is 5 minutes away: binding within a minute means the NodeAdd event moved it.
    const bound = await pollUntil(async () => (await readPod('too-big')).spec?.nodeName || undefined, { what: 'too-big bound', timeoutMs: 60_000, intervalMs: 250 });
    expect(bound).toBe('big-node');
    figures['node added -> parked pod bound'] = `${Date.now() - added} ms`;
  }, 150_000);

  test('a profile added to the profiles ConfigMap schedules its pods without a restart, packed; an invalid version is refused and the last good stays', async () => {
    const N = 12;
    const profilesDoc = (extra: string): string => `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: schedmesh
- schedulerName: schedmesh-packed
  percentageOfNodesToScore: 100
  plugins:
    score:
      disabled: [{name: "*"}]
      enabled: [{name: NodeResourcesFit, weight: 1}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
${extra}`;
    const configMap = (text: string) => ({ metadata: { name: 'schedmesh-profiles', namespace: 'schedmesh-system' }, data: { 'config.yaml': text } });
    const reloads = async (app: { httpPort: number }, metric: string): Promise<Record<string, number>> => {
      const text = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const m of text.matchAll(new RegExp(`^${metric}\\{result="(\\w+)"[^}]*\\} (\\d+)$`, 'gm'))) out[m[1]!] = Number(m[2]);
      return out;
    };
    const fsReloads = () => reloads(filterscore!, 'schedmesh_filterscore_profile_reloads_total');
    const schedReloads = () => reloads(scheduler!, 'schedmesh_scheduler_profile_reloads_total');
    const nodesOf = async (prefix: string, n: number): Promise<Set<string>> => {
      const bound = await pollUntil(
        async () => {
          const pods = (await cp.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=sched-e2e' })).items.filter((p) => p.metadata!.name!.startsWith(prefix));
          return pods.length === n && pods.every((p) => p.spec?.nodeName) ? pods : undefined;
        },
        { what: `${n} ${prefix}* pods bound`, timeoutMs: 60_000, intervalMs: 250 },
      );
      return new Set(bound.map((p) => p.spec!.nodeName!));
    };
    const withScheduler = (p: V1Pod, schedulerName: string): V1Pod => ({ ...p, spec: { ...p.spec!, schedulerName } });

    // A pod of the name before any profile serves it: the scheduler passes over it, and it stays pending.
    const early = await cp.core.createNamespacedPod({ namespace: 'default', body: withScheduler(pod('packed-early'), 'schedmesh-packed') });
    await pollUntil(async () => (scheduler!.source.generationOf(early.metadata!.uid!) > 0 ? true : undefined), { what: 'packed-early in the scheduler view', timeoutMs: 30_000, intervalMs: 50 });
    expect((await readPod('packed-early')).spec?.nodeName ?? '').toBe('');

    // Through the API, as an operator would: the informer carries it to filterscore and the scheduler.
    await cp.core.createNamespacedConfigMap({ namespace: 'schedmesh-system', body: configMap(profilesDoc('')) });
    await pollUntil(async () => ((await fsReloads()).applied === 1 && (await schedReloads()).applied === 1 ? true : undefined), {
      what: 'the profiles ConfigMap applied by filterscore and the scheduler',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(filterscore!.engine.profiles).toEqual(['schedmesh', 'schedmesh-packed']);
    expect(scheduler!.profiles.list).toEqual(['schedmesh', 'schedmesh-packed']);

    // The same pods under each profile, created together: MostAllocated piles them up, the default spreads them
    // (packed-early, pending since before the profile existed, binds with them).
    await Promise.all(
      Array.from({ length: N }, (_, i) => [
        cp.core.createNamespacedPod({ namespace: 'default', body: withScheduler(pod(`packed-${i}`), 'schedmesh-packed') }),
        cp.core.createNamespacedPod({ namespace: 'default', body: pod(`spread-${i}`) }),
      ]).flat(),
    );
    const packed = await nodesOf('packed-', N + 1);
    const spread = await nodesOf('spread-', N);
    figures[`nodes used by ${N} pods, schedmesh-packed (+ packed-early) / schedmesh`] = `${packed.size} / ${spread.size}`;
    expect(packed.size).toBeLessThan(spread.size);
    // Parallel attempts that lose a Reserve race spill to the next ranked node: a bound, not an exact count.
    expect(packed.size).toBeLessThanOrEqual(N / 2);

    // An unknown plugin: both refuse it (the field is logged), and the last good profiles stay.
    await cp.core.replaceNamespacedConfigMap({
      namespace: 'schedmesh-system',
      name: 'schedmesh-profiles',
      body: configMap(profilesDoc('- schedulerName: schedmesh-broken\n  plugins:\n    filter:\n      enabled: [{name: NoSuchPlugin}]\n')),
    });
    await pollUntil(async () => ((await fsReloads()).rejected === 1 && (await schedReloads()).rejected === 1 ? true : undefined), {
      what: 'the invalid profiles version refused',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(filterscore!.engine.profiles).toEqual(['schedmesh', 'schedmesh-packed']);
    expect(scheduler!.profiles.list).toEqual(['schedmesh', 'schedmesh-packed']);
    await cp.core.createNamespacedPod({ namespace: 'default', body: withScheduler(pod('packed-after-refusal'), 'schedmesh-packed') });
    // Only the schedmesh-packed profile serves this pod: that it binds at all shows the refused version
    // did not drop it. (Which node is not asserted: the packed node may be full by now — it also holds
    // pods of the earlier tests — and then MostAllocated rightly picks the next fullest.)
    const node = await pollUntil(async () => (await readPod('packed-after-refusal')).spec?.nodeName || undefined, { what: 'packed-after-refusal bound', timeoutMs: 60_000, intervalMs: 250 });
    expect(node).toMatch(/^(fake-node-\d+|big-node)$/);
  }, 180_000);
});
