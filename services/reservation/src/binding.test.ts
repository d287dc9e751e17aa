/**
 * A Binding whose answer was lost (kube-scheduler's extender httpTimeout, the
 * scheduler's Bind deadline) may have landed on the API server. The pod's
 * next attempt must not move its lease to another node and free the room it
 * may already occupy: the renewal right before the Binding marks the lease
 * binding, and a Reserve elsewhere is refused until the pod's bound event,
 * the TTL or an Unreserve (after a Binding the API server refused) settles it.
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

/** The attempt's last renewal: right before the Binding, which then times out. */
async function renewBeforeBind(client: ReservationClient, uid: string, nodeName: string, fencingVersion: number): Promise<void> {
  await client.renew({ podUid: uid, nodeName, fencingVersion, binding: true });
}

test('a pod whose Binding to n1 may have landed is not moved to n2, so n1 is never granted twice', async () => {
  const client = await start();
  const version = await reserve(client, 'p', 'n1');
  await renewBeforeBind(client, 'p', 'n1', version);
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

test('an Unreserve after a Binding the API server refused clears the mark: the pod moves to n2', async () => {
  const client = await start();
  const version = await reserve(client, 'p', 'n1');
  await renewBeforeBind(client, 'p', 'n1', version);
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
