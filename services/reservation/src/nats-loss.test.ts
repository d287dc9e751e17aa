// The ledger while NATS is away: Redis is the arbiter, so the service keeps
// serving; the events published meanwhile reach the ledger once the stream
// is followed again.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { sharedServers, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { nodeEvent, podEvent, resources, startHarness, waitFor } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

let nats: TestServer;
let h: Harness;

beforeAll(async () => {
  nats = await startNats();
  h = await startHarness({ redisUrl: sharedServers().redisUrl, natsUrl: nats.url, memoryStorage: false, events: [nodeEvent('n1', { cpu: 1_000, pods: 10 })] });
});
afterAll(async () => {
  await h.stop();
  await nats.stop();
});

test('NATS restart: the ledger keeps serving from Redis, and follows the stream again after the reconnect', async () => {
  const client = h.clients[0]!;
  const app = h.apps[0]!;
  expect((await client.getLedger({ nodeName: 'n1' })).free).toMatchObject({ milliCpu: 1_000 });

  await nats.restart();
  await waitFor(() => !app.sync.gate.synced, 5_000, 'the stream lost');
  expect(app.sync.ready).toBe(true);
  const during = await client.reserve({ pod: { uid: 'during' }, nodeName: 'n1', requests: resources({ cpu: 100 }), ttl: { seconds: 60 } });
  expect(during.result?.$case).toBe('lease');

  let generation = 0;
  await waitFor(async () => {
    // The harness's own connection may still be reconnecting.
    generation = await h.publish(podEvent({ uid: 'web-0', node: 'n1', requests: { cpu: 600 } })).catch(() => 0);
    return generation > 0;
  }, 15_000, 'the pod published');
  await h.waitForGeneration(generation, 15_000);
  expect(app.sync.gate.synced).toBe(true);
  await waitFor(async () => (await client.getLedger({ nodeName: 'n1' })).bound?.milliCpu === 600, 5_000, 'the bound pod in the ledger');
  const reply = await client.reserve({ pod: { uid: 'big' }, nodeName: 'n1', requests: resources({ cpu: 400 }), ttl: { seconds: 60 } });
  expect(reply.result?.$case).toBe('conflict');
}, 40_000);
