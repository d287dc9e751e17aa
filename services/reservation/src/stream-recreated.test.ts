// A recreated cluster stream starts its sequence again, below the per-node
// generations the Redis ledger holds (security review H5): the rebuild after
// the replay must overwrite them, or the ledger freezes on the old stream's
// state until the new sequence passes the old one. Real NATS and Redis.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureClusterStream } from '@schedmesh/runtime';
import { sharedServers } from '@schedmesh/testkit';
import { nodeEvent, podEvent, startHarness, waitFor } from './testing/harness.js';
import type { Harness, ReservationClient } from './testing/harness.js';

let h: Harness;
let client: ReservationClient;
let nc: NatsConnection;

beforeAll(async () => {
  // Ten versions of n1: the ledger's generation for n1 ends at 10.
  const versions = Array.from({ length: 10 }, (_, i) => nodeEvent('n1', { cpu: 1_000, pods: 10 }, { resourceVersion: String(i + 1) }));
  h = await startHarness({ redisUrl: sharedServers().redisUrl, natsUrl: sharedServers().natsUrl, events: versions, config: { redis: { checkInterval: 100 } } });
  client = h.clients[0]!;
  nc = await connect({ servers: sharedServers().natsUrl });
});
afterAll(async () => {
  await nc.close();
  await h.stop();
});

async function rebuilds(reason: string): Promise<number> {
  const metric = await h.apps[0]!.runtime.metrics.getSingleMetric('schedmesh_reservation_ledger_rebuilds_total')!.get();
  return metric.values.filter((v) => v.labels.reason === reason).reduce((a, v) => a + v.value, 0);
}

test('after the stream is recreated, the ledger follows the new stream although its sequence is lower', async () => {
  expect((await client.getLedger({ nodeName: 'n1' })).allocatable!.milliCpu).toBe(1_000);
  const jsm = await jetstreamManager(nc);
  const { subjects } = (await jsm.streams.info(h.streamName)).config;
  await jsm.streams.delete(h.streamName);
  await ensureClusterStream(jsm, { name: h.streamName, prefix: subjects[0]!.replace(/\.>$/, ''), memory: true });
  // The service notices the new stream while it is still empty: its rebuild finds no node to
  // renumber, so n1's first changes below must be forced past the old stream's generation.
  await waitFor(async () => (await rebuilds('stream-recreated')) >= 1, 60_000, 'a rebuild for the recreated stream');
  // The new stream: n1 has grown, and a pod runs on it (sequences 1 and 2).
  expect(await h.publish(nodeEvent('n1', { cpu: 2_000, pods: 10 }, { resourceVersion: '11' }), podEvent({ uid: 'runner', node: 'n1', requests: { cpu: 500 } }))).toBe(2);

  await waitFor(
    async () => {
      const ledger = await client.getLedger({ nodeName: 'n1' }).catch(() => undefined);
      return ledger?.allocatable?.milliCpu === 2_000 && ledger.bound?.milliCpu === 500;
    },
    30_000,
    "n1's ledger from the new stream",
  );
  // And incremental events of the new stream apply from there on.
  await h.publish(podEvent({ uid: 'second', node: 'n1', requests: { cpu: 300 } }));
  await waitFor(async () => (await client.getLedger({ nodeName: 'n1' })).bound?.milliCpu === 800, 20_000, 'the next event applied');
}, 120_000);
