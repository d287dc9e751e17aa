// A Redis failover to a replica that lags (security review H2): a grant the
// replica never received is lost with the old primary, and the capacity is
// granted twice. With redis.waitReplicas a grant is answered only once a
// replica holds it, and a ledger that finds itself on another Redis server
// (a new run_id behind the same address) rebuilds as after a loss. Real
// redis-server primary and replica; the failover is a TCP proxy switching
// the service's one address from the old primary to the promoted replica, as
// a Sentinel-aware proxy or a Service re-pointed would.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { sharedServers, startRedis, startTcpProxy } from '@schedmesh/testkit';
import type { TcpProxy, TestServer } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { Status } from 'nice-grpc';
import { nodeEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';

let primary: TestServer;
let replica: TestServer;
let replicaAdmin: Redis;
let proxy: TcpProxy;
let h: Harness;
let client: ReservationClient;

const reserve = (uid: string, cpu: number) => client.reserve({ pod: { uid }, nodeName: 'n1', requests: resources({ cpu }), ttl: { seconds: 60 } });

async function rebuilds(reason: string): Promise<number> {
  const metric = await h.apps[0]!.runtime.metrics.getSingleMetric('schedmesh_reservation_ledger_rebuilds_total')!.get();
  return metric.values.filter((v) => v.labels.reason === reason).reduce((a, v) => a + v.value, 0);
}

beforeAll(async () => {
  primary = await startRedis();
  replica = await startRedis();
  replicaAdmin = new Redis(replica.url);
  await replicaAdmin.replicaof('127.0.0.1', primary.port);
  await waitFor(async () => /master_link_status:up/.test(await replicaAdmin.info('replication')), 15_000, 'the replica in sync');
  proxy = await startTcpProxy(primary.port);
  h = await startHarness({
    redisUrl: `redis://127.0.0.1:${proxy.port}`,
    natsUrl: sharedServers().natsUrl,
    events: [nodeEvent('n1', { cpu: 1_000, pods: 10 })],
    config: { redis: { checkInterval: 100, waitReplicas: 1, waitTimeout: '300ms' } },
  });
  client = h.clients[0]!;
}, 60_000);
afterAll(async () => {
  replicaAdmin.disconnect();
  await h.stop();
  await proxy.close();
  await replica.stop();
  await primary.stop();
});

test('a grant is answered once a replica holds it', async () => {
  const granted = await reserve('pod-a', 600);
  expect(granted.result?.$case).toBe('lease');
  // The replica has the lease record: a failover to it keeps the grant.
  const keys = await replicaAdmin.keys('*:leases');
  const onReplica = await Promise.all(keys.map((k) => replicaAdmin.hexists(k, 'pod-a')));
  expect(onReplica).toContain(1);
}, 60_000);

test('a grant no replica acknowledged is refused UNAVAILABLE and given back', async () => {
  // The replica stops following the primary: from now on it lags.
  await replicaAdmin.replicaof('NO', 'ONE');
  await expect(reserve('pod-b', 300)).rejects.toMatchObject({ code: Status.UNAVAILABLE, details: expect.stringMatching(/reached 0 of 1 replicas within 300 ms \(redis\.waitReplicas\)/) });
  await expect(client.getReservation({ podUid: 'pod-b' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  expect((await client.getLedger({ nodeName: 'n1' })).leased!.milliCpu).toBe(600);
}, 60_000);

test('after a failover to the lagging replica, the ledger rebuilds and no capacity is granted twice', async () => {
  const before = await rebuilds('redis-replaced');
  proxy.switchTo(replica.port);
  await waitFor(async () => (await rebuilds('redis-replaced')) > before, 15_000, 'a rebuild on the new Redis server');
  // pod-a's grant survived (it was replicated before it was answered): 600m of 1000m stay taken.
  await waitFor(async () => (await client.getReservation({ podUid: 'pod-a' }).then(() => true, () => false)), 15_000, 'the ledger serving again');
  expect((await client.getLedger({ nodeName: 'n1' })).leased!.milliCpu).toBe(600);
  const other = await reserve('pod-c', 600);
  expect(other.result?.$case).toBe('conflict');
}, 90_000);
