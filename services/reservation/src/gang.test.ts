import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { PermitDecision } from '@schedmesh/proto/v1/reservation';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import type { PermitResponse } from '@schedmesh/proto/v1/reservation';
import { sharedServers } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { Status } from 'nice-grpc';
import { nodeEvent, podEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';
import { REASON_LEASE_LOST, REASON_NOT_MEMBER } from './gang.js';
import { KeyLayout } from './keys.js';

const ALLOW = PermitDecision.PERMIT_DECISION_ALLOW;
const REJECT = PermitDecision.PERMIT_DECISION_REJECT;

describe('gang Permit across two service replicas', () => {
  let h: Harness;
  let a: ReservationClient;
  let b: ReservationClient;

  beforeAll(async () => {
    const { redisUrl, natsUrl } = sharedServers();
    h = await startHarness({ redisUrl, natsUrl, replicas: 2, events: [nodeEvent('n1', { cpu: 10_000, pods: 50 }), nodeEvent('n2', { cpu: 10_000, pods: 50 })] });
    [a, b] = h.clients as [ReservationClient, ReservationClient];
  });
  afterAll(async () => {
    await h.stop();
  });

  /** A pending pod of the gang on the cluster stream: what makes a Reserve with its group a member. */
  const podOf = (uid: string, group: { name: string; minMember: number }) => podEvent({ uid, namespace: 'team', name: uid, requests: { cpu: 100 }, group });
  const reserve = async (client: ReservationClient, uid: string, node: string, group?: { name: string; minMember: number }) => {
    if (group) await h.waitForGeneration(await h.publish(podOf(uid, group)));
    const reply = await client.reserve({
      pod: { uid, namespace: 'team', name: uid },
      nodeName: node,
      requests: resources({ cpu: 100 }),
      ttl: { seconds: 60 },
      ...(group ? { podGroup: group } : {}),
    });
    expect(reply.result?.$case).toBe('lease');
  };
  const permit = (client: ReservationClient, uid: string, group: { name: string; minMember: number }, timeoutSeconds = 10): Promise<PermitResponse> =>
    client.permit({ pod: { uid, namespace: 'team', name: uid }, podGroup: group, timeout: { seconds: timeoutSeconds } }, { deadline: 15_000 });

  test('members waiting on both replicas are all allowed once minMember hold leases', async () => {
    const group = { name: 'train', minMember: 3 };
    await reserve(a, 'g1-a', 'n1', group);
    await reserve(b, 'g1-b', 'n2', group);
    const settled: string[] = [];
    const waitA = permit(a, 'g1-a', group).then((r) => (settled.push('a'), r));
    const waitB = permit(b, 'g1-b', group).then((r) => (settled.push('b'), r));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(settled).toEqual([]);
    // The third member reserves through replica B: the waiters on A and B both learn of it.
    await reserve(b, 'g1-c', 'n1', group);
    const [ra, rb] = await Promise.all([waitA, waitB]);
    expect(ra).toEqual({ decision: ALLOW, reason: '', membersReserved: 3 });
    expect(rb).toEqual({ decision: ALLOW, reason: '', membersReserved: 3 });
    // The last member's own Permit is allowed at once.
    expect(await permit(a, 'g1-c', group)).toMatchObject({ decision: ALLOW, membersReserved: 3 });
  });

  test('a member waiting at Permit keeps its lease past its TTL (review M8)', async () => {
    const group = { name: 'patient', minMember: 2 };
    const reserveShort = async (client: ReservationClient, uid: string, ttlSeconds = 1) => {
      await h.waitForGeneration(await h.publish(podOf(uid, group)));
      const reply = await client.reserve({ pod: { uid, namespace: 'team', name: uid }, nodeName: 'n1', requests: resources({ cpu: 100 }), ttl: { seconds: ttlSeconds }, podGroup: group });
      expect(reply.result?.$case).toBe('lease');
      return reply.result?.$case === 'lease' ? reply.result.value : undefined;
    };
    const first = await reserveShort(a, 'g0-a');
    const waiting = permit(a, 'g0-a', group, 20);
    // Well past the first lease's 1 s TTL, by the ledger's own clock.
    const expiry = first!.expireTime!.getTime();
    const redis = new Redis(sharedServers().redisUrl);
    try {
      await waitFor(async () => {
        const [sec = 0, usec = 0] = await redis.time();
        return Number(sec) * 1_000 + Number(usec) / 1_000 > expiry + 1_500;
      }, 30_000, 'the first TTL to pass');
    } finally {
      redis.disconnect();
    }
    expect((await a.getReservation({ podUid: 'g0-a' })).lease?.fencingVersion).toBe(first!.fencingVersion);
    // The second member's lease need not outlive anything: a loaded machine may take seconds to reach its Permit.
    await reserveShort(b, 'g0-b', 30);
    expect(await waiting).toMatchObject({ decision: ALLOW, membersReserved: 2 });
    expect(await permit(b, 'g0-b', group)).toMatchObject({ decision: ALLOW, membersReserved: 2 });
  }, 60_000);

  test('on timeout every member is rejected with the reason and its lease released', async () => {
    const group = { name: 'short', minMember: 3 };
    await reserve(a, 'g2-a', 'n1', group);
    await reserve(b, 'g2-b', 'n2', group);
    const started = Date.now();
    const [ra, rb] = await Promise.all([permit(a, 'g2-a', group, 1), permit(b, 'g2-b', group, 1)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    for (const r of [ra, rb]) {
      expect(r.decision).toBe(REJECT);
      expect(r.reason).toBe('gang team/short timed out after 1s waiting for 3 members to hold leases: 2 of 3 members hold leases');
      expect(r.membersReserved).toBe(2);
    }
    for (const uid of ['g2-a', 'g2-b']) await expect(a.getReservation({ podUid: uid })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    // A member that asks again learns why its lease is gone.
    expect(await permit(b, 'g2-a', group, 1)).toMatchObject({ decision: REJECT, reason: ra.reason, membersReserved: 0 });
    // The gang can try again: a new round.
    await reserve(a, 'g2-a', 'n1', group);
    await reserve(a, 'g2-b', 'n1', group);
    await reserve(b, 'g2-c', 'n2', group);
    expect(await permit(b, 'g2-a', group, 1)).toMatchObject({ decision: ALLOW, membersReserved: 3 });
  });

  test('a round nobody waits for any more is ended by the sweeper, which releases the leases', async () => {
    const group = { name: 'abandoned', minMember: 2 };
    await reserve(a, 'g3-a', 'n1', group);
    // The caller gives up (its deadline) long before the gang's 1s timeout.
    await expect(
      a.permit({ pod: { uid: 'g3-a', namespace: 'team' }, podGroup: group, timeout: { seconds: 1 } }, { deadline: 200 }),
    ).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    await waitFor(async () => (await a.getReservation({ podUid: 'g3-a' }).catch(() => undefined)) === undefined, 3_000, 'the sweeper to end the round');
    expect(await permit(b, 'g3-a', group, 1)).toMatchObject({ decision: REJECT, reason: expect.stringContaining('gang team/abandoned timed out') });
  });

  test('a forged member (no such pod) is refused at Reserve, so 3 real members of minMember 4 are not allowed (review M2)', async () => {
    const group = { name: 'forged', minMember: 4 };
    for (const uid of ['g5-a', 'g5-b', 'g5-c']) await reserve(uid === 'g5-b' ? b : a, uid, 'n1', group);
    const generation = await h.publish(podEvent({ uid: 'g5-other', namespace: 'team', name: 'g5-other', group: { name: 'elsewhere', minMember: 1 } }));
    await h.waitForGeneration(generation);
    const forge = (pod: { uid: string; name: string }, minGeneration = 0) =>
      a.reserve({ pod: { ...pod, namespace: 'team' }, nodeName: 'n2', requests: resources({ cpu: 100 }), ttl: { seconds: 60 }, podGroup: group, minGeneration });
    // A uid that is no pod, after the generation its caller claims to have seen: refused at once.
    await expect(forge({ uid: 'g5-ghost', name: 'g5-ghost' }, generation)).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
      details: expect.stringContaining('pod_group: the cluster stream knows no pod team/g5-ghost'),
    });
    // Without a generation it waits (bounded) for the stream, then refuses too; so do a real pod's name with another uid, and a pod of another gang.
    await expect(forge({ uid: 'g5-ghost', name: 'g5-ghost' })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringContaining('knows no pod') });
    await expect(forge({ uid: 'g5-fake-uid', name: 'g5-a' }, generation)).rejects.toMatchObject({ details: expect.stringContaining('has uid g5-a, not g5-fake-uid') });
    await expect(forge({ uid: 'g5-other', name: 'g5-other' }, generation)).rejects.toMatchObject({ details: expect.stringContaining('belongs to gang team/elsewhere') });
    await expect(a.getReservation({ podUid: 'g5-ghost' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    // A lease taken without the group does not join it at Permit either.
    expect((await a.reserve({ pod: { uid: 'g5-ghost', namespace: 'team', name: 'g5-ghost' }, nodeName: 'n2', requests: resources({ cpu: 100 }), ttl: { seconds: 60 } })).result?.$case).toBe('lease');
    expect(await permit(a, 'g5-ghost', group, 1)).toMatchObject({ decision: REJECT, reason: expect.stringContaining(`${REASON_NOT_MEMBER}: the lease was reserved without a pod group`) });

    const answers = await Promise.all(['g5-a', 'g5-b', 'g5-c'].map((uid) => permit(a, uid, group, 1)));
    for (const r of answers) expect(r).toMatchObject({ decision: REJECT, reason: expect.stringContaining('3 of 4 members hold leases'), membersReserved: 3 });
  });

  describe('with a PodGroup object, the round is the object\'s (review M2)', () => {
    const object = { namespace: 'team', name: 'objectified', resourceVersion: '7', minMember: 2, scheduleTimeoutSeconds: 30 };
    const asObject = { name: object.name, minMember: object.minMember, scheduleTimeoutSeconds: object.scheduleTimeoutSeconds };

    beforeAll(async () => {
      const published = await h.publish(
        ClusterEvent.fromPartial({ type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'podGroup', value: object } }),
      );
      await h.waitForGeneration(published);
      await reserve(a, 'g6-a', 'n1', { name: object.name, minMember: object.minMember });
    });

    test.each([
      ['a minMember of 10,000', { podGroup: { ...asObject, minMember: 10_000 } }, 'pod_group.min_member: is 10000, but PodGroup team/objectified has minMember 2'],
      ['another schedule timeout', { podGroup: { ...asObject, scheduleTimeoutSeconds: 1 } }, 'pod_group.schedule_timeout_seconds: is 1, but PodGroup team/objectified has scheduleTimeoutSeconds 30'],
      ['a 1 ms wait', { podGroup: asObject, timeout: { seconds: 0, nanos: 1_000_000 } }, 'timeout: is 1ms, but PodGroup team/objectified has scheduleTimeoutSeconds 30'],
    ])('a first member that sets %s is refused INVALID_ARGUMENT naming the field; the lease stays', async (_what, request, details) => {
      await expect(a.permit({ pod: { uid: 'g6-a', namespace: 'team', name: 'g6-a' }, ...request }, { deadline: 10_000 })).rejects.toMatchObject({
        code: Status.INVALID_ARGUMENT,
        details,
      });
      expect((await a.getReservation({ podUid: 'g6-a' })).lease?.pod?.uid).toBe('g6-a');
    });

    test("members that send the object's values wait in its round and are allowed at its minMember", async () => {
      const first = a.permit({ pod: { uid: 'g6-a', namespace: 'team', name: 'g6-a' }, podGroup: asObject, timeout: { seconds: 30 } }, { deadline: 40_000 });
      await reserve(b, 'g6-b', 'n2', { name: object.name, minMember: object.minMember });
      const second = b.permit({ pod: { uid: 'g6-b', namespace: 'team', name: 'g6-b' }, podGroup: asObject }, { deadline: 40_000 });
      for (const r of await Promise.all([first, second])) expect(r).toEqual({ decision: ALLOW, reason: '', membersReserved: 2 });
    }, 60_000);
  });

  describe('without a PodGroup object, every member must agree with the round its gang waits in (review M2)', () => {
    const group = { name: 'annotated', minMember: 4 };
    let first: Promise<PermitResponse>;

    beforeAll(async () => {
      await reserve(a, 'g7-a', 'n1', group);
      await reserve(b, 'g7-b', 'n2', group);
      // A member whose own annotations say another minMember (its lease counts, so the round needs 4: a, b, d are 3).
      await reserve(b, 'g7-d', 'n2', { ...group, minMember: 5 });
      first = permit(a, 'g7-a', group, 30);
      // The round is the first member's once it waits: the gang's state in Redis says so.
      const redis = new Redis(sharedServers().redisUrl);
      try {
        const [state] = new KeyLayout(h.config.redis.keyPrefix).gang(`team/${group.name}`);
        await waitFor(async () => (await redis.hget(state!, 'status')) === 'waiting', 15_000, 'the first member waiting');
      } finally {
        redis.disconnect();
      }
    }, 60_000);

    const agree = 'every member of a gang without a PodGroup object must carry the same values';
    test.each([
      ['a minMember of 10,000', 'g7-b', { podGroup: { ...group, minMember: 10_000 }, timeout: { seconds: 30 } }, 'pod_group.min_member: is 10000, but pod team/g7-b on the cluster stream has min_member 4'],
      ['a minMember of 1', 'g7-b', { podGroup: { ...group, minMember: 1 }, timeout: { seconds: 30 } }, 'pod_group.min_member: is 1, but pod team/g7-b on the cluster stream has min_member 4'],
      ['another schedule timeout', 'g7-b', { podGroup: { ...group, scheduleTimeoutSeconds: 5 } }, 'pod_group.schedule_timeout_seconds: is 5, but pod team/g7-b on the cluster stream has schedule_timeout_seconds 0'],
      ['a 1 ms wait', 'g7-b', { podGroup: group, timeout: { seconds: 0, nanos: 1_000_000 } }, `timeout: makes a wait of 1ms, but the waiting round of gang team/annotated, set by its first member, waits 30000ms; ${agree}`],
      ['its own annotations of another minMember', 'g7-d', { podGroup: { ...group, minMember: 5 }, timeout: { seconds: 30 } }, `pod_group.min_member: is 5, but the waiting round of gang team/annotated, set by its first member, has min_member 4; ${agree}`],
    ])('a member that brings %s is refused INVALID_ARGUMENT naming the field; its lease stays and the round goes on', async (_what, uid, request, details) => {
      await expect(b.permit({ pod: { uid, namespace: 'team', name: uid }, ...request }, { deadline: 15_000 })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details });
      expect((await b.getReservation({ podUid: uid })).lease?.pod?.uid).toBe(uid);
    });

    test('members that agree join the round and are allowed at its minMember', async () => {
      // The member refused above gives its room back, so it is not counted.
      const refused = (await b.getReservation({ podUid: 'g7-d' })).lease!;
      expect((await b.unreserve({ podUid: 'g7-d', fencingVersion: refused.fencingVersion })).released).toBe(true);
      const second = permit(b, 'g7-b', group, 30);
      await reserve(b, 'g7-c', 'n1', group);
      await reserve(a, 'g7-e', 'n1', group);
      const rest = [permit(a, 'g7-c', group, 30), permit(b, 'g7-e', group, 30)];
      for (const r of await Promise.all([first, second, ...rest])) expect(r).toMatchObject({ decision: ALLOW, membersReserved: 4 });
    }, 60_000);
  });

  test('a gang member already bound counts; a pod without a lease is rejected; a pod outside any gang is allowed', async () => {
    const group = { name: 'partly-running', minMember: 2 };
    await h.waitForGeneration(await h.publish(podEvent({ uid: 'g4-running', namespace: 'team', node: 'n2', requests: { cpu: 100 }, group })));
    await reserve(a, 'g4-new', 'n1', group);
    expect(await permit(b, 'g4-new', group)).toMatchObject({ decision: ALLOW, membersReserved: 2 });

    expect(await permit(a, 'nobody', group)).toEqual({ decision: REJECT, reason: REASON_LEASE_LOST, membersReserved: 0 });
    await reserve(a, 'solo', 'n2');
    expect(await a.permit({ pod: { uid: 'solo' } })).toEqual({ decision: ALLOW, reason: '', membersReserved: 1 });
    expect(await a.permit({ pod: { uid: 'nobody' } })).toEqual({ decision: REJECT, reason: REASON_LEASE_LOST, membersReserved: 0 });
  });
});
