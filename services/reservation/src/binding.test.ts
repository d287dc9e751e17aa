/**
 * A Binding whose answer was lost (kube-scheduler's extender httpTimeout, the
 * scheduler's Bind deadline) may have landed on the API server. The pod's
 * next attempt must not move its lease to another node and free the room it
 * may already occupy: the renewal right before the Binding marks the lease
 * binding, and a Reserve elsewhere is refused until the pod's bound event,
 * the TTL or an Unreserve (after a Binding the API server refused) settles it.
 * A scheduler attempt that binds next without that renewal asks for the mark
 * at the Reserve (ReserveRequest.binding): the lease is born binding, and
 * guards the pod just as one marked by the renewal.
 */
import { afterEach, expect, test } from '@jest/globals';
import { LeaseState } from '@schedmesh/proto/v1/reservation';
import { sharedServers } from '@schedmesh/testkit';
import { ClientError, Status } from 'nice-grpc';
import { nodeEvent, podEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';

const HOLDER = 'scheduler-0';
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function start(): Promise<ReservationClient> {
  h = await startHarness({
    redisUrl: sharedServers().redisUrl,
    natsUrl: sharedServers().natsUrl,
    events: [nodeEvent('n1', { cpu: 1_000, pods: 10 }), nodeEvent('n2', { cpu: 1_000, pods: 10 })],
  });
  return h.clients[0]!;
}

/** Reserves the pod's 1000m on a node; the lease's version. */
async function reserve(client: ReservationClient, uid: string, nodeName: string, ttlSeconds = 60): Promise<number> {
  const res = await client.reserve({ pod: { uid, namespace: 'default', name: uid }, nodeName, requests: resources({ cpu: 1_000 }), ttl: { seconds: ttlSeconds }, holder: HOLDER });
  if (res.result?.$case !== 'lease') throw new Error(`${uid} on ${nodeName}: ${JSON.stringify(res.result)}`);
  return res.result.value.fencingVersion;
}

/** Reserves the pod's 1000m on a node, marked binding at once, as a Reserve or as an entry of a ReserveBatch. */
async function reserveBinding(client: ReservationClient, uid: string, nodeName: string, how: 'Reserve' | 'ReserveBatch'): Promise<number> {
  const request = { pod: { uid, namespace: 'default', name: uid }, nodeName, requests: resources({ cpu: 1_000 }), ttl: { seconds: 60 }, holder: HOLDER, binding: true };
  const result = how === 'Reserve' ? (await client.reserve(request)).result : (await client.reserveBatch({ pods: [request] })).pods[0]?.result;
  if (result?.$case !== 'lease') throw new Error(`${uid} on ${nodeName}: ${JSON.stringify(result)}`);
  expect(result.value.binding).toBe(true);
  return result.value.fencingVersion;
}

/** How the lease on n1 came to be binding. */
const MARKINGS: ReadonlyArray<[string, (client: ReservationClient) => Promise<number>]> = [
  ['by the renewal right before the Binding', async (client) => {
    const version = await reserve(client, 'p', 'n1');
    await renewBeforeBind(client, 'p', 'n1', version);
    return version;
  }],
  ['at its grant, by a Reserve that said the caller binds next', (client) => reserveBinding(client, 'p', 'n1', 'Reserve')],
  ['at its grant, by a ReserveBatch entry that said so', (client) => reserveBinding(client, 'p', 'n1', 'ReserveBatch')],
];

/** The attempt's last renewal: right before the Binding, which then times out. */
async function renewBeforeBind(client: ReservationClient, uid: string, nodeName: string, fencingVersion: number): Promise<void> {
  await client.renew({ podUid: uid, nodeName, fencingVersion, binding: true });
}

test.each(MARKINGS)('a pod whose Binding to n1 may have landed (marked %s) is not moved to n2, so n1 is never granted twice', async (_, mark) => {
  const client = await start();
  await mark(client);
  // The Binding landed on the API server, its answer was lost; the pod's bound event has not arrived.
  // The pod's next attempt tries n2, and another pod tries n1.
  const moved = await reserve(client, 'p', 'n2').then(() => undefined, (e: unknown) => e);
  const rival = await client.reserve({ pod: { uid: 'q' }, nodeName: 'n1', requests: resources({ cpu: 1_000 }), ttl: { seconds: 60 }, holder: HOLDER });
  // The bound event arrives: n1 holds p, and only p.
  await h!.waitForGeneration(await h!.publish(podEvent({ uid: 'p', node: 'n1', requests: { cpu: 1_000 } })));
  const n1 = await client.getLedger({ nodeName: 'n1' });
  expect({ bound: n1.bound!.milliCpu, leased: n1.leased!.milliCpu, free: n1.free!.milliCpu }).toEqual({ bound: 1_000, leased: 0, free: 0 });
  expect(rival.result?.$case).toBe('conflict');
  expect(moved).toBeInstanceOf(ClientError);
  expect((moved as ClientError).code).toBe(Status.FAILED_PRECONDITION);
  expect((moved as ClientError).details).toMatch(/pod p may be bound to node n1: its lease there \(version \d+\) is binding/);
  expect((await client.getLedger({ nodeName: 'n2' })).free!.milliCpu).toBe(1_000);
}, 30_000);

test('the pod may retry on n1 itself: the binding lease is returned as it is', async () => {
  const client = await start();
  const version = await reserve(client, 'p', 'n1');
  await renewBeforeBind(client, 'p', 'n1', version);
  expect(await reserve(client, 'p', 'n1')).toBe(version);
  await renewBeforeBind(client, 'p', 'n1', version);
}, 30_000);

test.each(MARKINGS)('an Unreserve after a Binding the API server refused (marked %s) releases the lease: the pod moves to n2', async (_, mark) => {
  const client = await start();
  const version = await mark(client);
  expect((await client.unreserve({ podUid: 'p', fencingVersion: version })).released).toBe(true);
  await reserve(client, 'p', 'n2');
  expect((await client.getLedger({ nodeName: 'n1' })).free!.milliCpu).toBe(1_000);
  expect((await client.getLedger({ nodeName: 'n2' })).free!.milliCpu).toBe(0);
}, 30_000);

test('a binding lease that no bound event settles lapses at its TTL; then the pod may be reserved on n2', async () => {
  const client = await start();
  const version = await reserve(client, 'p', 'n1', 1);
  await renewBeforeBind(client, 'p', 'n1', version);
  await waitFor(
    () => reserve(client, 'p', 'n2').then(() => true, () => false),
    20_000,
    'the binding lease to lapse',
  );
  expect((await client.getLedger({ nodeName: 'n1' })).free!.milliCpu).toBe(1_000);
}, 30_000);

test('the renewal before Bind of a pod whose bound event came first answers with the bound record', async () => {
  const client = await start();
  const version = await reserve(client, 'p', 'n1');
  await h!.waitForGeneration(await h!.publish(podEvent({ uid: 'p', node: 'n1', requests: { cpu: 1_000 } })));
  const renewed = await client.renew({ podUid: 'p', nodeName: 'n1', fencingVersion: version, binding: true });
  expect([renewed.lease!.state, renewed.lease!.fencingVersion, renewed.lease!.nodeName]).toEqual([LeaseState.LEASE_STATE_CONFIRMED, version, 'n1']);
}, 30_000);

test('a Reserve that says the caller binds next marks an existing lease and gives it its TTL again; a plain one leaves it as it is', async () => {
  const client = await start();
  const version = await reserve(client, 'p', 'n1');
  const granted = (await client.getReservation({ podUid: 'p' })).lease!.expireTime!.getTime();
  // A plain repeated Reserve returns the same lease, same expiry, and does not mark it.
  expect(await reserve(client, 'p', 'n1')).toBe(version);
  const plain = (await client.getReservation({ podUid: 'p' })).lease!;
  expect([plain.expireTime!.getTime(), plain.binding]).toEqual([granted, false]);
  // The ledger's clock moves past the grant's millisecond (a condition, not a pause).
  await waitFor(() => Date.now() > granted - 60_000 + 5, 5_000, 'a few ms past the grant');
  expect(await reserveBinding(client, 'p', 'n1', 'Reserve')).toBe(version);
  const renewed = (await client.getReservation({ podUid: 'p' })).lease!;
  expect([renewed.fencingVersion, renewed.expireTime!.getTime() > granted, renewed.binding]).toEqual([version, true, true]);
  // Marked: no move to n2 now.
  await expect(reserve(client, 'p', 'n2')).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringMatching(/may be bound to node n1/) });
  // The uid-only Unreserve still finds it (the pod's index entry was extended with it) and releases it.
  expect((await client.unreserve({ podUid: 'p', fencingVersion: version })).released).toBe(true);
  expect((await client.getLedger({ nodeName: 'n1' })).free!.milliCpu).toBe(1_000);
}, 30_000);
