// What one cluster-stream event costs a follower's process, on a real
// nats-server: a stream of pod events (with the informer's trace headers, as
// it publishes them) replayed by followClusterStream, this process's CPU time
// per event (user + system; the nats-server's own is not counted), three
// ways in the same run:
// - every event decoded and its trace context read: what each follower paid
//   per event before the trace context became lazy (the baseline),
// - every event decoded, the trace context not read: an untraced apply (a
//   follower without a tracer, or catching up),
// - `kinds: ['admissionPolicy', 'namespace']`: admission's follower, which
//   knows a pod event by its subject and only counts it.
//   npx tsx bench/stream-follow.bench.ts   (after npm run build; BENCH_EVENTS to shrink)
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import type { ClusterObjectKind, ReceivedClusterEvent } from '@schedmesh/runtime';
import { clusterEvent, makePod, startNats } from '@schedmesh/testkit';
import { createLogger, ensureClusterStream, followClusterStream, initTelemetry, publishClusterEvent } from '@schedmesh/runtime';
import { median, printTable, runBench } from './support.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const ROUNDS = 5;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** Publishes EVENTS pod events, each with a producer's trace context in its headers. */
async function fill(js: JetStreamClient): Promise<number> {
  const producer = trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED });
  let last = 0;
  for (let i = 0; i < EVENTS; i += 500) {
    const window = Array.from({ length: Math.min(500, EVENTS - i) }, (_, j) => clusterEvent(makePod(`app-${i + j}`, `ns-${(i + j) % 20}`).requests('250m', '512Mi').label('app', `app-${(i + j) % 50}`).build()));
    const acks = await context.with(producer, () => Promise.all(window.map((e) => publishClusterEvent(js, e))));
    for (const a of acks) last = Math.max(last, a.seq);
  }
  return last;
}

/** Replays the stream once; resolves with this process's CPU µs per message. */
async function replay(js: JetStreamClient, stream: string, head: number, onEvent: (r: ReceivedClusterEvent) => void, kinds?: readonly ClusterObjectKind[]): Promise<number> {
  const ac = new AbortController();
  let seen = 0;
  const reached = (seq: number): void => {
    seen++;
    if (seq >= head) ac.abort();
  };
  const before = process.cpuUsage();
  await followClusterStream({
    js,
    logger: createLogger({ service: 'bench', level: 'silent' }),
    stream,
    afterGeneration: 0,
    signal: ac.signal,
    ...(kinds ? { kinds } : {}),
    onSkipped: (msg) => reached(msg.seq),
    onEvent: (r) => {
      onEvent(r);
      reached(r.event.generation);
    },
  });
  const used = process.cpuUsage(before);
  if (seen !== head) throw new Error(`replayed ${seen} messages, the stream holds ${head}`);
  return (used.user + used.system) / seen;
}

async function main(): Promise<void> {
  // The process-wide propagator, as a service has it.
  const telemetry = initTelemetry({ serviceName: 'bench-follower' });
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    const js = jetstream(nc);
    const stream = 'SCHEDMESH_CLUSTER';
    await ensureClusterStream(await jetstreamManager(nc), { name: stream, memory: true });
    const head = await fill(js);
    log(`cluster stream follower: ${fmt(head)} pod events replayed, median of ${ROUNDS} rounds (interleaved), this process's CPU`);

    let sink = 0;
    const modes: [string, () => Promise<number>][] = [
      ['decoded, trace context read (baseline)', () => replay(js, stream, head, (r) => void (sink += trace.getSpanContext(r.traceContext) ? 1 : 0))],
      ['decoded, trace context not read', () => replay(js, stream, head, (r) => void (sink += r.event.generation))],
      ["kinds: admission's (pods skipped by subject)", () => replay(js, stream, head, (r) => void (sink += r.event.generation), ['admissionPolicy', 'namespace'])],
    ];
    const rounds: number[][] = modes.map(() => []);
    for (let round = 0; round < ROUNDS; round++) for (const [i, [, run]] of modes.entries()) rounds[i]!.push(await run());
    const baseline = median(rounds[0]!);
    printTable(
      log,
      ['follower', 'CPU µs/event', 'vs baseline'],
      modes.map(([name], i) => [name, fmt(median(rounds[i]!), 1), fmt(median(rounds[i]!) / baseline, 2)]),
    );
    if (sink < 0) log('unreachable');
  } finally {
    await nc.close();
    await nats.stop();
    await telemetry.shutdown();
  }
}

runBench('stream-follow', main);
