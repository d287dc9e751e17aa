// LeaseKeeper's freshness over real gRPC on loopback, against a stand-in for
// the reservation service that answers Renew as the test says (the real
// service needs Redis and a cluster stream, and lives above this library):
// whether the check before PreBind or Bind may skip its renewal.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import { Lease } from '@schedmesh/proto/v1/reservation';
import type { RenewRequest, RenewResponse } from '@schedmesh/proto/v1/reservation';
import { connectChannel, createLogger, createServiceClient } from '@schedmesh/runtime';
import { pollUntil } from '@schedmesh/testkit';
import { createServer, ServerError, Status } from 'nice-grpc';
import type { Channel, Server } from 'nice-grpc';
import type { ReservationClient } from './clients.js';
import { LeaseKeeper } from './lease-keeper.js';

const TTL_MS = 30_000;
/** How Renew answers next. */
let answer: 'renewed' | 'lost' | 'unavailable' = 'renewed';
const renewals: RenewRequest[] = [];
let server: Server;
let channel: Channel;
let client: ReservationClient;

const unimplemented = (): Promise<never> => Promise.reject(new ServerError(Status.UNIMPLEMENTED, 'not in this test'));

beforeAll(async () => {
  server = createServer();
  server.add(ReservationServiceDefinition, {
    reserve: unimplemented,
    unreserve: unimplemented,
    confirm: unimplemented,
    permit: unimplemented,
    getReservation: unimplemented,
    getLedger: unimplemented,
    reserveBatch: unimplemented,
    unreserveBatch: unimplemented,
    confirmBatch: unimplemented,
    renew: async (req: RenewRequest): Promise<RenewResponse> => {
      renewals.push(req);
      if (answer === 'lost') throw new ServerError(Status.FAILED_PRECONDITION, `the lease of pod ${req.podUid} is not held at version ${req.fencingVersion}`);
      if (answer === 'unavailable') throw new ServerError(Status.UNAVAILABLE, 'redis is away');
      return { lease: Lease.fromPartial({ nodeName: req.nodeName, fencingVersion: req.fencingVersion, holder: 'test' }) };
    },
  });
  const port = await server.listen('127.0.0.1:0');
  channel = connectChannel(`127.0.0.1:${port}`);
  client = createServiceClient(ReservationServiceDefinition, channel, { defaultDeadlineMs: 10_000, retryMaxAttempts: 1 });
});

afterAll(async () => {
  channel?.close();
  await server?.shutdown();
});

const keeper = (grantSentAt: number, ttlMs = TTL_MS, grantedBinding = false): LeaseKeeper =>
  new LeaseKeeper(client, { podUid: 'uid-a', nodeName: 'node-a', fencingVersion: 7, ttlMs, grantSentAt, grantedBinding }, createLogger({ service: 'lease-keeper-test', level: 'silent' }), AbortSignal.timeout(60_000));

describe('LeaseKeeper freshness', () => {
  test.each([
    ['just granted', 0, true],
    ['granted a third of its TTL ago, less 1 ms', TTL_MS / 3 - 1, true],
    ['granted a third of its TTL ago', TTL_MS / 3, false],
    ['granted longer ago than its TTL', TTL_MS + 1, false],
  ])('a lease %s (%i ms ago) is fresh: %s', (_, ageMs, fresh) => {
    const now = 1_000_000;
    expect(keeper(now - ageMs).isFresh(now)).toBe(fresh);
  });

  test('a renewal makes a stale lease fresh again, naming the lease it holds', async () => {
    answer = 'renewed';
    const k = keeper(performance.now() - TTL_MS);
    expect(k.isFresh()).toBe(false);
    const before = renewals.length;
    expect((await k.renew()).isSuccess()).toBe(true);
    expect(renewals.slice(before)).toEqual([{ podUid: 'uid-a', nodeName: 'node-a', fencingVersion: 7, binding: false }]);
    expect(k.isFresh()).toBe(true);
  });

  test('a renewal right before the Binding says so, even for a fresh lease', async () => {
    answer = 'renewed';
    const k = keeper(performance.now());
    expect(k.isFresh()).toBe(true);
    const before = renewals.length;
    expect((await k.renew(true)).isSuccess()).toBe(true);
    expect(renewals.slice(before)).toEqual([{ podUid: 'uid-a', nodeName: 'node-a', fencingVersion: 7, binding: true }]);
  });

  test.each([
    // check, lease age (ms), granted binding, the check right before the Binding, must renew
    // A fresh lease granted binding: no Reserve can move it, so even 'renew' (the extender's bind) skips it.
    ['renew', 0, true, true, false],
    ['renew', 0, true, false, false],
    ['renew', 0, false, false, true],
    ['renew', 0, false, true, true],
    ['renew', TTL_MS / 3, true, true, true],
    ['renewUnlessFresh', 0, false, false, false],
    ['renewUnlessFresh', 0, false, true, true],
    ['renewUnlessFresh', 0, true, true, false],
    ['renewUnlessFresh', TTL_MS / 3, true, true, true],
    ['renewUnlessFresh', TTL_MS / 3, false, false, true],
  ] as const)('check %s on a lease %i ms old, granted binding %s, before the Binding %s: renews %s', (check, ageMs, grantedBinding, binding, renews) => {
    expect(keeper(performance.now() - ageMs, TTL_MS, grantedBinding).mustRenew(check, binding)).toBe(renews);
  });

  test('a lease granted binding but found lost by a renewal must be renewed before the Binding, however recent its grant', async () => {
    const k = keeper(performance.now(), TTL_MS, true);
    expect(k.mustRenew('renewUnlessFresh', true)).toBe(false);
    answer = 'lost';
    expect((await k.renew()).isRejected()).toBe(true);
    answer = 'renewed';
    expect(k.mustRenew('renewUnlessFresh', true)).toBe(true);
    expect(k.mustRenew('renew', false)).toBe(true);
  });

  test('a renewal that finds the lease lost makes it stale for good: the next check must ask again', async () => {
    const k = keeper(performance.now());
    answer = 'lost';
    const lost = await k.renew();
    expect(lost.isRejected()).toBe(true);
    expect(lost.message()).toContain('was lost before the bind');
    expect(k.isFresh()).toBe(false);
    answer = 'renewed';
    expect(k.isFresh(performance.now() + 1)).toBe(false);
  });

  test('a renewal that could not reach the service throws and leaves the freshness as it was', async () => {
    answer = 'unavailable';
    const fresh = keeper(performance.now());
    await expect(fresh.renew()).rejects.toThrow('redis is away');
    expect(fresh.isFresh()).toBe(true);
    const stale = keeper(performance.now() - TTL_MS);
    await expect(stale.renew()).rejects.toThrow('redis is away');
    expect(stale.isFresh()).toBe(false);
    answer = 'renewed';
  });

  test('a lease past a third of its TTL is renewed in the background at once, and is fresh again', async () => {
    answer = 'renewed';
    const ttlMs = 3_000;
    const k = keeper(performance.now() - ttlMs, ttlMs);
    const before = renewals.length;
    k.start();
    await pollUntil(async () => (renewals.length >= before + 2 ? true : undefined), { what: 'two background renewals', timeoutMs: 30_000, intervalMs: 20 });
    k.stop();
    expect(k.isFresh(performance.now() - ttlMs / 3 + 1)).toBe(true);
  }, 45_000);
});
