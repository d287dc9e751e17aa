import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { clusterBinDir, requireBinary } from './binaries.js';
import { httpGet } from './http.js';
import { freePorts, LOOPBACK } from './net.js';
import { forgetDirOnExit, removeDirOnExit, spawnManaged } from './process.js';
import type { ManagedProcess } from './process.js';
import { defaultBaseDir } from './tmp.js';
import { pollUntil, retryOnPortClash, waitReady } from './wait.js';

export interface JaegerOptions {
  readonly binDir?: string;
  /** Parent of the temporary directory (config, log); default /dev/shm when writable, else os.tmpdir(). */
  readonly baseDir?: string;
  /** Budget to become ready, in ms; default 60 s. */
  readonly startTimeoutMs?: number;
  /** Traces kept in memory; default 100 000. */
  readonly maxTraces?: number;
  readonly keepDir?: boolean;
  /** A fixed port for the query API and UI (for people to open); default a free one. */
  readonly queryPort?: number;
}

/** A running Jaeger v2 all-in-one: OTLP in, query API out, in-memory storage. */
export interface Jaeger {
  /** Base URL of the OTLP/HTTP receiver; traces go to `${otlpHttpUrl}/v1/traces`. */
  readonly otlpHttpUrl: string;
  /** host:port of the OTLP/gRPC receiver. */
  readonly otlpGrpcEndpoint: string;
  /** Base URL of the query service (`/api/traces`, `/api/services`, `/api/v3/...`). */
  readonly queryUrl: string;
  readonly process: ManagedProcess;
  /** Stops Jaeger's process group and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** A span as the query API (/api/traces) returns it. */
export interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: readonly { readonly refType: string; readonly traceID: string; readonly spanID: string }[];
  readonly startTime: number;
  readonly duration: number;
  readonly tags: readonly JaegerKeyValue[];
  /** The span's events: `fields` holds the event name (key "event") and its attributes. */
  readonly logs?: readonly { readonly timestamp: number; readonly fields: readonly JaegerKeyValue[] }[];
  readonly processID: string;
}

/** A tag or log field as the query API returns it. */
export interface JaegerKeyValue {
  readonly key: string;
  readonly type: string;
  readonly value: unknown;
}

/** A trace as the query API returns it; `processes` maps a span's processID to its service. */
export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { readonly serviceName: string }>>;
}

export interface TraceQueryOptions {
  /** How long to keep polling, in ms; default 15 s. */
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
}

/** The collector configuration: OTLP receivers, memory storage, query API — every listener on loopback. */
function jaegerConfig(ports: {
  otlpGrpc: number;
  otlpHttp: number;
  queryHttp: number;
  queryGrpc: number;
  health: number;
  maxTraces: number;
}): Record<string, unknown> {
  const at = (port: number): string => `${LOOPBACK}:${port}`;
  return {
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['jaeger_storage_exporter'] },
      },
      // No internal metrics: the default reader would listen on :8888.
      telemetry: { metrics: { level: 'none' }, logs: { level: 'info' } },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: at(ports.health) } },
      jaeger_query: {
        storage: { traces: 'memstore' },
        http: { endpoint: at(ports.queryHttp) },
        grpc: { endpoint: at(ports.queryGrpc) },
        // On by default in v2: it would export Jaeger's own spans to localhost:4317
        // (another test's Jaeger, or nobody — then shutdown waits on the retries).
        enable_tracing: false,
      },
      jaeger_storage: { backends: { memstore: { memory: { max_traces: ports.maxTraces } } } },
    },
    receivers: {
      otlp: { protocols: { grpc: { endpoint: at(ports.otlpGrpc) }, http: { endpoint: at(ports.otlpHttp) } } },
    },
    // A short batch timeout: tests wait for spans to become queryable.
    processors: { batch: { timeout: '100ms' } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
  };
}

/** Starts the Jaeger v2 all-in-one with OTLP gRPC + HTTP receivers and the query API on free loopback ports. */
export async function startJaeger(opts: JaegerOptions = {}): Promise<Jaeger> {
  return retryOnPortClash(() => startJaegerOnce(opts));
}

async function startJaegerOnce(opts: JaegerOptions): Promise<Jaeger> {
  const bin = requireBinary('jaeger', opts.binDir ?? clusterBinDir());
  const dir = mkdtempSync(join(opts.baseDir ?? defaultBaseDir(), 'schedmesh-jaeger-'));
  removeDirOnExit(dir);
  const [otlpGrpc, otlpHttp, freeQueryHttp, queryGrpc, health] = (await freePorts(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const queryHttp = opts.queryPort ?? freeQueryHttp;
  const configPath = join(dir, 'jaeger.yaml');
  writeFileSync(
    configPath,
    stringify(jaegerConfig({ otlpGrpc, otlpHttp, queryHttp, queryGrpc, health, maxTraces: opts.maxTraces ?? 100_000 })),
  );
  const proc = spawnManaged({
    name: 'jaeger',
    command: bin,
    args: [`--config=${configPath}`],
    logPath: join(dir, 'jaeger.log'),
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await proc.stop(5_000);
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
      forgetDirOnExit(dir);
    })();
    return stopping;
  };
  const otlpHttpUrl = `http://${LOOPBACK}:${otlpHttp}`;
  const queryUrl = `http://${LOOPBACK}:${queryHttp}`;
  try {
    await waitReady(proc, `jaeger query API and OTLP receiver`, opts.startTimeoutMs ?? 60_000, async () => {
      const services = await httpGet(`${queryUrl}/api/services`, { timeoutMs: 2_000 });
      if (services.status !== 200) return undefined;
      // Any HTTP answer (405 for a GET) means the receiver is listening.
      await httpGet(`${otlpHttpUrl}/v1/traces`, { timeoutMs: 2_000 });
      return true;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { otlpHttpUrl, otlpGrpcEndpoint: `${LOOPBACK}:${otlpGrpc}`, queryUrl, process: proc, stop };
}

interface QueryResponse {
  readonly data?: JaegerTrace[] | null;
}

async function queryTraces(url: string): Promise<JaegerTrace[] | undefined> {
  const res = await httpGet(url, { timeoutMs: 5_000 });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  return (JSON.parse(res.body) as QueryResponse).data ?? [];
}

/** Polls GET /api/traces/{traceId} until the trace has at least `minSpans` spans (default 1). */
export async function getTrace(
  queryUrl: string,
  traceId: string,
  opts: TraceQueryOptions & { readonly minSpans?: number } = {},
): Promise<JaegerTrace> {
  const url = `${queryUrl}/api/traces/${encodeURIComponent(traceId)}`;
  const minSpans = opts.minSpans ?? 1;
  return pollUntil(
    async () => {
      const trace = (await queryTraces(url))?.[0];
      return trace && trace.spans.length >= minSpans ? trace : undefined;
    },
    {
      what: `trace ${traceId} with ${minSpans}+ span(s) in jaeger at ${queryUrl}`,
      timeoutMs: opts.timeoutMs ?? 15_000,
      intervalMs: opts.intervalMs ?? 200,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
  );
}

/** Polls GET /api/traces?service=… until at least `minTraces` (default 1) traces of `service` are found. */
export async function findTraces(
  queryUrl: string,
  service: string,
  opts: TraceQueryOptions & {
    readonly operation?: string;
    readonly minTraces?: number;
    /** Newest traces returned; default 100. */
    readonly limit?: number;
    /** How far back to search, in ms; default 1 h. */
    readonly lookbackMs?: number;
    /** Only traces with a span that has these tags (span attributes), e.g. `{ 'k8s.pod.uid': uid }`. */
    readonly tags?: Readonly<Record<string, string>>;
  } = {},
): Promise<JaegerTrace[]> {
  const minTraces = opts.minTraces ?? 1;
  return pollUntil(
    async () => {
      const end = Date.now() * 1000;
      const params = new URLSearchParams({
        service,
        limit: String(opts.limit ?? 100),
        start: String(end - (opts.lookbackMs ?? 3_600_000) * 1000),
        end: String(end),
      });
      if (opts.operation) params.set('operation', opts.operation);
      if (opts.tags) params.set('tags', JSON.stringify(opts.tags));
      const traces = await queryTraces(`${queryUrl}/api/traces?${params.toString()}`);
      return traces && traces.length >= minTraces ? traces : undefined;
    },
    {
      what: `${minTraces}+ trace(s) of service ${service} in jaeger at ${queryUrl}`,
      timeoutMs: opts.timeoutMs ?? 15_000,
      intervalMs: opts.intervalMs ?? 200,
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
  );
}
