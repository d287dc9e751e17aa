// consumeDurable on the shared real JetStream: what a restarted consumer gets,
// redelivery after nak, trace context, and a conflicting durable.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { trace } from '@opentelemetry/api';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { pollUntil, sharedServers } from '@schedmesh/testkit';
import { clusterKindFilter, ensureClusterStream, publishClusterEvent } from './cluster-stream.js';
import { consumeDurable } from './durable-consumer.js';
import type { DurableClusterEvent, DurableConsumerOptions } from './durable-consumer.js';
import { FailedPreconditionError } from './errors.js';
import { createLogger } from './logger.js';
import { initTelemetry, withSpan } from './telemetry.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const pod = (name: string): ClusterEvent =>
  ClusterEvent.fromPartial({ type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'pod', value: { uid: name, namespace: 'ns', name, resourceVersion: '1' } } });
const nodeEvent = (name: string): ClusterEvent =>
  ClusterEvent.fromPartial({ type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'node', value: { name, resourceVersion: '1' } } });
const nameOf = (e: DurableClusterEvent): string => (e.event.object?.$case === 'pod' ? e.event.object.value.name : '?');

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const stream = `DURABLE_T_${process.pid}`;
const prefix = `d${process.pid}.cluster`;

beforeAll(async () => {
  nc = await connect({ servers: sharedServers().natsUrl });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await ensureClusterStream(jsm, { name: stream, prefix, memory: true });
});
afterAll(async () => {
  await jsm.streams.delete(stream);
  await nc.close();
});

function consumer(name: string, signal: AbortSignal, extra: Partial<DurableConsumerOptions> = {}): AsyncGenerator<DurableClusterEvent, void, undefined> {
  return consumeDurable({ js, jsm, logger, stream, name, filterSubject: clusterKindFilter('pod', prefix), ackWaitMs: 1_000, signal, ...extra });
}

/** Takes events until `done` says so, then stops the consumer. */
async function take(events: AsyncGenerator<DurableClusterEvent, void, undefined>, done: (seen: DurableClusterEvent[]) => boolean, onEach?: (e: DurableClusterEvent) => void): Promise<DurableClusterEvent[]> {
  const seen: DurableClusterEvent[] = [];
  for await (const e of events) {
    seen.push(e);
    onEach?.(e);
    if (done(seen)) break;
  }
  return seen;
}

test('a consumer stopped mid-way: a new one with the same name gets what was not acknowledged, and nothing that was', async () => {
  for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) await publishClusterEvent(js, pod(name), prefix);
  await publishClusterEvent(js, nodeEvent('n1'), prefix); // filtered out

  const first = await take(consumer('queue', new AbortController().signal), (seen) => seen.length === 3, (e) => {
    if (nameOf(e) !== 'p3') e.ack(); // p3 is delivered and never acknowledged
  });
  expect(first.map(nameOf)).toEqual(['p1', 'p2', 'p3']);
  expect(first.map((e) => e.deliveryCount)).toEqual([1, 1, 1]);
  // An ack is one publish, unconfirmed: wait for the server to have taken p1's and p2's.
  await pollUntil(async () => ((await jsm.consumers.info(stream, 'queue')).ack_floor.consumer_seq >= 2 ? true : undefined), { what: 'the acks of p1 and p2', timeoutMs: 10_000 });

  const second = await take(consumer('queue', new AbortController().signal), (seen) => seen.length === 3, (e) => e.ack());
  expect(second.map(nameOf).sort()).toEqual(['p3', 'p4', 'p5']);
  expect(second.find((e) => nameOf(e) === 'p3')!.deliveryCount).toBe(2);

  // Every event settled: nothing left to deliver, nothing delivered and unacknowledged.
  const info = await pollUntil(async () => {
    const now = await jsm.consumers.info(stream, 'queue');
    return now.num_ack_pending === 0 ? now : undefined;
  }, { what: 'the acks of p3, p4 and p5', timeoutMs: 10_000 });
  expect(info.num_pending).toBe(0);
});

test('nak with a delay delivers the event again after the delay; term never again', async () => {
  const ac = new AbortController();
  const events = consumer('naks', ac.signal);
  const seq = (await publishClusterEvent(js, pod('later'), prefix)).seq;
  let nakedAt = 0;
  const seen = await take(
    events,
    (s) => s.filter((e) => e.event.generation === seq).length === 2,
    (e) => {
      if (e.event.generation < seq) e.ack(); // the earlier tests' pods, new to this consumer
      else if (e.deliveryCount === 1) {
        nakedAt = Date.now();
        e.nak(300);
      } else e.term();
    },
  );
  const again = seen.filter((e) => e.event.generation === seq);
  expect(again.map((e) => e.deliveryCount)).toEqual([1, 2]);
  expect(Date.now() - nakedAt).toBeGreaterThanOrEqual(250);
  // ack and term are one-way: wait for the server to have settled them all.
  await pollUntil(async () => ((await jsm.consumers.info(stream, 'naks')).num_ack_pending === 0 ? true : undefined), { what: 'no event pending an ack', timeoutMs: 10_000 });
});

test('each event carries its producer trace context', async () => {
  const telemetry = initTelemetry({ serviceName: 'durable-test' });
  let traceId = '';
  const seq = await withSpan(telemetry.tracer, 'produce', {}, async (span) => {
    traceId = span.spanContext().traceId;
    return (await publishClusterEvent(js, pod('traced'), prefix)).seq;
  });
  const [received] = await take(consumer('traced', new AbortController().signal, { filterSubject: `${prefix}.pod.ns.traced` }), () => true, (e) => e.ack());
  expect(received!.event.generation).toBe(seq);
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(trace.getSpanContext(received!.traceContext)?.traceId).toBe(traceId);
  await telemetry.shutdown();
});

test('an abort ends the iteration; a durable of the same name with another filter is refused', async () => {
  const ac = new AbortController();
  const events = consumer('queue', ac.signal);
  ac.abort();
  expect(await take(events, () => false)).toEqual([]);
  await expect(take(consumer('queue', new AbortController().signal, { filterSubject: clusterKindFilter('node', prefix) }), () => true)).rejects.toBeInstanceOf(FailedPreconditionError);
});
