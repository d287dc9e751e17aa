// What a follower's `apply <kind>` span costs per live event: the snapshot's
// in-process apply of a 5,000-node / 50,000-pod cluster, bare (the baseline,
// same run) and inside applyTraced — with spans made but not exported (no
// otlpEndpoint), and exported in batches to an exporter that drops them (the
// SDK's whole cost short of the network). The figures are why a follower
// traces live events only, not the replay of the stream.
//   npx tsx bench/trace-apply.bench.ts   (after npm run build; BENCH_NODES, BENCH_PODS_PER_NODE to shrink)
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { applyTraced, initTelemetry } from '@schedmesh/runtime';
import type { ReceivedClusterEvent } from '@schedmesh/runtime';
import { SnapshotState } from '@schedmesh/snapshot-service';
import { clusterEvent, makeNode, makePod } from '@schedmesh/testkit';
import { runBench } from './support.js';

const NODES = Number(process.env.BENCH_NODES ?? 5_000);
const PODS_PER_NODE = Number(process.env.BENCH_PODS_PER_NODE ?? 10);
const ROUNDS = 3;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** Counts and drops what it is given. */
class DroppingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.exported += spans.length;
    done({ code: 0 }); // ExportResultCode.SUCCESS
  }
  async shutdown(): Promise<void> {}
}

/** The cluster as a follower receives it: each event with its publisher's trace context, as the headers carry it. */
function received(publisher: Tracer): ReceivedClusterEvent[] {
  const events: ClusterEvent[] = [];
  for (let n = 0; n < NODES; n++) events.push(clusterEvent(makeNode(`node-${n}`).capacity('32', '128Gi', 110).zone(`zone-${n % 3}`).rack(`rack-${n % 50}`).build()));
  for (let n = 0; n < NODES; n++) {
    for (let p = 0; p < PODS_PER_NODE; p++) events.push(clusterEvent(makePod(`app-${n}-${p}`, `ns-${p}`).requests('250m', '512Mi').on(`node-${n}`).build()));
  }
  const publish = publisher.startSpan('informer.publish');
  publish.end();
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, publish), headers);
  const traceContext = propagation.extract(ROOT_CONTEXT, headers);
  return events.map((event, i) => ({ event: { ...event, generation: i + 1 }, subject: `schedmesh.cluster.x.${i}`, traceContext, pending: events.length - i - 1, storedAtMs: 0 }));
}

async function timed(events: readonly ReceivedClusterEvent[], apply: (state: SnapshotState, r: ReceivedClusterEvent) => unknown): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const state = new SnapshotState();
    const t0 = performance.now();
    for (const r of events) await apply(state, r);
    best = Math.min(best, performance.now() - t0);
    if (state.nodeSize !== NODES) throw new Error('state incomplete');
  }
  return best;
}

async function main(): Promise<void> {
  // The process-wide propagator, as a service has it.
  const telemetry = initTelemetry({ serviceName: 'bench-publisher' });
  const events = received(telemetry.tracer);
  log(`follower apply spans: ${fmt(NODES)} nodes, ${fmt(NODES * PODS_PER_NODE)} pods (${fmt(events.length)} events), best of ${ROUNDS}`);

  const bare = await timed(events, (state, r) => state.apply(r.event));
  const unexported = new BasicTracerProvider().getTracer('bench');
  const spansOnly = await timed(events, (state, r) => applyTraced(unexported, r, () => state.apply(r.event)));
  const exporter = new DroppingExporter();
  const batched = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 2_048, maxExportBatchSize: 512, scheduledDelayMillis: 50 })] });
  const exported = await timed(events, (state, r) => applyTraced(batched.getTracer('bench'), r, () => state.apply(r.event)));
  await batched.shutdown();

  log('');
  const perEvent = (ms: number): string => fmt((ms * 1000) / events.length, 1);
  log('| apply of every event | ms | µs/event | vs bare apply |');
  log('|---|---|---|---|');
  log(`| bare SnapshotState.apply (baseline) | ${fmt(bare)} | ${perEvent(bare)} | 1.00 |`);
  log(`| in an \`apply <kind>\` span, not exported | ${fmt(spansOnly)} | ${perEvent(spansOnly)} | ${fmt(spansOnly / bare, 2)} |`);
  log(`| in an \`apply <kind>\` span, batch-exported (dropped) | ${fmt(exported)} | ${perEvent(exported)} | ${fmt(exported / bare, 2)} |`);
  log(`(spans handed to the exporter: ${fmt(exporter.exported)}; the batch queue drops what overflows it, as in a service)`);
  await telemetry.shutdown();
}

runBench('trace-apply', main);
