// ReserveBatch, UnreserveBatch and ConfirmBatch over gRPC, on real Redis and
// NATS: each entry answered on its own, one Redis pass for the batch, and a
// batch that fails part-way leaves no lease behind that its caller was not
// told of.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { LeaseState } from '@schedmesh/proto/v1/reservation';
import type { ConfirmBatchEntry, ReserveBatchEntry, ReserveRequest } from '@schedmesh/proto/v1/reservation';
import type { DeepPartial } from '@schedmesh/proto/v1/reservation';
import { sharedServers, startRedis } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { Status } from 'nice-grpc';
import { KeyLayout } from './keys.js';
import { MAX_BATCH_ENTRIES } from './server.js';
import { nodeEvent, podEvent, resources, startHarness } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';

const GiB = 2 ** 30;
const roomy = { cpu: 64_000, memory: 256 * GiB, pods: 110 };

const entry = (uid: string, node: string, cpu: number, extra: DeepPartial<ReserveRequest> = {}): DeepPartial<ReserveRequest> => ({
  pod: { uid, namespace: 'default', name: uid },
  nodeName: node,
  requests: resources({ cpu }),
  ttl: { seconds: 30 },
  holder: 'batch-test',
  ...extra,
});

function versionOf(e: ReserveBatchEntry | undefined): number {
  if (e?.result?.$case !== 'lease') throw new Error(`expected a lease, got ${JSON.stringify(e?.result)}`);
  return e.result.value.fencingVersion;
}

describe('ReserveBatch and UnreserveBatch', () => {
  let h: Harness;
  let client: ReservationClient;
  let redis: Redis;
  let keys: KeyLayout;

  beforeAll(async () => {
    const { redisUrl, natsUrl } = sharedServers();
    h = await startHarness({
      redisUrl,
      natsUrl,
      events: [
        nodeEvent('small', { cpu: 1_000, memory: 8 * GiB, pods: 10 }),
        nodeEvent('big1', roomy),
        nodeEvent('big2', roomy),
        podEvent({ uid: 'running-1', node: 'big1', requests: { cpu: 100 } }),
      ],
    });
    client = h.clients[0]!;
    redis = new Redis(redisUrl);
    keys = new KeyLayout(h.config.redis.keyPrefix);
  }, 60_000);
  afterAll(async () => {
    redis.disconnect();
    await h.stop();
  });

  test('each entry is answered on its own: grants, a conflict and errors in one call, in order', async () => {
    const reply = await client.reserveBatch({
      pods: [
        entry('mix-a', 'big1', 500),
        entry('mix-b', 'small', 5_000),
        entry('mix-c', 'nowhere', 100),
        entry('mix-d', 'big1', 700),
        entry('running-1', 'big2', 100),
        entry('mix-e', 'big2', 300),
      ],
    });
    expect(reply.pods.map((p) => p.result?.$case)).toEqual(['lease', 'conflict', 'error', 'lease', 'error', 'lease']);
    expect(reply.pods[1]!.result).toMatchObject({ $case: 'conflict', value: { shortResources: ['cpu'], message: expect.stringContaining('node small: insufficient cpu') } });
    expect(reply.pods[2]!.result).toMatchObject({ $case: 'error', value: { code: Status.NOT_FOUND, message: 'node "nowhere" not found' } });
    expect(reply.pods[4]!.result).toMatchObject({ $case: 'error', value: { code: Status.FAILED_PRECONDITION, message: expect.stringContaining('already bound to node big1') } });
    // Fencing per entry: two grants on one node get the node's next two versions, in batch order.
    const [a, d, e] = [versionOf(reply.pods[0]), versionOf(reply.pods[3]), versionOf(reply.pods[5])];
    expect(d).toBeGreaterThan(a);
    expect((await client.getLedger({ nodeName: 'big1' })).fencingVersion).toBe(d);
    expect((await client.getLedger({ nodeName: 'big2' })).fencingVersion).toBe(e);
    for (const [uid, i] of [['mix-a', 0], ['mix-d', 3], ['mix-e', 5]] as const) {
      const lease = (await client.getReservation({ podUid: uid })).lease;
      expect(lease).toEqual(reply.pods[i]!.result?.$case === 'lease' ? reply.pods[i]!.result.value : undefined);
      expect(lease!.state).toBe(LeaseState.LEASE_STATE_RESERVED);
    }
    expect((await client.getLedger({ nodeName: 'big1' })).leased).toMatchObject({ milliCpu: 1_200, pods: 2 });
    expect((await client.getLedger({ nodeName: 'small' })).leased).toMatchObject({ milliCpu: 0, pods: 0 });
    // Repeated, the batch returns the same leases (Reserve is idempotent per entry).
    const again = await client.reserveBatch({ pods: [entry('mix-a', 'big1', 500), entry('mix-e', 'big2', 300)] });
    expect(again.pods.map(versionOf)).toEqual([a, e]);
  });

  test('the last room of a node goes to the first entry that asks for it; the next one is refused', async () => {
    const reply = await client.reserveBatch({ pods: [entry('last-1', 'small', 600), entry('last-2', 'small', 600), entry('last-3', 'small', 400)] });
    expect(reply.pods.map((p) => p.result?.$case)).toEqual(['lease', 'conflict', 'lease']);
    expect((await client.getLedger({ nodeName: 'small' })).free).toMatchObject({ milliCpu: 0 });
    const released = await client.unreserveBatch({ pods: [{ podUid: 'last-1', fencingVersion: versionOf(reply.pods[0]) }, { podUid: 'last-3', fencingVersion: versionOf(reply.pods[2]) }] });
    expect(released.released).toEqual([true, true]);
    expect((await client.getLedger({ nodeName: 'small' })).leased).toMatchObject({ milliCpu: 0, pods: 0 });
  });

  test('UnreserveBatch releases each lease only at its version, and says which it released', async () => {
    const granted = await client.reserveBatch({ pods: [entry('un-a', 'big2', 100), entry('un-b', 'big2', 200), entry('un-c', 'big1', 300)] });
    const [va, vb, vc] = granted.pods.map(versionOf);
    const reply = await client.unreserveBatch({
      pods: [
        { podUid: 'un-a', fencingVersion: va! },
        { podUid: 'un-b', fencingVersion: vb! + 1 },
        { podUid: 'no-such-pod', fencingVersion: 7 },
        { podUid: 'un-c', fencingVersion: vc! },
      ],
    });
    expect(reply.released).toEqual([true, false, false, true]);
    await expect(client.getReservation({ podUid: 'un-a' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    expect((await client.getReservation({ podUid: 'un-b' })).lease!.fencingVersion).toBe(vb);
    // Repeated, nothing more is released (idempotent).
    expect((await client.unreserveBatch({ pods: [{ podUid: 'un-a', fencingVersion: va! }] })).released).toEqual([false]);
  });

  test.each([
    ['a bad node name', [entry('v-1', 'big1', 100), entry('v-2', 'big1', 100), entry('v-3', 'Not_A_Node', 100)], /^pods\[2\]\.node_name: /],
    ['a missing uid', [entry('v-1', 'big1', 100), entry('', 'big1', 100)], /^pods\[1\]\.pod\.uid: /],
    ['a lease too long', [entry('v-1', 'big1', 100, { ttl: { seconds: 3_600 } })], /^pods\[0\]\.ttl: /],
    ['a pod twice', [entry('v-1', 'big1', 100), entry('v-1', 'big2', 100)], /^pods\[1\]\.pod\.uid: pod v-1 appears twice in the batch/],
    ['too many entries', Array.from({ length: MAX_BATCH_ENTRIES + 1 }, (_, i) => entry(`v-${i}`, 'big1', 1)), /^pods: must hold at most 256 entries, got 257/],
    ['no entries', [], /^pods: must hold at least one entry/],
  ])('ReserveBatch with %s is INVALID_ARGUMENT naming the entry, and grants nothing', async (_, pods, message) => {
    const before = await client.getLedger({ nodeName: 'big1' });
    await expect(client.reserveBatch({ pods })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(message) });
    expect((await client.getLedger({ nodeName: 'big1' })).fencingVersion).toBe(before.fencingVersion);
    await expect(client.getReservation({ podUid: 'v-1' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  });

  test('UnreserveBatch names the entry whose fencing version is missing', async () => {
    await expect(client.unreserveBatch({ pods: [{ podUid: 'x', fencingVersion: 3 }, { podUid: 'y', fencingVersion: 0 }] })).rejects.toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^pods\[1\]\.fencing_version: /),
    });
  });

  test('a batch that fails in the middle of its Redis pass gives back what it granted before the failure', async () => {
    // A node whose ledger key holds the wrong type: its script fails inside Redis, after the entries
    // before it were granted in the same pipeline.
    await redis.set(keys.node('broken')[0]!, 'not a hash');
    const before = await client.getLedger({ nodeName: 'big1' });
    await expect(client.reserveBatch({ pods: [entry('mid-a', 'big1', 100), entry('mid-b', 'broken', 100), entry('mid-c', 'big2', 100)] })).rejects.toMatchObject({
      code: Status.INTERNAL,
      details: expect.stringContaining('WRONGTYPE'),
    });
    for (const uid of ['mid-a', 'mid-c']) await expect(client.getReservation({ podUid: uid })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    const after = await client.getLedger({ nodeName: 'big1' });
    expect(after.leased).toEqual(before.leased);
    // mid-a was granted (the version moved) and given back.
    expect(after.fencingVersion).toBeGreaterThan(before.fencingVersion);
  });
});

/** The lease of a ConfirmBatch entry, or a failure naming what the entry holds instead. */
function confirmedLease(e: ConfirmBatchEntry | undefined) {
  if (e?.result?.$case !== 'lease') throw new Error(`expected a lease, got ${JSON.stringify(e?.result)}`);
  return e.result.value;
}

describe('ConfirmBatch', () => {
  let h: Harness;

  beforeAll(async () => {
    const { redisUrl, natsUrl } = sharedServers();
    // Two replicas: a lease one replica granted is confirmed through the other (its lease memory
    // does not know it, so the pod index names the node).
    h = await startHarness({ redisUrl, natsUrl, replicas: 2, events: [nodeEvent('c1', roomy), nodeEvent('c2', roomy)] });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  });

  const reserveOn = async (replica: number, uid: string, node: string): Promise<number> => versionOf((await h.clients[replica]!.reserveBatch({ pods: [entry(uid, node, 100)] })).pods[0]);

  test('each entry is answered on its own: confirmed, stale, settled by its bound event, unknown, and granted by the other replica', async () => {
    const [client, other] = h.clients as [ReservationClient, ReservationClient];
    const va = await reserveOn(0, 'cf-a', 'c1');
    const vb = await reserveOn(0, 'cf-b', 'c1');
    const vc = await reserveOn(0, 'cf-c', 'c2');
    const vd = await reserveOn(1, 'cf-d', 'c2');
    // cf-c's bound event arrives before its Confirm: the ledger holds it bound already.
    await h.waitForGeneration(await h.publish(podEvent({ uid: 'cf-c', node: 'c2', requests: { cpu: 100 } })));
    const pods = [
      { podUid: 'cf-a', fencingVersion: va },
      { podUid: 'cf-b', fencingVersion: vb + 1 },
      { podUid: 'cf-c', fencingVersion: vc },
      { podUid: 'cf-none', fencingVersion: 3 },
      { podUid: 'cf-d', fencingVersion: vd },
    ];
    const reply = await client.confirmBatch({ pods });
    expect(reply.pods.map((p) => p.result?.$case)).toEqual(['lease', 'error', 'lease', 'error', 'lease']);
    expect(confirmedLease(reply.pods[0])).toMatchObject({ pod: { uid: 'cf-a' }, nodeName: 'c1', fencingVersion: va, state: LeaseState.LEASE_STATE_CONFIRMED });
    expect(reply.pods[1]!.result).toEqual({ $case: 'error', value: { code: Status.FAILED_PRECONDITION, message: `pod cf-b: fencing version ${vb + 1} is stale (the lease is at version ${vb})` } });
    expect(confirmedLease(reply.pods[2])).toMatchObject({ pod: { uid: 'cf-c' }, nodeName: 'c2', fencingVersion: vc, state: LeaseState.LEASE_STATE_CONFIRMED });
    expect(reply.pods[3]!.result).toEqual({ $case: 'error', value: { code: Status.FAILED_PRECONDITION, message: 'pod cf-none holds no lease (it lapsed or was released)' } });
    expect(confirmedLease(reply.pods[4])).toMatchObject({ pod: { uid: 'cf-d' }, nodeName: 'c2', fencingVersion: vd, state: LeaseState.LEASE_STATE_CONFIRMED });
    // The stale entry changed nothing: cf-b's lease is still reserved.
    expect((await other.getReservation({ podUid: 'cf-b' })).lease).toMatchObject({ fencingVersion: vb, state: LeaseState.LEASE_STATE_RESERVED });
    // Confirmed capacity is bound, counted once (cf-c by its bound event): c1 holds a bound and b leased, c2 c and d bound.
    expect((await other.getLedger({ nodeName: 'c1' })).bound).toMatchObject({ milliCpu: 100, pods: 1 });
    expect((await other.getLedger({ nodeName: 'c1' })).leased).toMatchObject({ milliCpu: 100, pods: 1 });
    expect((await other.getLedger({ nodeName: 'c2' })).bound).toMatchObject({ milliCpu: 200, pods: 2 });
    expect((await other.getLedger({ nodeName: 'c2' })).leased).toMatchObject({ milliCpu: 0, pods: 0 });
    // Repeated, through the other replica, the batch answers the same (Confirm is idempotent per entry).
    const again = await other.confirmBatch({ pods });
    expect(again.pods).toEqual(reply.pods);
  });

  test.each([
    ['no entries', [], /^pods: must hold at least one entry/],
    ['too many entries', Array.from({ length: MAX_BATCH_ENTRIES + 1 }, (_, i) => ({ podUid: `iv-${i}`, fencingVersion: 1 })), /^pods: must hold at most 256 entries, got 257/],
    ['a missing uid', [{ podUid: 'iv-ok', fencingVersion: 1 }, { podUid: '', fencingVersion: 1 }], /^pods\[1\]\.pod_uid: /],
    ['a missing fencing version', [{ podUid: 'iv-ok', fencingVersion: 1 }, { podUid: 'iv-2', fencingVersion: 1 }, { podUid: 'iv-3', fencingVersion: 0 }], /^pods\[2\]\.fencing_version: /],
    ['a pod twice', [{ podUid: 'iv-ok', fencingVersion: 1 }, { podUid: 'iv-ok', fencingVersion: 1 }], /^pods\[1\]\.pod_uid: pod iv-ok appears twice in the batch/],
  ])('ConfirmBatch with %s is INVALID_ARGUMENT naming the field, and confirms nothing', async (_, pods, message) => {
    const client = h.clients[0]!;
    const version = await reserveOn(0, 'iv-ok', 'c1');
    const batch = pods.map((p) => (p.podUid === 'iv-ok' ? { ...p, fencingVersion: version } : p));
    await expect(client.confirmBatch({ pods: batch })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(message) });
    expect((await client.getReservation({ podUid: 'iv-ok' })).lease).toMatchObject({ fencingVersion: version, state: LeaseState.LEASE_STATE_RESERVED });
  });
});

describe('ReserveBatch when Redis cannot keep the grants', () => {
  test('a batch no replica acknowledged is UNAVAILABLE, and every lease it granted is given back', async () => {
    const { redisUrl, natsUrl } = sharedServers();
    // The shared Redis has no replica: WAIT never reaches 1.
    const h = await startHarness({ redisUrl, natsUrl, events: [nodeEvent('w1', roomy), nodeEvent('w2', roomy)], config: { redis: { waitReplicas: 1, waitTimeout: '100ms' } } });
    try {
      const client = h.clients[0]!;
      await expect(client.reserveBatch({ pods: [entry('w-a', 'w1', 100), entry('w-b', 'w2', 100), entry('w-c', 'w1', 100)] })).rejects.toMatchObject({
        code: Status.UNAVAILABLE,
        details: expect.stringMatching(/3 leases reached 0 of 1 replicas/),
      });
      for (const node of ['w1', 'w2']) expect((await client.getLedger({ nodeName: node })).leased).toMatchObject({ milliCpu: 0, pods: 0 });
      for (const uid of ['w-a', 'w-b', 'w-c']) await expect(client.getReservation({ podUid: uid })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    } finally {
      await h.stop();
    }
  }, 60_000);

  test('a batch is UNAVAILABLE while Redis is down', async () => {
    const server = await startRedis();
    const h = await startHarness({ redisUrl: server.url, natsUrl: sharedServers().natsUrl, events: [nodeEvent('g1', roomy), nodeEvent('g2', roomy)], config: { redis: { commandTimeout: '300ms' } } });
    try {
      await server.stop();
      await expect(h.clients[0]!.reserveBatch({ pods: [entry('gone-a', 'g1', 100), entry('gone-b', 'g2', 100)] })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    } finally {
      await h.stop();
    }
  }, 90_000);
});
