// The coalescing reservation client (libs/mesh) over a real reservation
// service (real Redis, NATS and gRPC on loopback): calls made one pod at a
// time leave as batch calls, and each caller gets what its own call would
// have given. The batch calls are counted by a wrapper that forwards every
// call to the real client.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Status as FrameworkStatus } from '@schedmesh/framework';
import { coalescingReservationClient, confirm, reserve, unreserve } from '@schedmesh/mesh';
import type { ReservationClient } from '@schedmesh/mesh';
import { LeaseState, ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import type { ReservationServiceImplementation } from '@schedmesh/proto/v1/reservation';
import type { Pod } from '@schedmesh/proto/v1/types';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { connectChannel, createServiceClient, ensureClusterStreamFrom, initTelemetry, publishClusterEvent } from '@schedmesh/runtime';
import type { Telemetry } from '@schedmesh/runtime';
import { clusterEvent, makeNode, makePod, startNats, startRedis } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { ClientError, createServer, ServerError, Status } from 'nice-grpc';
import type { Channel, Server } from 'nice-grpc';

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
/** Pods per ConfirmBatch call, and plain Confirm calls. */
let confirmBatches: number[] = [];
let singleConfirms = 0;
/** The spans of this process (the coalescing client's batch spans among them). */
const spans = new InMemorySpanExporter();
let telemetry: Telemetry;

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
    confirm: (request, options) => {
      singleConfirms++;
      return direct.confirm(request, options);
    },
    confirmBatch: (request, options) => {
      confirmBatches.push(request.pods?.length ?? 0);
      return direct.confirmBatch(request, options);
    },
  };
}

/** A pod small enough that node a holds every one the tests below reserve. */
const tiny = (name: string): Pod => makePod(name, 'shop').uid(`uid-${name}`).requests('10m', '1Mi').build();

/** Leases of fresh pods on node a, reserved directly; their fencing versions. */
async function leasesFor(...names: string[]): Promise<number[]> {
  const signal = AbortSignal.timeout(15_000);
  return Promise.all(names.map(async (n) => (await reserve(direct, tiny(n), 'a', step, 0, signal)).lease!.fencingVersion));
}

const pod = (name: string, cpu: string): Pod => makePod(name, 'shop').uid(`uid-${name}`).requests(cpu, '1Gi').build();

beforeAll(async () => {
  // Registered first, so the client's spans reach this exporter (the service's own provider stays private to it).
  telemetry = initTelemetry({ serviceName: 'reservation-batching-test', exporter: spans, simpleProcessor: true });
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
  await telemetry?.shutdown();
}, 30_000);

describe('coalescingReservationClient', () => {
  test('the Reserve calls of one tick go out as one batch; each caller gets its own lease, refusal or error', async () => {
    reserveBatches = [];
    const client = coalescingReservationClient(counted(), { maxPods: 32, windowMs: 0, confirmWindowMs: 0 });
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
    const client = coalescingReservationClient(counted(), { maxPods: 4, windowMs: 20, confirmWindowMs: 0 });
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
    const client = coalescingReservationClient(counted(), { maxPods: 32, windowMs: 30, confirmWindowMs: 0 });
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
    const client = coalescingReservationClient(counted(), { maxPods: 32, windowMs: 0, confirmWindowMs: 0 });
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
    expect(coalescingReservationClient(plain, { maxPods: 1, windowMs: 5, confirmWindowMs: 5 })).toBe(plain);
  });

  test('Confirm calls gather within their own window into one ConfirmBatch; each caller gets its lease or the error of its own Confirm', async () => {
    confirmBatches = [];
    singleConfirms = 0;
    // A window far longer than the test: the batch leaves when it holds maxPods calls, never on a timer.
    const client = coalescingReservationClient(counted(), { maxPods: 3, windowMs: 0, confirmWindowMs: 60_000 });
    const [v1, v2] = await leasesFor('k1', 'k2');
    const signal = AbortSignal.timeout(15_000);
    const first = confirm(client, 'uid-k1', v1!, signal);
    // A call of a later tick (after a round trip to the service) joins the same batch.
    expect((await direct.getReservation({ podUid: 'uid-k1' })).lease?.state).toBe(LeaseState.LEASE_STATE_RESERVED);
    const stale = confirm(client, 'uid-k2', v2! + 1, signal).catch((err: unknown) => err);
    const second = confirm(client, 'uid-k2', v2!, signal).catch((err: unknown) => err);
    // uid-k2 twice: its second call starts the next batch, which waits for company (or its window).
    expect(await first).toEqual(FrameworkStatus.SUCCESS);
    expect(await stale).toMatchObject({ code: Status.FAILED_PRECONDITION, path: '/schedmesh.v1.ReservationService/Confirm', details: `pod uid-k2: fencing version ${v2! + 1} is stale (the lease is at version ${v2})` });
    expect(confirmBatches).toEqual([2]);
    const third = confirm(client, 'uid-k3-none', 7, signal).catch((err: unknown) => err);
    const fourth = confirm(client, 'uid-k1', v1!, signal);
    expect(await second).toEqual(FrameworkStatus.SUCCESS);
    expect(await third).toMatchObject({ code: Status.FAILED_PRECONDITION, details: 'pod uid-k3-none holds no lease (it lapsed or was released)' });
    // Repeated, Confirm is idempotent.
    expect(await fourth).toEqual(FrameworkStatus.SUCCESS);
    expect(confirmBatches).toEqual([2, 3]);
    expect(singleConfirms).toBe(0);
    for (const uid of ['uid-k1', 'uid-k2']) expect((await direct.getReservation({ podUid: uid })).lease?.state).toBe(LeaseState.LEASE_STATE_CONFIRMED);
  }, 30_000);

  test("the batch's span is a child of the first caller's step and links to every other caller's", async () => {
    const client = coalescingReservationClient(counted(), { maxPods: 2, windowMs: 0, confirmWindowMs: 60_000 });
    const [v1, v2] = await leasesFor('t1', 't2');
    const tracer = trace.getTracer('reservation-batching-test');
    const steps = ['t1', 't2'].map((n) => tracer.startSpan(`PostBind/SchedmeshReservation ${n}`));
    const signal = AbortSignal.timeout(15_000);
    await Promise.all([v1!, v2!].map((v, i) => context.with(trace.setSpan(context.active(), steps[i]!), () => confirm(client, `uid-t${i + 1}`, v, signal))));
    for (const s of steps) s.end();
    const batch = spans.getFinishedSpans().filter((s) => s.name === 'ConfirmBatch (coalesced)' && s.spanContext().traceId === steps[0]!.spanContext().traceId);
    expect(batch).toHaveLength(1);
    expect(batch[0]!.parentSpanContext?.spanId).toBe(steps[0]!.spanContext().spanId);
    expect(batch[0]!.links.map((l) => l.context.spanId)).toEqual([steps[1]!.spanContext().spanId]);
    expect(batch[0]!.attributes['schedmesh.batch.size']).toBe(2);
  }, 30_000);

  test('a reservation service without ConfirmBatch (UNIMPLEMENTED) is called one Confirm at a time from then on; Reserve stays batched', async () => {
    // Stands in for an older reservation service (mid-rollout): every RPC forwards to the real one,
    // but ConfirmBatch is answered as grpc-js answers a method the server does not have.
    const forward = (method: keyof ReservationClient) => (request: never) =>
      (direct[method] as unknown as (r: never) => Promise<never>)(request).catch((err: unknown) => {
        throw err instanceof ClientError ? new ServerError(err.code, err.details) : err;
      });
    const older: ReservationServiceImplementation = {
      reserve: forward('reserve'),
      unreserve: forward('unreserve'),
      reserveBatch: forward('reserveBatch'),
      unreserveBatch: forward('unreserveBatch'),
      confirm: forward('confirm'),
      renew: forward('renew'),
      permit: forward('permit'),
      getReservation: forward('getReservation'),
      getLedger: forward('getLedger'),
      confirmBatch: () => Promise.reject(new ServerError(Status.UNIMPLEMENTED, 'Method not found: /schedmesh.v1.ReservationService/ConfirmBatch')),
    };
    const server: Server = createServer();
    server.add(ReservationServiceDefinition, older);
    const port = await server.listen('127.0.0.1:0');
    const olderChannel = connectChannel(`127.0.0.1:${port}`);
    try {
      const toOlder = createServiceClient(ReservationServiceDefinition, olderChannel, { defaultDeadlineMs: 10_000 });
      let batchesTried = 0;
      let singles = 0;
      let reserveBatchesSent = 0;
      const client = coalescingReservationClient(
        {
          ...toOlder,
          confirmBatch: (request, options) => {
            batchesTried++;
            return toOlder.confirmBatch(request, options);
          },
          confirm: (request, options) => {
            singles++;
            return toOlder.confirm(request, options);
          },
          reserveBatch: (request, options) => {
            reserveBatchesSent++;
            return toOlder.reserveBatch(request, options);
          },
        },
        { maxPods: 2, windowMs: 0, confirmWindowMs: 60_000 },
      );
      const signal = AbortSignal.timeout(15_000);
      const [v1, v2, v3, v4] = await leasesFor('o1', 'o2', 'o3', 'o4');
      expect(await Promise.all([confirm(client, 'uid-o1', v1!, signal), confirm(client, 'uid-o2', v2!, signal)])).toEqual([FrameworkStatus.SUCCESS, FrameworkStatus.SUCCESS]);
      expect([batchesTried, singles]).toEqual([1, 2]);
      const [stale, third] = await Promise.all([confirm(client, 'uid-o4', v4! + 1, signal).catch((err: unknown) => err), confirm(client, 'uid-o3', v3!, signal)]);
      expect(third).toEqual(FrameworkStatus.SUCCESS);
      expect(stale).toBeInstanceOf(ClientError);
      expect(stale).toMatchObject({ code: Status.FAILED_PRECONDITION });
      // Learnt once: the next batch went out as single calls without trying ConfirmBatch again.
      expect([batchesTried, singles]).toEqual([1, 4]);
      for (const uid of ['uid-o1', 'uid-o2', 'uid-o3']) expect((await direct.getReservation({ podUid: uid })).lease?.state).toBe(LeaseState.LEASE_STATE_CONFIRMED);
      // Reserve's batching is not given up for Confirm's.
      await Promise.all(['o5', 'o6'].map((n) => reserve(client, tiny(n), 'a', step, 0, signal)));
      expect(reserveBatchesSent).toBe(1);
    } finally {
      olderChannel.close();
      await server.shutdown();
    }
  }, 30_000);
});
