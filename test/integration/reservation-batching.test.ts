// The coalescing reservation client (libs/mesh) over a real reservation
// service (real Redis, NATS and gRPC on loopback): calls made one pod at a
// time leave as batch calls, and each caller gets what its own call would
// have given. The batch calls are counted by a wrapper that forwards every
// call to the real client.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Status as FrameworkStatus } from '@schedmesh/framework';
import { coalescingReservationClient, reserve, unreserve } from '@schedmesh/mesh';
import type { ReservationClient } from '@schedmesh/mesh';
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import type { Pod } from '@schedmesh/proto/v1/types';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { connectChannel, createServiceClient, ensureClusterStreamFrom, publishClusterEvent } from '@schedmesh/runtime';
import { clusterEvent, makeNode, makePod, startNats, startRedis } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Status } from 'nice-grpc';
import type { Channel } from 'nice-grpc';

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };
const step = { ttlMs: 60_000, holder: 'batching-test' };

let nats: TestServer;
let redis: TestServer;
let nc: NatsConnection;
let reservation: ReservationApp;
let channel: Channel;
let direct: ReservationClient;
/** Pods per ReserveBatch / UnreserveBatch call the service received. */
let reserveBatches: number[] = [];
let unreserveBatches: number[] = [];
/** Plain Reserve calls it received. */
let singleReserves = 0;

/** The real client, with the batch calls counted on their way. */
function counted(): ReservationClient {
  return {
    ...direct,
    reserve: (request, options) => {
      singleReserves++;
      return direct.reserve(request, options);
    },
    reserveBatch: (request, options) => {
      reserveBatches.push(request.pods?.length ?? 0);
      return direct.reserveBatch(request, options);
    },
    unreserveBatch: (request, options) => {
      unreserveBatches.push(request.pods?.length ?? 0);
      return direct.unreserveBatch(request, options);
    },
  };
}

const pod = (name: string, cpu: string): Pod => makePod(name, 'shop').uid(`uid-${name}`).requests(cpu, '1Gi').build();

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const config = reservationConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: 0 }, nats: { url: nats.url }, redis: { url: redis.url } });
  await ensureClusterStreamFrom(config.nats);
  nc = await connect({ servers: nats.url });
  const js = jetstream(nc);
  for (const node of [makeNode('a').capacity('4', '16Gi').build(), makeNode('b').capacity('1', '16Gi').build()]) await publishClusterEvent(js, clusterEvent(node));
  await publishClusterEvent(js, clusterEvent(makePod('placed', 'shop').uid('uid-placed').requests('100m', '1Gi').on('a').build()));
  reservation = await startReservation(config, { handleSignals: false });
  channel = connectChannel(`127.0.0.1:${reservation.grpcPort}`);
  direct = createServiceClient(ReservationServiceDefinition, channel, { defaultDeadlineMs: 10_000 });
  for (let i = 0; i < 200 && !(await direct.getLedger({ nodeName: 'a' }).then((l) => (l.bound?.milliCpu ?? 0) === 100, () => false)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 60_000);

afterAll(async () => {
  channel?.close();
  await reservation?.stop();
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
}, 30_000);

describe('coalescingReservationClient', () => {
  test('the Reserve calls of one tick go out as one batch; each caller gets its own lease, refusal or error', async () => {
    reserveBatches = [];
    const client = coalescingReservationClient(counted(), { maxPods: 32, windowMs: 0 });
    const signal = AbortSignal.timeout(15_000);
    const [r1, r2, r3, r4, placed] = await Promise.all([
      reserve(client, pod('c1', '500m'), 'a', step, 0, signal),
      reserve(client, pod('c2', '800m'), 'b', step, 0, signal),
      reserve(client, pod('c3', '800m'), 'b', step, 0, signal),
      reserve(client, pod('c4', '500m'), 'nowhere', step, 0, signal).catch((err: unknown) => err),
      reserve(client, pod('placed', '100m'), 'b', step, 0, signal),
    ]);
    expect(reserveBatches).toEqual([5]);
    expect(r1.lease).toMatchObject({ nodeName: 'a', pod: { uid: 'uid-c1' } });
    expect(r2.lease).toMatchObject({ nodeName: 'b' });
    // b had room for one of the two: the second is the node's refusal, as a single Reserve would say it.
    expect(r3.status.code).toBe(FrameworkStatus.unschedulable('').code);
    expect(r3.status.message()).toMatch(/node b is reserved: Insufficient cpu/);
    // An entry's error is the ClientError of its own call: NOT_FOUND for a node the ledger lacks …
    expect(r4).toMatchObject({ code: Status.NOT_FOUND, path: '/schedmesh.v1.ReservationService/Reserve', details: expect.stringContaining('nowhere') });
    // … and the adapter reads FAILED_PRECONDITION "already bound" as before.
    expect(placed.bound).toBe(true);
    expect((await direct.getReservation({ podUid: 'uid-c1' })).lease?.fencingVersion).toBe(r1.lease!.fencingVersion);
  }, 30_000);

  test('a batch holds at most maxPods calls, and a second call for a pod already in the batch starts the next one', async () => {
    reserveBatches = [];
    singleReserves = 0;
    const client = coalescingReservationClient(counted(), { maxPods: 4, windowMs: 20 });
    const signal = AbortSignal.timeout(15_000);
    const pods = Array.from({ length: 10 }, (_, i) => pod(`m${i}`, '10m'));
    const outcomes = await Promise.all([...pods.map((p) => reserve(client, p, 'a', step, 0, signal)), reserve(client, pods[9]!, 'a', step, 0, signal)]);
    expect(reserveBatches).toEqual([4, 4, 2]);
    expect(singleReserves).toBe(1);
    expect(new Set(outcomes.map((o) => o.lease?.fencingVersion)).size).toBe(10);
    // The repeated Reserve of m9 got m9's lease (idempotent), alone: as the plain Reserve.
    expect(outcomes[10]!.lease).toEqual(outcomes[9]!.lease);
  }, 30_000);

  test('a call aborted before its batch leaves leaves the batch, and is never granted; a lone call is the plain Reserve', async () => {
    reserveBatches = [];
    singleReserves = 0;
    const client = coalescingReservationClient(counted(), { maxPods: 32, windowMs: 30 });
    const abort = new AbortController();
    const gone = reserve(client, pod('gone', '10m'), 'a', step, 0, abort.signal);
    const kept = reserve(client, pod('kept', '10m'), 'a', step, 0, AbortSignal.timeout(15_000));
    abort.abort(new Error('the attempt was cancelled'));
    await expect(gone).rejects.toThrow('the attempt was cancelled');
    expect((await kept).lease).toBeDefined();
    expect(reserveBatches).toEqual([]);
    expect(singleReserves).toBe(1);
    await expect(direct.getReservation({ podUid: 'uid-gone' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  }, 30_000);

  test('Unreserve calls are coalesced too, each told whether its lease was released', async () => {
    unreserveBatches = [];
    const client = coalescingReservationClient(counted(), { maxPods: 32, windowMs: 0 });
    const signal = AbortSignal.timeout(15_000);
    const leases = await Promise.all(['u1', 'u2'].map((n) => reserve(client, pod(n, '10m'), 'a', step, 0, signal)));
    const released = await Promise.all([
      unreserve(client, 'uid-u1', leases[0]!.lease!.fencingVersion, signal),
      unreserve(client, 'uid-u2', leases[1]!.lease!.fencingVersion + 1, signal),
      unreserve(client, 'uid-never', 5, signal),
    ]);
    expect(released).toEqual([true, false, false]);
    expect(unreserveBatches).toEqual([3]);
    await expect(direct.getReservation({ podUid: 'uid-u1' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  }, 30_000);

  test('maxPods 1 is the client itself: one call per pod, as without batching', () => {
    const plain = counted();
    expect(coalescingReservationClient(plain, { maxPods: 1, windowMs: 5 })).toBe(plain);
  });
});
