// Where schedmesh's attempt time goes: every service exports its spans over
// OTLP/HTTP JSON to a small receiver in this process, and the children of
// each `schedule_one` span are grouped by name. The services trace the share
// of attempts --trace-sample says (whole traces: the callees follow the
// scheduler's decision); the export (batched) is part of the measured run,
// as it would be in production with that sampling.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** A span as received. */
export interface ReceivedSpan {
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly podName: string;
  /** A gRPC server's span of a call it served (OTLP kind 2). */
  readonly served: boolean;
}

interface OtlpSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: { key: string; value: { stringValue?: string } }[];
}
interface OtlpRequest {
  resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

/** The receiver: its URL, the spans so far (cleared by the caller per phase), and stop. */
export interface SpanReceiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  stop(): Promise<void>;
}

const OTLP_SPAN_KIND_SERVER = 2;

function parse(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of (JSON.parse(body.toString('utf8')) as OtlpRequest).resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const start = BigInt(String(s.startTimeUnixNano));
        out.push({
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          startMs: Number(start / 1_000n) / 1000,
          durationMs: Number(BigInt(String(s.endTimeUnixNano)) - start) / 1e6,
          podName: s.attributes?.find((a) => a.key === 'k8s.pod.name')?.value.stringValue ?? '',
          served: s.kind === OTLP_SPAN_KIND_SERVER,
        });
      }
    }
  }
  return out;
}

/** Listens on 127.0.0.1:`port` (0: any); a port that is taken fails with a message that names it. */
export function startSpanReceiver(port: number): Promise<SpanReceiver> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = Buffer.concat(chunks);
        spans.push(...parse(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`the span receiver's port 127.0.0.1:${port} is taken (--otlp-port): choose another or 0`) : err),
    );
    server.listen(port, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/traces`,
        spans,
        stop: () => new Promise((done) => server.close(() => done())),
      }),
    );
  });
}

/** One step of the attempt (a child span of schedule_one), over a phase. */
export interface StepFigures {
  readonly name: string;
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Its time over the attempts' time. */
  readonly share: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The children of `schedule_one` grouped by name, then the whole attempt. */
export function stepBreakdown(spans: readonly ReceivedSpan[]): StepFigures[] {
  const roots = spans.filter((s) => s.name === 'schedule_one');
  if (roots.length === 0) return [];
  const rootIds = new Set(roots.map((s) => s.spanId));
  const byName = new Map<string, number[]>();
  for (const s of spans) {
    if (!rootIds.has(s.parentSpanId)) continue;
    const list = byName.get(s.name) ?? [];
    list.push(s.durationMs);
    byName.set(s.name, list);
  }
  const attemptTotal = roots.reduce((a, s) => a + s.durationMs, 0);
  const row = (name: string, values: number[]): StepFigures => {
    const sorted = [...values].sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    return { name, count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), meanMs: sum / sorted.length, share: sum / attemptTotal };
  };
  return [...[...byName].map(([name, values]) => row(name, values)), row('schedule_one', roots.map((s) => s.durationMs))];
}

/** Calls of one schedmesh RPC the services served over a phase. */
export interface RpcCalls {
  /** "schedmesh.v1.ReservationService/Confirm". */
  readonly method: string;
  /** Calls traced (server spans). */
  readonly count: number;
  /** Calls per pod bound, estimated from the traced share. */
  readonly perPod: number;
}

/**
 * The schedmesh RPCs served (gRPC server spans) per pod bound: how many hops
 * a pod costs, batch calls counted once. `tracedPods`: the pods bound times
 * the share of attempts traced (sampling is per trace, so a call is traced
 * with its attempt, a batch with its first caller's).
 */
export function rpcCalls(spans: readonly ReceivedSpan[], tracedPods: number): RpcCalls[] {
  const counts = new Map<string, number>();
  for (const s of spans) if (s.served && s.name.startsWith('schedmesh.v1.')) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([method, count]) => ({ method, count, perPod: count / tracedPods }));
}
