// followClusterStreamResilient and waitForClusterStream on a real nats-server
// of the file's own, which the tests restart.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { SpanKind } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { clusterEventSubject, ensureClusterStream, followClusterStreamResilient, publishClusterEvent, waitForClusterStream } from './cluster-stream.js';
import type { ClusterObjectKind, ReceivedClusterEvent, ResilientFollowOptions } from './cluster-stream.js';
import { GenerationGate } from './generation-gate.js';
import { writeStreamAnchor } from './stream-anchor.js';
import { createLogger } from './logger.js';
import { initTelemetry, withSpan } from './telemetry.js';

const node = (name: string, rv: string): ClusterEvent =>
  ClusterEvent.fromPartial({ type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'node', value: { name, resourceVersion: rv } } });
const configMap = (name: string, rv: string): ClusterEvent =>
  ClusterEvent.fromPartial({ type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'configMap', value: { namespace: 'ns', name, resourceVersion: rv } } });

let nats: TestServer;
let nc: NatsConnection;
let js: JetStreamClient;
let streams = 0;

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  js = jetstream(nc);
});
afterAll(async () => {
  await nc.close();
  await nats.stop();
});

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Log lines written by the code under test, parsed. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: { msg: string; level: string; epoch?: string }[] } {
  const lines: { msg: string; level: string; epoch?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { msg: string; level: string; epoch?: string });
      done();
    },
  });
  return { logger: createLogger({ service: 'test', level: 'debug', destination }), lines };
}

/** Publishes; retries while the test's connection reconnects after a restart. */
async function publish(prefix: string, ...events: ClusterEvent[]): Promise<number> {
  let seq = 0;
  for (const e of events) {
    for (let attempt = 1; ; attempt++) {
      try {
        seq = (await publishClusterEvent(js, e, prefix)).seq;
        break;
      } catch (err) {
        if (attempt >= 40) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  return seq;
}

async function manager(): Promise<JetStreamManager> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await jetstreamManager(nc);
    } catch (err) {
      if (attempt >= 40) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** A follower of a private stream, recording what it applied and how often it reset. */
/** The follower took up the anchor of `epoch`, and its gate is at the stream's last event (the anchor is no generation). */
const followsAnchor = (f: { gate: GenerationGate; lines: { msg: string; epoch?: string }[] }, epoch: string, lastEvent: number): boolean =>
  f.gate.synced && f.gate.generation === lastEvent && f.lines.some((l) => l.msg === 'following the cluster stream anchor' && l.epoch === epoch);

function follower(
  options: { filterSubject?: string; kinds?: ClusterObjectKind[]; memory?: boolean; apply?: (r: ReceivedClusterEvent) => void | Promise<void>; conn?: NatsConnection; tracer?: Tracer; anchorCheckMs?: number } = {},
) {
  const n = ++streams;
  const stream = `FOLLOW_T${n}_${process.pid}`;
  const prefix = `f${n}.cluster`;
  const gate = new GenerationGate({ name: 'the test state' });
  const applied: number[] = [];
  let resets = 0;
  const { logger, lines } = capturedLogger();
  const ac = new AbortController();
  const follow: ResilientFollowOptions = {
    nc: options.conn ?? nc,
    logger,
    stream,
    gate,
    retry: { initialMs: 50, maxMs: 200 },
    signal: ac.signal,
    ...(options.tracer ? { tracer: options.tracer } : {}),
    ...(options.anchorCheckMs ? { anchorCheckMs: options.anchorCheckMs } : {}),
    ...(options.filterSubject ? { filterSubject: options.filterSubject.replace('PREFIX', prefix) } : {}),
    ...(options.kinds ? { kinds: options.kinds } : {}),
    apply: async (r) => {
      await options.apply?.(r);
      applied.push(r.event.generation);
    },
    onReset: () => {
      resets++;
      applied.length = 0;
    },
  };
  const running = followClusterStreamResilient(follow);
  const create = async (): Promise<void> => {
    await ensureClusterStream(await manager(), { name: stream, prefix, memory: options.memory ?? false });
  };
  const stop = async (): Promise<void> => {
    ac.abort();
    await running;
  };
  return { stream, prefix, gate, applied, lines, create, stop, resets: () => resets };
}

describe('waitForClusterStream', () => {
  test('waits, logging, until the stream exists; an abort ends the wait', async () => {
    const jsm = await jetstreamManager(nc);
    const { logger, lines } = capturedLogger();
    const ac = new AbortController();
    const name = `WAIT_T_${process.pid}`;
    const waiting = waitForClusterStream(jsm, { stream: name, logger, signal: ac.signal, retry: { initialMs: 20, maxMs: 50 }, logEveryMs: 100 });
    await until('the waiting to be logged twice', () => lines.filter((l) => /waiting for the cluster stream/.test(l.msg)).length >= 2);
    await ensureClusterStream(jsm, { name, prefix: `wait${process.pid}.cluster`, memory: true });
    expect((await waiting).config.name).toBe(name);
    expect(lines.map((l) => l.msg)).toContain('the cluster stream exists now');

    const aborted = waitForClusterStream(jsm, { stream: 'NEVER_CREATED', logger, signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await jsm.streams.delete(name);
  });
});

describe('followClusterStreamResilient', () => {
  test('out of sync until the stream exists; in sync on an empty stream; applies in order and advances the gate', async () => {
    const f = follower();
    await until('the wait to be logged', () => f.lines.some((l) => /waiting for the cluster stream/.test(l.msg)));
    expect(f.gate.synced).toBe(false);
    await f.create();
    await until('in sync on the empty stream', () => f.gate.synced);

    const waiting = f.gate.waitFor(2, new AbortController().signal);
    await publish(f.prefix, node('a', '1'), node('b', '1'));
    expect(await waiting).toBe(2);
    expect(f.applied).toEqual([1, 2]);
    await f.stop();
    expect(f.gate.synced).toBe(false);
  });

  test('a replica started on a full stream is in sync once it applied the head', async () => {
    const first = follower();
    await first.create();
    const head = await publish(first.prefix, node('a', '1'), node('b', '1'), node('c', '1'));
    await first.stop();
    // A second follower of the same stream.
    const gate = new GenerationGate({ name: 'late' });
    const seen: number[] = [];
    const ac = new AbortController();
    const syncedAt: number[] = [];
    gate.onSyncChange((s) => {
      if (s) syncedAt.push(gate.generation);
    });
    const running = followClusterStreamResilient({
      nc, logger: createLogger({ service: 'test', level: 'silent' }), stream: first.stream, gate, signal: ac.signal, apply: (r) => void seen.push(r.event.generation),
    });
    await until('in sync', () => gate.synced);
    expect(seen).toEqual([1, 2, 3]);
    expect(syncedAt).toEqual([head]);
    ac.abort();
    await running;
  });

  test('a failing apply takes the gate out of sync and is retried; nothing is skipped', async () => {
    let failures = 1;
    const f = follower({
      apply: (r) => {
        if (r.event.generation === 2 && failures-- > 0) throw new Error('the database blinked');
      },
    });
    await f.create();
    await until('in sync', () => f.gate.synced);
    const outOfSync: boolean[] = [];
    f.gate.onSyncChange((s) => outOfSync.push(s));
    await publish(f.prefix, node('a', '1'), node('b', '1'), node('c', '1'));
    await until('all three applied', () => f.applied.length === 3 && f.gate.synced);
    expect(f.applied).toEqual([1, 2, 3]);
    expect(outOfSync).toEqual([false, true]);
    expect(f.lines.some((l) => l.msg === 'following the cluster stream failed; retrying' && l.level === 'warn')).toBe(true);
    await f.stop();
  });

  test('a message that is not a ClusterEvent is skipped and still counts as handled', async () => {
    const f = follower();
    await f.create();
    await publish(f.prefix, node('a', '1'));
    const bad = await js.publish(`${f.prefix}.node.garbage`, new Uint8Array([0xff, 0xff, 0xff]));
    await until('in sync past the bad message', () => f.gate.synced && f.gate.generation === bad.seq);
    expect(f.applied).toEqual([1]);
    await f.stop();
  });

  test('with a subject filter: only its events, and in sync when nothing matches', async () => {
    const f = follower({ filterSubject: clusterEventSubject(configMap('plugins', '0'), 'PREFIX') });
    await f.create();
    await publish(f.prefix, node('a', '1'));
    await until('in sync with nothing matching', () => f.gate.synced);
    const seq = await publish(f.prefix, configMap('plugins', '1'), node('b', '1'), configMap('other', '1'));
    await until('the ConfigMap applied', () => f.applied.length === 1);
    expect(f.applied).toEqual([seq - 2]);
    await f.stop();
  });

  test('with kinds: only theirs are decoded and applied; the others, unread, still advance the gate to the stream head', async () => {
    const f = follower({ kinds: ['configMap'] });
    await f.create();
    await publish(f.prefix, node('a', '1'));
    await until('in sync at the node event, which it did not apply', () => f.gate.synced && f.gate.generation === 1);
    const cm = await publish(f.prefix, configMap('plugins', '1'));
    // Not a ClusterEvent: decoding it would report it as invalid.
    const unread = await js.publish(`${f.prefix}.node.garbage`, new Uint8Array([0xff, 0xff, 0xff]));
    const head = await publish(f.prefix, node('b', '1'));
    expect(await f.gate.waitFor(head, new AbortController().signal)).toBe(head);
    expect(f.applied).toEqual([cm]);
    expect(unread.seq).toBe(cm + 1);
    expect(f.lines.some((l) => /not a ClusterEvent/.test(l.msg))).toBe(false);
    await f.stop();
  });

  test('NATS restart: out of sync while it is away, in sync again after catching up, nothing applied twice', async () => {
    const f = follower();
    await f.create();
    await publish(f.prefix, node('a', '1'), node('b', '1'));
    await until('in sync', () => f.gate.synced && f.applied.length === 2);
    await nats.restart();
    await until('out of sync', () => !f.gate.synced);
    const seq = await publish(f.prefix, node('c', '1'));
    await until('in sync again', () => f.gate.synced && f.gate.generation === seq, 15_000);
    expect(f.applied).toEqual([1, 2, 3]);
    expect(f.resets()).toBe(0);
    await f.stop();
  }, 30_000);

  test('a stream lost with its server (memory storage) and created again resets the state and replays the new one', async () => {
    const f = follower({ memory: true });
    await f.create();
    await publish(f.prefix, node('a', '1'), node('b', '1'), node('c', '1'));
    await until('three applied', () => f.applied.length === 3);
    await nats.restart();
    await until('the wait for the stream to be logged', () => f.lines.some((l) => /waiting for the cluster stream/.test(l.msg)), 15_000);
    expect(f.gate.synced).toBe(false);
    await f.create(); // the informer, back too
    await until('reset and in sync on the new stream', () => f.resets() === 1 && f.gate.synced, 15_000);
    expect(f.gate.generation).toBe(0);
    await publish(f.prefix, node('z', '1'));
    await until('the new stream applied', () => f.applied.length === 1);
    expect(f.applied).toEqual([1]);
    await f.stop();
  }, 30_000);

  test('a stream deleted and created again while connected resets the state', async () => {
    const f = follower({ memory: true });
    await f.create();
    await publish(f.prefix, node('a', '1'), node('b', '1'));
    await until('two applied', () => f.applied.length === 2 && f.gate.synced);
    const jsm = await manager();
    await jsm.streams.delete(f.stream);
    await f.create();
    await publish(f.prefix, node('c', '1'));
    await until('reset and the new stream applied', () => f.resets() === 1 && f.applied.length === 1 && f.gate.synced, 15_000);
    expect(f.applied).toEqual([1]);
    await f.stop();
  }, 30_000);

  test('with a tracer, each live event is applied in an `apply <kind>` span of its own trace, linked to the publish span; the replay is not traced', async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = initTelemetry({ serviceName: 'follow-trace-test', exporter, simpleProcessor: true });
    const stream = `FOLLOW_TRACED_${process.pid}`;
    const prefix = 'traced.cluster';
    await ensureClusterStream(await manager(), { name: stream, prefix, memory: true });
    await withSpan(telemetry.tracer, 'informer publish (replayed)', { kind: SpanKind.PRODUCER }, () => publish(prefix, node('replayed-1', '1'), node('replayed-2', '1')));
    const gate = new GenerationGate({ name: 'the traced state' });
    const applied: string[] = [];
    const ac = new AbortController();
    const running = followClusterStreamResilient({
      nc,
      logger: capturedLogger().logger,
      stream,
      gate,
      tracer: telemetry.tracer,
      signal: ac.signal,
      apply: ({ event }) => void applied.push(event.object?.$case === 'node' ? event.object.value.name : '?'),
    });
    await until('the replay applied and in sync', () => applied.length === 2 && gate.synced);
    const published = await withSpan(telemetry.tracer, 'informer publish', { kind: SpanKind.PRODUCER }, async (span) => ({
      spanId: span.spanContext().spanId,
      traceId: span.spanContext().traceId,
      seq: await publish(prefix, node('traced-node', '1')),
    }));
    await until('the live event applied', () => applied.length === 3);
    ac.abort();
    await running;
    await telemetry.flush();
    const applies = exporter.getFinishedSpans().filter((s) => s.name === 'apply node');
    expect(applies).toHaveLength(1);
    const apply = applies[0]!;
    expect(apply.kind).toBe(SpanKind.CONSUMER);
    expect(apply.parentSpanContext).toBeUndefined();
    expect(apply.spanContext().traceId).not.toBe(published.traceId);
    expect(apply.links.map((l) => l.context.spanId)).toEqual([published.spanId]);
    expect(apply.attributes).toMatchObject({
      'messaging.system': 'nats',
      'messaging.destination.name': clusterEventSubject(node('traced-node', '1'), prefix),
      'schedmesh.generation': published.seq,
      'schedmesh.object.kind': 'node',
      'schedmesh.object.key': 'traced-node',
      'k8s.node.name': 'traced-node',
    });
    await (await manager()).streams.delete(stream);
    await telemetry.shutdown();
  });

describe('data loss in a stream that stays (review M4)', () => {
  test('a purge (its anchor gone) takes the gate out of sync until the informer anchors a republished stream; the state is then rebuilt from it', async () => {
    const f = follower({ anchorCheckMs: 50 });
    await f.create();
    await publish(f.prefix, node('a', '1'), node('b', '1'));
    const anchor = await writeStreamAnchor(js, f.prefix, { epoch: 'first', tombstonesExpiredThrough: 0 }, 0);
    await until('in sync, following the anchor', () => followsAnchor(f, 'first', anchor.seq - 1));
    expect(f.applied).toEqual([1, 2]);

    await (await manager()).streams.purge(f.stream);
    await until('out of sync after the purge', () => !f.gate.synced);
    expect(f.lines.map((l) => l.msg)).toContain('the cluster stream lost its anchor (purged): data loss; not ready until the informer has republished the cluster');
    // The informer republishes the cluster (sequences go on after a purge), then anchors it.
    await publish(f.prefix, node('a', '2'));
    expect(f.gate.synced).toBe(false);
    const second = await writeStreamAnchor(js, f.prefix, { epoch: 'second', tombstonesExpiredThrough: 0 }, 0);
    await until('in sync with the republished stream', () => followsAnchor(f, 'second', second.seq - 1));
    expect(f.resets()).toBe(1);
    expect(f.applied).toEqual([anchor.seq + 1]);
    await f.stop();
  });

  test('a tombstone horizon past what the state had read replays the stream (deletions it may have missed)', async () => {
    const f = follower({ anchorCheckMs: 50 });
    await f.create();
    await publish(f.prefix, node('a', '1'), node('b', '1'));
    const first = await writeStreamAnchor(js, f.prefix, { epoch: 'e', tombstonesExpiredThrough: 0 }, 0);
    await until('in sync, following the anchor', () => followsAnchor(f, 'e', first.seq - 1));
    expect(f.resets()).toBe(0);
    // As if the state had lagged by the whole expiry age: tombstones up to 1000 may be gone unread.
    await writeStreamAnchor(js, f.prefix, { epoch: 'e', tombstonesExpiredThrough: 1_000 }, first.seq);
    await until('a replay', () => f.resets() === 1 && f.gate.synced);
    await f.stop();
  });
});
});
