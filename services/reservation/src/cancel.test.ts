import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { sharedServers, startRedis } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { Status } from 'nice-grpc';
import { nodeEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';

// Redis pauses writes so the Reserve script runs only after the caller has
// given up: the lease is granted after all, and must be given back.
let redisServer: TestServer;
let h: Harness;
let client: ReservationClient;
let admin: Redis;

beforeAll(async () => {
  redisServer = await startRedis();
  h = await startHarness({ redisUrl: redisServer.url, natsUrl: sharedServers().natsUrl, events: [nodeEvent('n1', { cpu: 1_000, pods: 10 })] });
  client = h.clients[0]!;
  admin = new Redis(redisServer.url);
});
afterAll(async () => {
  admin.disconnect();
  await h.stop();
  await redisServer.stop();
});

async function expectGrantedThenReleased(uid: string, versionBefore: number): Promise<void> {
  // The script ran once the pause ended: it granted a lease (the fencing version moved)…
  await waitFor(async () => (await client.getLedger({ nodeName: 'n1' })).fencingVersion > versionBefore, 3_000, 'the delayed grant');
  // …which the service released because nobody was there to receive it.
  await waitFor(async () => (await client.getLedger({ nodeName: 'n1' })).leased!.milliCpu === 0, 3_000, 'the release');
  await expect(client.getReservation({ podUid: uid })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  expect((await client.getLedger({ nodeName: 'n1' })).free).toMatchObject({ milliCpu: 1_000, pods: 10 });
}

test('a lease granted for a call whose deadline passed before the reply is released', async () => {
  const { fencingVersion } = await client.getLedger({ nodeName: 'n1' });
  await admin.client('PAUSE', '400', 'WRITE');
  await expect(
    client.reserve({ pod: { uid: 'late' }, nodeName: 'n1', requests: resources({ cpu: 600 }), ttl: { seconds: 60 } }, { deadline: 100 }),
  ).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
  await expectGrantedThenReleased('late', fencingVersion);
});

test('a lease granted for a call the caller cancelled is released', async () => {
  const { fencingVersion } = await client.getLedger({ nodeName: 'n1' });
  await admin.client('PAUSE', '400', 'WRITE');
  const abort = new AbortController();
  const call = client.reserve({ pod: { uid: 'gone' }, nodeName: 'n1', requests: resources({ cpu: 600 }), ttl: { seconds: 60 } }, { signal: abort.signal });
  setTimeout(() => abort.abort(), 100);
  await expect(call).rejects.toMatchObject({ name: 'AbortError' });
  await expectGrantedThenReleased('gone', fencingVersion);
});

test('a Reserve whose caller is still there keeps its lease after the same delay', async () => {
  await admin.client('PAUSE', '300', 'WRITE');
  const reply = await client.reserve({ pod: { uid: 'patient' }, nodeName: 'n1', requests: resources({ cpu: 600 }), ttl: { seconds: 60 } }, { deadline: 5_000 });
  expect(reply.result?.$case).toBe('lease');
  expect((await client.getLedger({ nodeName: 'n1' })).leased!.milliCpu).toBe(600);
});

test('a retry that was handed the lease keeps it when the abandoned first call would give it back (review H3)', async () => {
  // 'patient' (above) still holds 600m of the node's 1000m: 400m are free.
  const { fencingVersion, leased } = await client.getLedger({ nodeName: 'n1' });
  const request = { pod: { uid: 'retried' }, nodeName: 'n1', requests: resources({ cpu: 300 }), ttl: { seconds: 60 } };
  // Both calls queue behind the pause in the order sent: the first is granted
  // the lease after its caller gave up, the retry is handed that same lease,
  // and only then does the service try to give the first call's lease back.
  await admin.client('PAUSE', '400', 'WRITE');
  const first = client.reserve(request, { deadline: 100 });
  await expect(first).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
  const retry = await client.reserve(request, { deadline: 10_000 });
  expect(retry.result?.$case).toBe('lease');
  const version = retry.result?.$case === 'lease' ? retry.result.value.fencingVersion : 0;
  expect(version).toBeGreaterThan(fencingVersion);

  // The lease the retry holds is still there, and its capacity still counted.
  await waitFor(async () => (await client.getLedger({ nodeName: 'n1' })).fencingVersion >= version, 3_000, 'the grant');
  const held = await client.getReservation({ podUid: 'retried' });
  expect(held.lease?.fencingVersion).toBe(version);
  expect((await client.getLedger({ nodeName: 'n1' })).leased!.milliCpu).toBe(leased!.milliCpu + 300);
  await expect(client.reserve({ pod: { uid: 'other' }, nodeName: 'n1', requests: resources({ cpu: 300 }), ttl: { seconds: 60 } })).resolves.toMatchObject({
    result: { $case: 'conflict' },
  });
  await client.unreserve({ podUid: 'retried', fencingVersion: version });
});
