// A lease must not lapse while its pod is in PreBind or Bind (review M8), on
// a real control plane with the mesh in-process (informer, snapshot,
// filterscore, reservation on real Redis, the gateway with a REST PreBind
// plugin, and the scheduler binding pods). The scheduler's leases live 1 s.
//
// - A PreBind that lasts past two TTLs (by Redis's clock) still binds: the
//   attempt renews the lease, and a rival asking for the room meanwhile is
//   refused. Without the renewal the lease lapses, the rival gets the room,
//   and the pod is bound on it anyway: two pods on room for one.
// - A scheduler paused in PreBind (the process stops, as in a long GC pause)
//   past its lease's TTL, whose room a rival took meanwhile, does not bind:
//   the renewal before Bind finds the lease gone, the attempt Unreserves and
//   the pod gets a FailedScheduling event saying so. The lease was granted
//   marked binding, so a fresh one would skip that renewal; this one is past
//   a third of its TTL, and the renewal runs (it fails if skipped).
//   Pods whose lease is fresh bind with no renewal: test/integration/attempt.test.ts.
//
// Nothing waits on a sleep: every wait polls for a condition (the pause is
// the fault injected, not a wait), with generous limits for a busy machine.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import type { Lease, ReserveResponse } from '@schedmesh/proto/v1/reservation';
import { costTrackingRules, startExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { ExamplePlugin, PluginRequest, Reply } from '@schedmesh/rest-plugin-example';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import { createFakeNodes, pollUntil, testEnvKeys } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import type { Channel } from 'nice-grpc';
import { startE2eControlPlane, startE2eMesh } from './mesh.js';
import type { E2eMesh } from './mesh.js';

const NAMESPACE = 'leases';
// Each node holds exactly one of the pods below.
const NODE = { cpu: '1', memory: '4Gi', pods: '110' };

let cp: ControlPlane;
let mesh: E2eMesh | undefined;
let plugin: ExamplePlugin | undefined;
let channel: Channel | undefined;
let redis: Redis | undefined;
/** What the PreBind plugin does for a pod, by name (default: the cost-tracking answer at once). */
const preBind = new Map<string, (request: PluginRequest) => Promise<Reply>>();

function pod(name: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { 'cost-center': 'cc-m8' } },
    spec: {
      schedulerName: 'schedmesh',
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: NODE.cpu, memory: '1Gi' } } }],
    },
  };
}

const reservations = () => createServiceClient(ReservationServiceDefinition, channel!, { defaultDeadlineMs: 10_000 });

/** The pod's lease as the ledger holds it now. */
async function leaseOf(uid: string): Promise<Lease> {
  return (await reservations().getReservation({ podUid: uid })).lease!;
}

/** Redis's clock (the ledger's), in ms. */
async function redisNowMs(): Promise<number> {
  const [seconds = '0', micros = '0'] = await redis!.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}

/** Another pod asking for the whole room of a node. */
function rivalReserve(uid: string, node: string): Promise<ReserveResponse> {
  return reservations().reserve({ pod: { uid, namespace: NAMESPACE, name: uid }, nodeName: node, requests: { milliCpu: 1_000 }, ttl: { seconds: 60 }, holder: 'rival' });
}

beforeAll(async () => {
  cp = await startE2eControlPlane([NAMESPACE]);
  await createFakeNodes(cp.kubeConfig, [
    { name: 'room-a', capacity: NODE },
    { name: 'room-b', capacity: NODE },
  ]);
  plugin = await startExamplePlugin({
    decide: async (request) => {
      const special = request.extensionPoint === 'preBind' ? preBind.get(request.pod.name ?? '') : undefined;
      return special ? special(request) : costTrackingRules(request);
    },
  });
  const pluginsFile = join(mkdtempSync(join(tmpdir(), 'lease-e2e-')), 'plugins.yaml');
  writeFileSync(pluginsFile, `plugins:\n- name: cost-tracking\n  type: rest\n  endpoint: ${plugin.url}\n  extensionPoints: [preBind]\n  failurePolicy: Fail\n  timeout: 20s\n`);
  mesh = await startE2eMesh(cp, { name: 'lease-e2e', nodes: 2, pluginsFile, leaseTtl: '1s' });
  channel = connectChannel(`127.0.0.1:${mesh.reservation.grpcPort}`);
  redis = new Redis(process.env[testEnvKeys.redisUrl]!);
}, 240_000);

afterAll(async () => {
  channel?.close();
  redis?.disconnect();
  await mesh?.stop();
  await plugin?.close();
  await cp?.stop();
}, 120_000);

describe('leases through PreBind and Bind (review M8)', () => {
  test('a 1 s lease outlives a PreBind of two TTLs: the pod binds and a rival is refused the room meanwhile', async () => {
    const rivals: Array<ReserveResponse['result']> = [];
    preBind.set('slow', async (request) => {
      const held = await leaseOf(request.pod.uid);
      // PreBind lasts until the lease the attempt held on entering it is over a second past its expiry.
      await pollUntil(async () => ((await redisNowMs()) > held.expireTime!.getTime() + 1_000 ? true : undefined), { what: 'two lease TTLs to pass', timeoutMs: 30_000 });
      rivals.push((await rivalReserve('rival-slow', held.nodeName)).result);
      return costTrackingRules(request);
    });
    await cp.core.createNamespacedPod({ namespace: NAMESPACE, body: pod('slow') });
    const bound = await pollUntil(
      async () => {
        const p = await cp.core.readNamespacedPod({ namespace: NAMESPACE, name: 'slow' });
        return p.spec?.nodeName ? p : undefined;
      },
      { what: 'slow bound', timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(bound.metadata?.labels?.['schedmesh.io/cost-tracked']).toBe('true');
    // The rival asked for the room while the pod was in PreBind, past its first TTL: refused.
    expect(rivals).toHaveLength(1);
    expect(rivals[0]).toMatchObject({ $case: 'conflict', value: { shortResources: expect.arrayContaining(['cpu']) } });
    await expect(reservations().getReservation({ podUid: 'rival-slow' })).rejects.toMatchObject({ code: 5 }); // NOT_FOUND
    const ledger = await reservations().getLedger({ nodeName: bound.spec!.nodeName! });
    expect(ledger.free!.milliCpu).toBeGreaterThanOrEqual(0);
    expect(ledger.bound!.milliCpu).toBe(1_000);
  }, 150_000);

  test('a lease that lapsed while the scheduler was paused in PreBind, and went to a rival, fails the attempt at renewal: Unreserve, no bind', async () => {
    let rival: ReserveResponse['result'];
    let node = '';
    preBind.set('paused', async (request) => {
      if (rival !== undefined) return costTrackingRules(request);
      const held = await leaseOf(request.pod.uid);
      node = held.nodeName;
      // The whole process stops (every service here and the scheduler's lease keeper with it)
      // until its lease is past expiry: the fault, a pause such as a long GC, not a wait.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, held.expireTime!.getTime() - Date.now()) + 500);
      await pollUntil(async () => ((await redisNowMs()) > held.expireTime!.getTime() ? true : undefined), { what: 'the lease to lapse', timeoutMs: 30_000 });
      rival = (await rivalReserve('rival-paused', node)).result;
      return costTrackingRules(request);
    });
    await cp.core.createNamespacedPod({ namespace: NAMESPACE, body: pod('paused') });
    const event = await pollUntil(
      async () => {
        const events = (await cp.core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: 'involvedObject.name=paused' })).items;
        return events.find((e) => e.reason === 'FailedScheduling' && /was lost before the bind/.test(e.message ?? ''));
      },
      { what: 'a FailedScheduling event for the lost lease', timeoutMs: 90_000, intervalMs: 250 },
    );
    // The lapsed room went to the rival, and the attempt refused to bind on it.
    expect(rival).toMatchObject({ $case: 'lease', value: { nodeName: node } });
    expect(event.message).toContain(`the lease on node ${node} was lost before the bind`);
    const paused = await cp.core.readNamespacedPod({ namespace: NAMESPACE, name: 'paused' });
    expect(paused.spec?.nodeName ?? '').toBe('');
    await expect(reservations().getReservation({ podUid: paused.metadata!.uid! })).rejects.toMatchObject({ code: 5 }); // NOT_FOUND
    // The rival's lease is the only one on that node: nothing was bound on it.
    expect((await leaseOf('rival-paused')).holder).toBe('rival');
    const ledger = await reservations().getLedger({ nodeName: node });
    expect(ledger.free!.milliCpu).toBe(0);
    expect(ledger.leased!.milliCpu).toBe(1_000);
    expect(ledger.bound!.milliCpu).toBe(0);
  }, 150_000);
});
