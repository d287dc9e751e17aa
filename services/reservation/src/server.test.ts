import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { LeaseState } from '@schedmesh/proto/v1/reservation';
import type { ReserveRequest, ReserveResponse } from '@schedmesh/proto/v1/reservation';
import { PodPhase } from '@schedmesh/proto/v1/types';
import { sharedServers } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { Status } from 'nice-grpc';
import type { DeepPartial } from '@schedmesh/proto/v1/reservation';
import { nodeEvent, podEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';
import { KeyLayout } from './keys.js';

const GiB = 2 ** 30;
const big = { cpu: 64_000, memory: 256 * GiB, ephemeralStorage: 100 * GiB, pods: 110, scalar: { 'nvidia.com/gpu': 8 } };

describe('ReservationService over gRPC', () => {
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
        nodeEvent('n1', { cpu: 4_000, memory: 8 * GiB, ephemeralStorage: 10 * GiB, pods: 3, scalar: { 'nvidia.com/gpu': 1 } }),
        nodeEvent('n2', big),
        nodeEvent('n3', big),
        podEvent({ uid: 'running-1', node: 'n1', requests: { cpu: 1_000, memory: GiB } }),
      ],
    });
    client = h.clients[0]!;
    redis = new Redis(redisUrl);
    keys = new KeyLayout(h.config.redis.keyPrefix);
  });
  afterAll(async () => {
    redis.disconnect();
    await h.stop();
  });

  const reserve = (uid: string, node: string, spec: Parameters<typeof resources>[0] = {}, extra: DeepPartial<ReserveRequest> = {}) =>
    client.reserve({ pod: { uid, namespace: 'default', name: uid }, nodeName: node, requests: resources(spec), ttl: { seconds: 30 }, holder: 'test', ...extra });
  const versionOf = (reply: ReserveResponse): number => {
    if (reply.result?.$case !== 'lease') throw new Error(`expected a lease, got ${JSON.stringify(reply.result)}`);
    return reply.result.value.fencingVersion;
  };

  test('the ledger starts from the stream: allocatable, and bound pods counted with one pod each', async () => {
    const ledger = await client.getLedger({ nodeName: 'n1' });
    expect(ledger.allocatable).toMatchObject({ milliCpu: 4_000, memory: 8 * GiB, pods: 3, scalar: { 'nvidia.com/gpu': 1 } });
    expect(ledger.bound).toMatchObject({ milliCpu: 1_000, memory: GiB, pods: 1 });
    expect(ledger.leased).toMatchObject({ milliCpu: 0, pods: 0 });
    expect(ledger.free).toMatchObject({ milliCpu: 3_000, memory: 7 * GiB, pods: 2, scalar: { 'nvidia.com/gpu': 1 } });
  });

  test('Reserve grants a lease with a fencing version and an expiry; GetReservation returns it', async () => {
    const before = Date.now();
    const reply = await reserve('a1', 'n2', { cpu: 500, memory: GiB, scalar: { 'nvidia.com/gpu': 1 } });
    expect(reply.result?.$case).toBe('lease');
    const lease = reply.result?.$case === 'lease' ? reply.result.value : undefined;
    expect(lease).toMatchObject({ nodeName: 'n2', state: LeaseState.LEASE_STATE_RESERVED, holder: 'test', pod: { uid: 'a1', namespace: 'default', name: 'a1' } });
    expect(lease!.requests).toMatchObject({ milliCpu: 500, memory: GiB, pods: 1, scalar: { 'nvidia.com/gpu': 1 } });
    expect(lease!.fencingVersion).toBeGreaterThan(0);
    expect(lease!.expireTime!.getTime()).toBeGreaterThanOrEqual(before + 29_000);
    expect((await client.getReservation({ podUid: 'a1' })).lease).toEqual(lease);
    const ledger = await client.getLedger({ nodeName: 'n2' });
    expect(ledger.leased).toMatchObject({ milliCpu: 500, memory: GiB, pods: 1, scalar: { 'nvidia.com/gpu': 1 } });
    expect(ledger.fencingVersion).toBe(lease!.fencingVersion);
  });

  test('Reserve is idempotent per pod and node; other requests for a held lease are refused', async () => {
    const first = await reserve('idem', 'n2', { cpu: 100 });
    const again = await reserve('idem', 'n2', { cpu: 100 });
    expect(again).toEqual(first);
    const ledger = await client.getLedger({ nodeName: 'n2' });
    await expect(reserve('idem', 'n2', { cpu: 200 })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringContaining('other requests') });
    expect((await client.getLedger({ nodeName: 'n2' })).leased).toEqual(ledger.leased);
  });

  test('a conflict is a value naming every short resource, pods included', async () => {
    const reply = await reserve('big-1', 'n1', { cpu: 3_500, memory: 8 * GiB, ephemeralStorage: 20 * GiB, scalar: { 'nvidia.com/gpu': 2, 'example.com/fpga': 1 } });
    expect(reply.result?.$case).toBe('conflict');
    const conflict = reply.result?.$case === 'conflict' ? reply.result.value : undefined;
    expect(conflict!.shortResources).toEqual(['cpu', 'memory', 'ephemeral-storage', 'example.com/fpga', 'nvidia.com/gpu']);
    expect(conflict!.message).toContain('node n1: insufficient cpu (requested 3500m, free 3');
    // Fill the pod slots (3, one taken by running-1): the third Reserve is short of pods only.
    const slots = new Map<string, number>();
    for (const uid of ['slot-1', 'slot-2']) slots.set(uid, versionOf(await reserve(uid, 'n1')));
    const full = await reserve('slot-3', 'n1');
    expect(full.result).toMatchObject({ $case: 'conflict', value: { shortResources: ['pods'], message: expect.stringContaining('too many pods') } });
    for (const [uid, version] of slots) expect((await client.unreserve({ podUid: uid, fencingVersion: version })).released).toBe(true);
  });

  test('Unreserve is idempotent and ignores stale fencing versions', async () => {
    const reply = await reserve('u1', 'n3', { cpu: 100 });
    const version = reply.result?.$case === 'lease' ? reply.result.value.fencingVersion : 0;
    expect((await client.unreserve({ podUid: 'u1', fencingVersion: version - 1 })).released).toBe(false);
    expect((await client.unreserve({ podUid: 'u1', fencingVersion: version + 1 })).released).toBe(false);
    expect((await client.getReservation({ podUid: 'u1' })).lease?.fencingVersion).toBe(version);
    expect((await client.unreserve({ podUid: 'u1', fencingVersion: version })).released).toBe(true);
    expect((await client.unreserve({ podUid: 'u1', fencingVersion: version })).released).toBe(false);
    expect((await client.unreserve({ podUid: 'never-reserved', fencingVersion: version })).released).toBe(false);
    await expect(client.getReservation({ podUid: 'u1' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    // A new lease for the same pod gets a higher version; the old version cannot release it.
    const next = await reserve('u1', 'n3', { cpu: 100 });
    const nextVersion = next.result?.$case === 'lease' ? next.result.value.fencingVersion : 0;
    expect(nextVersion).toBeGreaterThan(version);
    expect((await client.unreserve({ podUid: 'u1', fencingVersion: version })).released).toBe(false);
    expect((await client.unreserve({ podUid: 'u1', fencingVersion: nextVersion })).released).toBe(true);
  });

  test('fencing version 0 is no wildcard: Unreserve, Confirm and Renew refuse it and the lease stays (review M8)', async () => {
    const version = versionOf(await reserve('zero', 'n3', { cpu: 100 }));
    for (const call of [
      () => client.unreserve({ podUid: 'zero', fencingVersion: 0 }),
      () => client.confirm({ podUid: 'zero', fencingVersion: 0 }),
      () => client.renew({ podUid: 'zero', nodeName: 'n3', fencingVersion: 0 }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(/^fencing_version: must be the version of the lease the caller holds/) });
    }
    expect((await client.getReservation({ podUid: 'zero' })).lease).toMatchObject({ fencingVersion: version, state: LeaseState.LEASE_STATE_RESERVED });
    expect((await client.unreserve({ podUid: 'zero', fencingVersion: version })).released).toBe(true);
  });

  test('Renew gives the held lease its TTL again; a lapsed or re-granted lease is FAILED_PRECONDITION (review M8)', async () => {
    const first = await reserve('renewed', 'n3', { cpu: 100 }, { ttl: { seconds: 2 } });
    const lease = first.result?.$case === 'lease' ? first.result.value : undefined;
    // Read by Redis's clock: the renewal's expiry is later than the grant's.
    await waitFor(async () => {
      const renewed = await client.renew({ podUid: 'renewed', nodeName: 'n3', fencingVersion: lease!.fencingVersion });
      return renewed.lease!.expireTime!.getTime() > lease!.expireTime!.getTime();
    }, 5_000, 'a renewal to move the expiry');
    // Another version (the pod's lease lapsed and it was granted a new one): refused, naming both.
    await expect(client.renew({ podUid: 'renewed', nodeName: 'n3', fencingVersion: lease!.fencingVersion + 1 })).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
      details: expect.stringContaining(`is at version ${lease!.fencingVersion}): the lease lapsed and was granted again`),
    });
    await expect(client.renew({ podUid: 'renewed', nodeName: 'n2', fencingVersion: lease!.fencingVersion })).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
      details: expect.stringContaining('holds no lease on node n2'),
    });
    // A confirmed lease has nothing to renew: it is returned as it is.
    const confirmed = await client.confirm({ podUid: 'renewed', fencingVersion: lease!.fencingVersion });
    expect((await client.renew({ podUid: 'renewed', nodeName: 'n3', fencingVersion: lease!.fencingVersion })).lease).toEqual(confirmed.lease);
    expect((await client.unreserve({ podUid: 'renewed', fencingVersion: lease!.fencingVersion })).released).toBe(true);
    await expect(client.renew({ podUid: 'renewed', nodeName: 'n3', fencingVersion: lease!.fencingVersion })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
  });

  test('Confirm moves the lease to bound; a stale version is FAILED_PRECONDITION; the bound event settles it; the delete releases it', async () => {
    const reply = await reserve('c1', 'n3', { cpu: 700, memory: 2 * GiB });
    const version = reply.result?.$case === 'lease' ? reply.result.value.fencingVersion : 0;
    const before = await client.getLedger({ nodeName: 'n3' });
    await expect(client.confirm({ podUid: 'c1', fencingVersion: version - 1 })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringContaining('stale') });
    const confirmed = await client.confirm({ podUid: 'c1', fencingVersion: version });
    expect(confirmed.lease).toMatchObject({ state: LeaseState.LEASE_STATE_CONFIRMED, fencingVersion: version, expireTime: undefined });
    expect(await client.confirm({ podUid: 'c1', fencingVersion: version })).toEqual(confirmed);
    const after = await client.getLedger({ nodeName: 'n3' });
    expect(after.leased!.milliCpu).toBe(before.leased!.milliCpu - 700);
    expect(after.bound!.milliCpu).toBe(before.bound!.milliCpu + 700);

    // The bound event settles the confirmed lease: the capacity stays counted once.
    await h.waitForGeneration(await h.publish(podEvent({ uid: 'c1', node: 'n3', requests: { cpu: 700, memory: 2 * GiB } })));
    const settled = await client.getLedger({ nodeName: 'n3' });
    expect(settled.bound).toEqual(after.bound);
    expect(await redis.hexists(keys.node('n3')[4]!, 'c1')).toBe(0);
    expect((await client.getReservation({ podUid: 'c1' })).lease).toMatchObject({ state: LeaseState.LEASE_STATE_CONFIRMED, fencingVersion: version });
    await expect(reserve('c1', 'n2', { cpu: 700 })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringContaining('bound to node n3') });

    // Terminal phase releases, and so would the delete.
    await h.waitForGeneration(await h.publish(podEvent({ uid: 'c1', node: 'n3', requests: { cpu: 700, memory: 2 * GiB }, phase: PodPhase.POD_PHASE_SUCCEEDED })));
    expect((await client.getLedger({ nodeName: 'n3' })).bound!.milliCpu).toBe(before.bound!.milliCpu);
    await h.waitForGeneration(await h.publish(podEvent({ uid: 'c1', node: 'n3', deleted: true })));
    expect((await client.getLedger({ nodeName: 'n3' })).bound!.milliCpu).toBe(before.bound!.milliCpu);
  });

  test('a bound event for a pod reserved elsewhere releases that lease; a delete of a pending pod releases its lease', async () => {
    await reserve('moved-by-kube', 'n2', { cpu: 300 });
    await h.waitForGeneration(await h.publish(podEvent({ uid: 'moved-by-kube', node: 'n3', requests: { cpu: 300 } })));
    expect(await redis.hexists(keys.node('n2')[4]!, 'moved-by-kube')).toBe(0);
    expect((await client.getReservation({ podUid: 'moved-by-kube' })).lease?.nodeName).toBe('n3');
    await h.waitForGeneration(await h.publish(podEvent({ uid: 'moved-by-kube', node: 'n3', deleted: true })));

    await h.publish(podEvent({ uid: 'pending-1' }));
    await reserve('pending-1', 'n2', { cpu: 300 });
    await h.waitForGeneration(await h.publish(podEvent({ uid: 'pending-1', deleted: true })));
    await expect(client.getReservation({ podUid: 'pending-1' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  });

  test('a Reserve on another node moves a reserved lease, and is refused for a confirmed one', async () => {
    const first = await reserve('mv', 'n2', { cpu: 250 });
    const second = await reserve('mv', 'n3', { cpu: 250 });
    expect(second.result).toMatchObject({ $case: 'lease', value: { nodeName: 'n3' } });
    expect(await redis.hexists(keys.node('n2')[4]!, 'mv')).toBe(0);
    const firstVersion = first.result?.$case === 'lease' ? first.result.value.fencingVersion : 0;
    expect((await client.unreserve({ podUid: 'mv', fencingVersion: firstVersion })).released).toBe(false);
    await client.confirm({ podUid: 'mv', fencingVersion: versionOf(second) });
    const { fencingVersion: _, ...n2 } = await client.getLedger({ nodeName: 'n2' });
    await expect(reserve('mv', 'n2', { cpu: 250 })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringContaining('confirmed lease on node n3') });
    // The refused Reserve left nothing behind (it may have spent a fencing version).
    expect(await client.getLedger({ nodeName: 'n2' })).toMatchObject(n2);
    expect((await client.getReservation({ podUid: 'mv' })).lease).toMatchObject({ nodeName: 'n3', state: LeaseState.LEASE_STATE_CONFIRMED });
    expect((await client.unreserve({ podUid: 'mv', fencingVersion: versionOf(second) })).released).toBe(true);
  });

  test('a deleted node leaves the ledger (NOT_FOUND); re-created, it comes back with the pods still bound to it', async () => {
    await h.publish(nodeEvent('n4', { cpu: 1_000, pods: 10 }), podEvent({ uid: 'on-n4', node: 'n4', requests: { cpu: 400 } }));
    await h.waitForGeneration(await h.publish(nodeEvent('n4', {}, { deleted: true })));
    await expect(client.getLedger({ nodeName: 'n4' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    await expect(reserve('x4', 'n4', { cpu: 1 })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    await h.waitForGeneration(await h.publish(nodeEvent('n4', { cpu: 2_000, pods: 10 })));
    expect(await client.getLedger({ nodeName: 'n4' })).toMatchObject({ allocatable: { milliCpu: 2_000 }, bound: { milliCpu: 400, pods: 1 }, free: { milliCpu: 1_600 } });
  });

  test("a node the caller saw at min_generation, not yet on this replica's stream, is waited for: granted once it arrives, not NOT_FOUND", async () => {
    const head = await h.publish(nodeEvent('before-late', { cpu: 1_000, pods: 10 }));
    await h.waitForGeneration(head);
    // The caller (a scheduler whose snapshot is ahead of this replica) ranked node "late" at head + 1.
    const pending = reserve('on-late', 'late', { cpu: 500 }, { minGeneration: head + 1 });
    const gate = h.apps[0]!.sync.gate;
    await waitFor(() => gate.waiting > 0, 10_000, 'the Reserve to wait for generation ' + String(head + 1));
    expect(await h.publish(nodeEvent('late', { cpu: 2_000, pods: 10 }))).toBe(head + 1);
    const reply = await pending;
    expect(reply.result).toMatchObject({ $case: 'lease', value: { nodeName: 'late' } });
    expect((await client.getLedger({ nodeName: 'late' })).leased).toMatchObject({ milliCpu: 500 });
    expect((await client.unreserve({ podUid: 'on-late', fencingVersion: versionOf(reply) })).released).toBe(true);
  });

  test('a node that does not come by min_generation is NOT_FOUND once the wait is over; a known node never waits for min_generation', async () => {
    const head = await h.publish(nodeEvent('before-never', { cpu: 1_000, pods: 10 }));
    await h.waitForGeneration(head);
    // head + 1 never comes: the bounded wait (reservation.nodeWait) ends, and the ledger answers as it stands.
    await expect(reserve('on-never', 'never', { cpu: 1 }, { minGeneration: head + 1 })).rejects.toMatchObject({ code: Status.NOT_FOUND, details: expect.stringContaining('node "never" not found') });
    const known = await reserve('on-known', 'n3', { cpu: 1 }, { minGeneration: head + 1_000 });
    expect(known.result).toMatchObject({ $case: 'lease', value: { nodeName: 'n3' } });
    expect((await client.unreserve({ podUid: 'on-known', fencingVersion: versionOf(known) })).released).toBe(true);
  });

  test('an unknown node is NOT_FOUND', async () => {
    await expect(reserve('x', 'nope')).rejects.toMatchObject({ code: Status.NOT_FOUND, details: expect.stringContaining('node "nope" not found') });
    await expect(client.getLedger({ nodeName: 'nope' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  });

  test.each<[string, DeepPartial<ReserveRequest>, string]>([
    ['missing pod', { pod: undefined }, 'pod.uid: must not be empty'],
    ['missing uid', { pod: { uid: '' } }, 'pod.uid: must not be empty'],
    ['bad uid', { pod: { uid: 'a{b}' } }, 'pod.uid'],
    ['missing node', { nodeName: '' }, 'node_name: must not be empty'],
    ['bad node name', { nodeName: 'Node_1' }, 'node_name'],
    ['negative cpu', { requests: { milliCpu: -1 } }, 'requests.milli_cpu: must not be negative'],
    ['negative memory', { requests: { memory: -5 } }, 'requests.memory'],
    ['absurd memory', { requests: { memory: 2 ** 52 } }, 'requests.memory: 4503599627370496 is absurd'],
    ['absurd scalar', { requests: { scalar: { 'nvidia.com/gpu': 2 ** 51 } } }, 'requests.scalar["nvidia.com/gpu"]'],
    ['negative scalar', { requests: { scalar: { 'nvidia.com/gpu': -1 } } }, 'requests.scalar["nvidia.com/gpu"]: must not be negative'],
    ['core name as scalar', { requests: { scalar: { cpu: 1 } } }, 'requests.scalar["cpu"]'],
    ['pods 2', { requests: { pods: 2 } }, 'requests.pods'],
    ['ttl too short', { ttl: { seconds: 0, nanos: 500_000_000 } }, 'ttl: must be between 1s and 15m'],
    ['ttl too long', { ttl: { seconds: 901 } }, 'ttl: must be between 1s and 15m'],
    ['negative ttl', { ttl: { seconds: -1 } }, 'ttl'],
    ['group without name', { podGroup: { name: '', minMember: 2 } }, 'pod_group.name'],
    ['bad namespace', { pod: { uid: 'bad-1', namespace: 'Team_A' } }, 'pod.namespace: "Team_A" is not a namespace name'],
    ['gang member without namespace', { podGroup: { name: 'g', minMember: 2 } }, 'pod.namespace: must not be empty'],
    ['group of zero', { podGroup: { name: 'g', minMember: 0 } }, 'pod_group.min_member'],
    ['holder too long', { holder: 'h'.repeat(300) }, 'holder'],
  ])('bad input (%s) is INVALID_ARGUMENT naming the field', async (_, override, details) => {
    const request: DeepPartial<ReserveRequest> = { pod: { uid: 'bad-1' }, nodeName: 'n2', requests: resources({ cpu: 1 }), ttl: { seconds: 10 }, ...override };
    await expect(client.reserve(request)).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining(details) });
  });

  test.each([
    ['Unreserve', () => client.unreserve({ podUid: '' }), 'pod_uid: must not be empty'],
    ['Confirm', () => client.confirm({ podUid: '' }), 'pod_uid: must not be empty'],
    ['Renew', () => client.renew({ podUid: 'p', nodeName: '', fencingVersion: 1 }), 'node_name: must not be empty'],
    ['GetReservation', () => client.getReservation({ podUid: '' }), 'pod_uid: must not be empty'],
    ['GetLedger', () => client.getLedger({ nodeName: '' }), 'node_name: must not be empty'],
    ['Permit', () => client.permit({ pod: { uid: '' } }), 'pod.uid: must not be empty'],
    ['Permit timeout', () => client.permit({ pod: { uid: 'p' }, podGroup: { name: 'g', minMember: 1 }, timeout: { seconds: 901 } }), 'timeout: must be at most 15m'],
    ['Permit min_member', () => client.permit({ pod: { uid: 'p' }, podGroup: { name: 'g', minMember: -3 } }), 'pod_group.min_member'],
    ['Permit namespace', () => client.permit({ pod: { uid: 'p', namespace: '../x' }, podGroup: { name: 'g', minMember: 1 } }), 'pod.namespace: "../x" is not a namespace name'],
  ])('%s validates its input', async (_, call, details) => {
    await expect(call()).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining(details) });
  });

  test('a lease lapses at its TTL without any caller: the sweeper releases it', async () => {
    const reply = await reserve('short', 'n3', { cpu: 900 }, { ttl: { seconds: 1 } });
    expect(reply.result?.$case).toBe('lease');
    const leasedKey = keys.node('n3')[2]!;
    expect(Number(await redis.hget(leasedKey, 'cpu'))).toBeGreaterThanOrEqual(900);
    // Only the sweeper runs now: the raw ledger in Redis gives the capacity back.
    await waitFor(async () => (await redis.hexists(keys.node('n3')[4]!, 'short')) === 0, 3_000, 'the sweeper');
    expect(Number((await redis.hget(leasedKey, 'cpu')) ?? 0)).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${h.apps[0]!.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/schedmesh_reservation_lease_expiries_total\{[^}]*\} [1-9]/);
    await expect(client.confirm({ podUid: 'short', fencingVersion: versionOf(reply) })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringContaining('holds no lease') });
  });

  test('the metrics show latency, conflicts by resource, ledger size and rebuilds', async () => {
    const text = await (await fetch(`http://127.0.0.1:${h.apps[0]!.httpPort}/metrics`)).text();
    expect(text).toMatch(/schedmesh_reservation_reserve_duration_seconds_count\{[^}]*outcome="granted"[^}]*\} [1-9]/);
    expect(text).toMatch(/schedmesh_reservation_conflicts_total\{[^}]*resource="pods"[^}]*\} [1-9]/);
    // n1–n4, and before-late, late and before-never of the min_generation tests.
    expect(text).toMatch(/schedmesh_reservation_ledger_nodes\{[^}]*\} 7/);
    expect(text).toMatch(/schedmesh_reservation_ledger_leases\{[^}]*\} \d+/);
    expect(text).toMatch(/schedmesh_reservation_ledger_rebuilds_total\{[^}]*reason="start"[^}]*\} 1/);
  });
});
