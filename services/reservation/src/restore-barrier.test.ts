/**
 * Two reservation replicas on one real redis-server, restarted without
 * persistence. Each replica restores only the leases it handed out; the one
 * that rebuilds first must not grant from the rebuilt ledger while the
 * other's leases are still missing (the restore barrier). Replica 1's checks
 * are paused to hold open the window in which it has not noticed the loss yet
 * (in production up to redis.checkInterval, or its reconnect).
 */
import { afterEach, expect, test } from '@jest/globals';
import { sharedServers, startRedis } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { ClientError, Status } from 'nice-grpc';
import { nodeEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';

let redisServer: TestServer | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  await redisServer?.stop();
  h = redisServer = undefined;
});

async function start(restoreWait?: string): Promise<Harness> {
  redisServer = await startRedis();
  h = await startHarness({
    redisUrl: redisServer.url,
    natsUrl: sharedServers().natsUrl,
    replicas: 2,
    events: [nodeEvent('n1', { cpu: 1_000, pods: 10 })],
    config: { redis: { checkInterval: 100, ...(restoreWait ? { restoreWait } : {}) } },
  });
  // Replica 0 has seen replica 1's heartbeat: it is one that must restore after a loss.
  await waitFor(() => h!.apps[0]!.barrier.livePeers.includes(h!.apps[1]!.barrier.replicaId), 15_000, 'replica 0 to see replica 1');
  return h;
}

function reserve(client: ReservationClient, uid: string): Promise<string> {
  return client.reserve({ pod: { uid, namespace: 'default', name: uid }, nodeName: 'n1', requests: resources({ cpu: 1_000 }), ttl: { seconds: 120 }, holder: uid }).then(
    (res) => res.result?.$case ?? 'none',
    (err: unknown) => (err instanceof ClientError ? Status[err.code] : String(err)),
  );
}

/** Restarts redis-server empty; replica 1 does not notice until resumed. Resolves once replica 0 rebuilt and serves. */
async function loseRedisWithReplica1Unaware(harness: Harness): Promise<void> {
  await harness.apps[1]!.sync.stop();
  await redisServer!.restart();
  await harness.apps[0]!.sync.requestCheck();
  await waitFor(() => harness.apps[0]!.sync.ready, 15_000, 'replica 0 to rebuild');
}

test("a replica that rebuilt first grants nothing until the other put its leases back: the node is never granted twice", async () => {
  const harness = await start();
  const [client0, client1] = harness.clients as [ReservationClient, ReservationClient];
  // p's lease was handed out by replica 1: only replica 1 remembers it.
  expect(await reserve(client1, 'p')).toBe('lease');
  await loseRedisWithReplica1Unaware(harness);

  // Replica 0 serves again, from a ledger that lacks p's lease.
  const during = await reserve(client0, 'q');
  // Replica 1 notices, rebuilds and restores p.
  harness.apps[1]!.sync.start();
  await harness.apps[1]!.sync.requestCheck();
  await waitFor(() => harness.apps[1]!.sync.ready, 15_000, 'replica 1 to rebuild');
  await waitFor(async () => (await client0.getReservation({ podUid: 'p' }).then(() => true, () => false)), 15_000, "p's lease restored");

  const n1 = await client0.getLedger({ nodeName: 'n1' });
  expect({ leased: n1.leased!.milliCpu, free: n1.free!.milliCpu }).toEqual({ leased: 1_000, free: 0 });
  expect(during).toBe('UNAVAILABLE');
  // The barrier is lifted: grants are answered again (here a conflict, since p holds the room).
  await waitFor(async () => (await reserve(client0, 'q')) === 'conflict', 15_000, 'grants answered again');
}, 60_000);

test('a replica that never acknowledges (it died with Redis) holds grants only until redis.restoreWait', async () => {
  const harness = await start('2s');
  const client0 = harness.clients[0]!;
  await loseRedisWithReplica1Unaware(harness);
  expect(await reserve(client0, 'q')).toBe('UNAVAILABLE');
  await waitFor(async () => (await reserve(client0, 'q')) === 'lease', 20_000, 'the barrier to close at its deadline');
}, 60_000);
