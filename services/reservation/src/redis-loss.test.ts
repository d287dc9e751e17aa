import { afterEach, describe, expect, test } from '@jest/globals';
import { LeaseState } from '@schedmesh/proto/v1/reservation';
import { sharedServers, startRedis } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { ClientError, createClient, Status } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { connectChannel } from '@schedmesh/runtime';
import { nodeEvent, podEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';

const SERVING = 1;
const NOT_SERVING = 2;
const node = { cpu: 1_000, memory: 10_000, pods: 10 };
const nodeNames = ['n1', 'n2', 'n3', 'n4'];
/** Pods the stream says are bound: the ledger must count them after any rebuild. */
const running = [
  { uid: 'run-1', node: 'n1', requests: { cpu: 300, memory: 1_000 } },
  { uid: 'run-2', node: 'n2', requests: { cpu: 200 } },
];

let redisServer: TestServer | undefined;
let h: Harness | undefined;
let admin: Redis | undefined;
afterEach(async () => {
  admin?.disconnect();
  await h?.stop();
  await redisServer?.stop();
  admin = h = redisServer = undefined;
});

async function start(): Promise<{ harness: Harness; client: ReservationClient; server: TestServer }> {
  redisServer = await startRedis();
  h = await startHarness({
    redisUrl: redisServer.url,
    natsUrl: sharedServers().natsUrl,
    events: [...nodeNames.map((n) => nodeEvent(n, node)), ...running.map((p) => podEvent(p))],
    config: { redis: { checkInterval: 100 } },
  });
  return { harness: h, client: h.clients[0]!, server: redisServer };
}

/** Nothing over-committed: per node, leased is exactly the live reserved leases, bound the stream's pods plus confirmed leases, free ≥ 0. */
async function expectExactLedger(client: ReservationClient, uids: Iterable<string>): Promise<void> {
  const leased = new Map<string, number>();
  const bound = new Map<string, number>(running.map((p) => [p.node, 0]));
  for (const p of running) bound.set(p.node, bound.get(p.node)! + p.requests.cpu);
  for (const uid of uids) {
    const lease = await client.getReservation({ podUid: uid }).then((r) => r.lease, () => undefined);
    if (lease === undefined) continue;
    const into = lease.state === LeaseState.LEASE_STATE_RESERVED ? leased : bound;
    into.set(lease.nodeName, (into.get(lease.nodeName) ?? 0) + lease.requests!.milliCpu);
  }
  for (const name of nodeNames) {
    const ledger = await client.getLedger({ nodeName: name });
    expect([name, ledger.leased!.milliCpu]).toEqual([name, leased.get(name) ?? 0]);
    expect([name, ledger.bound!.milliCpu]).toEqual([name, bound.get(name) ?? 0]);
    expect(ledger.free!.milliCpu).toBeGreaterThanOrEqual(0);
    expect(ledger.free!.pods).toBeGreaterThanOrEqual(0);
  }
}

/** Restarts redis-server (empty) and waits until the service rebuilt its ledger and serves again. */
async function restartAndRebuild(harness: Harness, server: TestServer): Promise<void> {
  const rebuilt = harness.apps[0]!.runtime.metrics.getSingleMetric('schedmesh_reservation_ledger_rebuilds_total')!;
  const rebuilds = async (): Promise<number> => (await rebuilt.get()).values.reduce((n, v) => n + v.value, 0);
  const before = await rebuilds();
  await server.restart();
  await waitFor(async () => (await rebuilds()) > before && harness.apps[0]!.sync.ready, 15_000, 'the ledger rebuilt after the restart');
}

describe('Redis loses its data', () => {
  test('the service reports NOT_SERVING and refuses Reserve (UNAVAILABLE) until it rebuilt the ledger from the stream', async () => {
    const { harness, client, server } = await start();
    const lease = await client.reserve({ pod: { uid: 'before' }, nodeName: 'n3', requests: resources({ cpu: 500 }), ttl: { seconds: 60 } });
    const version = lease.result?.$case === 'lease' ? lease.result.value.fencingVersion : 0;
    const { channel } = harness.newClient();
    const health = createClient(HealthDefinition, channel);
    const status = async (service = 'schedmesh.v1.ReservationService'): Promise<number> => Number((await health.check({ service })).status);
    expect(await status()).toBe(SERVING);

    // Empty Redis, and hold writes for a second so the rebuild cannot finish before we look.
    admin = new Redis(server.url);
    await admin.pipeline().flushall().client('PAUSE', '1000', 'WRITE').exec();
    await waitFor(async () => (await status()) === NOT_SERVING, 900, 'NOT_SERVING');
    await expect(client.reserve({ pod: { uid: 'during' }, nodeName: 'n3', requests: resources({ cpu: 1 }) })).rejects.toMatchObject({
      code: Status.UNAVAILABLE,
      details: expect.stringContaining('rebuilding the ledger'),
    });
    await waitFor(async () => (await status('')) === SERVING, 5_000, 'SERVING again');

    // Bound capacity is back, and so is the lease in flight (this replica remembers it); versions keep growing.
    await expectExactLedger(client, ['before']);
    expect((await client.getReservation({ podUid: 'before' })).lease?.fencingVersion).toBe(version);
    const again = await client.reserve({ pod: { uid: 'after' }, nodeName: 'n3', requests: resources({ cpu: 500 }), ttl: { seconds: 60 } });
    expect(again.result?.$case === 'lease' && again.result.value.fencingVersion).toBeGreaterThan(version);
    const metrics = await (await fetch(`http://127.0.0.1:${harness.apps[0]!.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/schedmesh_reservation_ledger_rebuilds_total\{[^}]*reason="redis-lost"[^}]*\} 1/);
  });

  test('a pod bound just before a redis-server restart keeps its room until its bound event arrives', async () => {
    const { harness, client, server } = await start();
    // n3 is empty: 1000m. The pod takes 800m, renews its lease right before its Binding, and is bound;
    // then Redis restarts empty, before the bound event reaches the stream.
    const granted = await client.reserve({ pod: { uid: 'bound-early' }, nodeName: 'n3', requests: resources({ cpu: 800 }), ttl: { seconds: 60 } });
    const version = granted.result?.$case === 'lease' ? granted.result.value.fencingVersion : 0;
    await client.renew({ podUid: 'bound-early', nodeName: 'n3', fencingVersion: version });
    await restartAndRebuild(harness, server);

    // Its room is not granted again: another pod finds 200m free, not 1000m.
    const other = await client.reserve({ pod: { uid: 'late' }, nodeName: 'n3', requests: resources({ cpu: 500 }), ttl: { seconds: 60 } });
    expect(other.result?.$case === 'conflict' && other.result.value.message).toBe('node n3: insufficient cpu (requested 500m, free 200m)');
    // The binder's Confirm (after its Binding) finds the lease; then the bound event settles it: counted once.
    expect((await client.confirm({ podUid: 'bound-early', fencingVersion: version })).lease?.fencingVersion).toBe(version);
    await harness.waitForGeneration(await harness.publish(podEvent({ uid: 'bound-early', node: 'n3', requests: { cpu: 800 } })));
    const ledger = await client.getLedger({ nodeName: 'n3' });
    expect([ledger.bound!.milliCpu, ledger.leased!.milliCpu, ledger.free!.milliCpu]).toEqual([800, 0, 200]);
  }, 30_000);

  test('a lease released before a redis-server restart is not put back: its room is free after the rebuild', async () => {
    const { harness, client, server } = await start();
    const granted = await client.reserve({ pod: { uid: 'gave-up' }, nodeName: 'n4', requests: resources({ cpu: 800 }), ttl: { seconds: 60 } });
    const version = granted.result?.$case === 'lease' ? granted.result.value.fencingVersion : 0;
    expect((await client.unreserve({ podUid: 'gave-up', fencingVersion: version })).released).toBe(true);
    await restartAndRebuild(harness, server);
    const other = await client.reserve({ pod: { uid: 'next' }, nodeName: 'n4', requests: resources({ cpu: 800 }), ttl: { seconds: 60 } });
    expect(other.result?.$case).toBe('lease');
    await expect(client.getReservation({ podUid: 'gave-up' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  }, 30_000);

  test('a redis-server restart mid-run: NOT_SERVING while rebuilding, then nothing over-committed', async () => {
    const { harness, client, server } = await start();
    const healthLog: string[] = [];
    harness.apps[0]!.runtime.grpc.health.on('change', (e: { status: string; service: string }) => {
      if (e.service === '') healthLog.push(e.status);
    });

    // Load: 4 clients reserve, confirm and unreserve on random nodes the whole time.
    const used = new Set<string>();
    const codes = new Map<string, number>();
    const samples = new Map<string, string>();
    // Versions received before the restart began, and after the service served again
    // (a reply received during the outage may come from either side).
    let phase: 'before' | 'outage' | 'after' = 'before';
    let maxVersionBefore = 0;
    const versionsAfter: number[] = [];
    // Versions received before the service served again. A Reserve of a pod that holds a lease
    // answers that lease (a restored one keeps its version): only new grants must be above the rest.
    const versionsSeen = new Set<number>();
    let stop = false;
    const load = Array.from({ length: 4 }, async (_, c) => {
      const { client: own } = harness.newClient();
      for (let i = 0; !stop; i++) {
        const uid = `load-${c}-${i % 40}`;
        used.add(uid);
        try {
          const reply = await own.reserve(
            { pod: { uid }, nodeName: nodeNames[(c + i) % nodeNames.length], requests: resources({ cpu: 50 + 10 * c }), ttl: { seconds: 60 } },
            { deadline: 1_000 },
          );
          if (reply.result?.$case === 'lease') {
            const v = reply.result.value.fencingVersion;
            if (phase === 'after') {
              if (!versionsSeen.has(v)) versionsAfter.push(v);
            } else {
              versionsSeen.add(v);
              if (phase === 'before') maxVersionBefore = Math.max(maxVersionBefore, v);
            }
            if (i % 3 === 0) await own.confirm({ podUid: uid, fencingVersion: v }, { deadline: 1_000 });
            else if (i % 3 === 1) await own.unreserve({ podUid: uid, fencingVersion: v }, { deadline: 1_000 });
          }
        } catch (err) {
          const code = err instanceof ClientError ? Status[err.code] : String(err);
          codes.set(code, (codes.get(code) ?? 0) + 1);
          if (!samples.has(code)) samples.set(code, err instanceof ClientError ? err.details : String(err));
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    });

    await waitFor(() => versionsSeen.size > 0, 15_000, 'a lease granted before the restart');
    phase = 'outage';
    await server.restart();
    // Best effort: hold writes a little so the rebuild window is wide enough to be seen from outside.
    admin = new Redis(server.url);
    await admin.client('PAUSE', '300', 'WRITE');
    await waitFor(() => healthLog.includes('unhealthy'), 3_000, 'NOT_SERVING after the restart');
    await waitFor(() => healthLog.at(-1) === 'healthy' && harness.apps[0]!.sync.ready, 5_000, 'SERVING after the rebuild');
    phase = 'after';
    // Until a lease is granted from the rebuilt ledger (not a fixed window: a busy machine may take seconds).
    await waitFor(() => versionsAfter.length > 0, 15_000, 'a lease granted after the rebuild').finally(() => (stop = true));
    await Promise.all(load);

    expect(healthLog.indexOf('unhealthy')).toBeLessThan(healthLog.lastIndexOf('healthy'));
    // During the outage calls failed as UNAVAILABLE (Redis away or ledger rebuilding), never as INTERNAL.
    expect([...codes.keys()].filter((c) => !['UNAVAILABLE', 'FAILED_PRECONDITION', 'DEADLINE_EXCEEDED'].includes(c)).map((c) => [c, samples.get(c)])).toEqual([]);
    expect(versionsAfter.length).toBeGreaterThan(0);
    expect(Math.min(...versionsAfter)).toBeGreaterThan(maxVersionBefore);
    await expectExactLedger(client, used);
  }, 30_000);
});

test('every replica rebuilds after a loss, whichever noticed first', async () => {
  redisServer = await startRedis();
  h = await startHarness({
    redisUrl: redisServer.url,
    natsUrl: sharedServers().natsUrl,
    replicas: 2,
    events: [...nodeNames.map((n) => nodeEvent(n, node)), ...running.map((p) => podEvent(p))],
    config: { redis: { checkInterval: 100 } },
  });
  const harness = h;
  const rebuilds = async (i: number): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${harness.apps[i]!.httpPort}/metrics`)).text();
    return [...text.matchAll(/schedmesh_reservation_ledger_rebuilds_total\{[^}]*\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  };
  expect([await rebuilds(0), await rebuilds(1)]).toEqual([1, 1]);
  admin = new Redis(redisServer.url);
  await admin.flushall();
  await waitFor(async () => (await rebuilds(0)) === 2 && (await rebuilds(1)) === 2, 5_000, 'both replicas to rebuild');
  await waitFor(() => harness.apps.every((a) => a.sync.ready), 5_000, 'both replicas ready');
  await expectExactLedger(harness.clients[1]!, []);
});

test('readiness waits for the stream replay and the first build', async () => {
  redisServer = await startRedis();
  h = await startHarness({ redisUrl: redisServer.url, natsUrl: sharedServers().natsUrl, events: [nodeEvent('n1', node)] });
  const channel = connectChannel(`127.0.0.1:${h.apps[0]!.grpcPort}`);
  expect((await createClient(HealthDefinition, channel).check({ service: '' })).status).toBe(SERVING);
  channel.close();
  expect(h.apps[0]!.sync.notServingReason).toBeUndefined();
});

test('an empty cluster stream is caught up at once: ready, and every node unknown', async () => {
  redisServer = await startRedis();
  h = await startHarness({ redisUrl: redisServer.url, natsUrl: sharedServers().natsUrl, events: [] });
  expect(h.apps[0]!.sync.ready).toBe(true);
  await expect(h.clients[0]!.reserve({ pod: { uid: 'p' }, nodeName: 'n1' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  // The first node arrives later and is served.
  await h.waitForGeneration(await h.publish(nodeEvent('n1', node)));
  expect((await h.clients[0]!.reserve({ pod: { uid: 'p' }, nodeName: 'n1', requests: resources({ cpu: 10 }) })).result?.$case).toBe('lease');
});
