import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { sharedServers } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { KeyLayout } from './keys.js';
import { nodeEvent, podEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';

// A gang member's Permit waits; its caller (a scheduler whose attempt ended) cancels the call.
// That is a cancellation, not a handler failure: no error log, and the lease stays (the caller Unreserves it).
let h: Harness;
let client: ReservationClient;
let redis: Redis;

beforeAll(async () => {
  const { redisUrl, natsUrl } = sharedServers();
  h = await startHarness({ redisUrl, natsUrl, events: [nodeEvent('n1', { cpu: 10_000, pods: 50 })] });
  client = h.clients[0]!;
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  redis.disconnect();
  await h.stop();
});

test('a Permit whose caller cancels ends as a cancellation, without an error log, and keeps the lease', async () => {
  const group = { name: 'gone', minMember: 2 };
  const pod = { uid: 'c1', namespace: 'team', name: 'c1' };
  await h.waitForGeneration(await h.publish(podEvent({ ...pod, requests: { cpu: 100 }, group })));
  const reply = await client.reserve({ pod, nodeName: 'n1', requests: resources({ cpu: 100 }), ttl: { seconds: 60 }, podGroup: group });
  expect(reply.result?.$case).toBe('lease');
  const logger = h.apps[0]!.runtime.logger;
  const errors = jest.spyOn(logger, 'error');
  const debug = jest.spyOn(logger, 'debug');
  const abort = new AbortController();
  const permit = client.permit({ pod, podGroup: group, timeout: { seconds: 60 } }, { signal: abort.signal });
  const [state] = new KeyLayout(h.config.redis.keyPrefix).gang('team/gone');
  await waitFor(async () => (await redis.hget(state!, 'status')) === 'waiting', 10_000, 'the member to wait at Permit');
  abort.abort();
  await expect(permit).rejects.toMatchObject({ name: 'AbortError' });
  const cancelled = (): boolean => debug.mock.calls.some(([fields, msg]) => msg === 'grpc call cancelled' && (fields as { method?: string }).method?.endsWith('/Permit') === true);
  await waitFor(cancelled, 10_000, 'the server to end the Permit as cancelled');
  expect(errors).not.toHaveBeenCalled();
  expect((await client.getReservation({ podUid: 'c1' })).lease).toMatchObject({ holder: '' });
});
