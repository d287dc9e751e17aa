// The leader's side of the stream's lifecycle on a real JetStream: the
// anchor, tombstone expiry (review M4) and a purge noticed as data loss.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { createLogger, ensureClusterStream, readStreamAnchor } from '@schedmesh/runtime';
import { sharedServers } from '@schedmesh/testkit';
import { StreamIndex } from './stream-index.js';
import { StreamKeeper } from './stream-keeper.js';
import type { TombstoneLimits } from './stream-keeper.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const pod = (name: string, resourceVersion: string, deleted = false): ClusterEvent =>
  ClusterEvent.fromPartial({
    type: deleted ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT,
    object: { $case: 'pod', value: { namespace: 'default', name, uid: `uid-${name}`, resourceVersion } },
  });

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let streams = 0;

beforeAll(async () => {
  nc = await connect({ servers: sharedServers().natsUrl });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc.close();
});

/** A private stream, its index and its keeper. */
async function setUp(tombstones: Partial<TombstoneLimits> = {}) {
  const n = ++streams;
  const stream = `KEEPER_T${n}_${process.pid}`;
  const prefix = `k${n}p${process.pid}.cluster`;
  await ensureClusterStream(jsm, { name: stream, prefix, memory: true });
  const index = await StreamIndex.load({ js, logger, stream, prefix });
  const keeper = new StreamKeeper({
    js,
    jsm,
    stream,
    prefix,
    logger,
    tombstones: { maxAgeMs: 3_600_000, maxCount: 100, sweepIntervalMs: 60_000, ...tombstones },
    anchorCheckMs: 50,
  });
  const last = async (name: string): Promise<ClusterEvent | undefined> => {
    const msg = await jsm.streams.getMessage(stream, { last_by_subj: `${prefix}.pod.default.${name}` }).catch(() => undefined);
    return msg ? ClusterEvent.decode(msg.data) : undefined;
  };
  return { stream, prefix, index, keeper, last, drop: () => jsm.streams.delete(stream) };
}

describe('tombstones (review M4)', () => {
  test('past the count the oldest go, after the anchor horizon is raised past them; live objects and the rest stay', async () => {
    const s = await setUp({ maxCount: 1 });
    await s.index.publish(pod('old', '1'));
    const oldTombstone = await s.index.publish(pod('old', '2', true));
    await s.index.publish(pod('live', '3'));
    await s.index.publish(pod('young', '4'));
    await s.index.publish(pod('young', '5', true));
    await s.keeper.anchorHistory();

    expect(await s.keeper.sweep(s.index)).toBe(1);
    expect(oldTombstone.kind === 'published' && (await readStreamAnchor(jsm, s.stream, s.prefix))?.tombstonesExpiredThrough).toBe(
      oldTombstone.kind === 'published' ? oldTombstone.ack.seq : -1,
    );
    expect(await s.last('old')).toBeUndefined();
    expect((await s.last('young'))?.type).toBe(ClusterEventType.CLUSTER_EVENT_TYPE_DELETE);
    expect((await s.last('live'))?.type).toBe(ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT);
    expect(s.index.tombstones().map((t) => t.head.key)).toEqual(['default/young']);
    await s.drop();
  });

  test('within the window a late older update of a deleted object is refused; past it the subject is empty again', async () => {
    const s = await setUp({ maxAgeMs: 60_000 });
    await s.index.publish(pod('gone', '10'));
    await s.index.publish(pod('gone', '12', true));
    await s.keeper.anchorHistory();
    expect(await s.keeper.sweep(s.index)).toBe(0);
    expect((await s.index.publish(pod('gone', '11'))).kind).toBe('stale');

    // An hour on, by the sweep's clock: the tombstone is past its age.
    expect(await s.keeper.sweep(s.index, Date.now() + 3_600_000)).toBe(1);
    expect(await s.last('gone')).toBeUndefined();
    // The documented end of the window: with no tombstone left, nothing can order a late update against it.
    expect((await s.index.publish(pod('gone', '11'))).kind).toBe('published');
    await s.drop();
  });
});

describe('a purge while leading', () => {
  test('the anchor gone is data loss; anchoring the republished stream starts a new epoch', async () => {
    const s = await setUp();
    await s.index.publish(pod('a', '1'));
    const first = await s.keeper.anchorHistory();
    const ac = new AbortController();
    const keeping = s.keeper.keep(s.index, ac.signal);
    await jsm.streams.purge(s.stream);
    await expect(keeping).resolves.toBe('data-lost');
    const republished = await StreamIndex.load({ js, logger, stream: s.stream, prefix: s.prefix });
    expect((await republished.publish(pod('a', '1'))).kind).toBe('published');
    const second = await s.keeper.anchorHistory();
    expect(second.epoch).not.toBe(first.epoch);
    expect(second.seq).toBeGreaterThan(first.seq);
    ac.abort();
    await s.drop();
  });
});
