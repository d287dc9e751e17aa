import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { FailedPreconditionError } from './errors.js';
import { grpcCallRegistry } from './grpc-call-metrics.js';
import { heapSnapshot, profileSeconds, recordCpuProfile } from './profiling.js';

// Registry.merge drops default labels; remember them to put them back.
const defaultLabels = new WeakMap<Registry, Record<string, string>>();

/** A service's Prometheus registry with the process metrics (CPU, memory, event loop lag). */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  defaultLabels.set(registry, { service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * A gauge read at scrape time (`read` runs on each scrape) rather than set on
 * a hot path: a store's generation, its size, whether it is in sync.
 */
export function gauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** Options of {@link startHttpEndpoints}. */
export interface HttpEndpointsOptions {
  /** The service's registry; the gRPC middleware's metrics are added to it. */
  registry: Registry;
  /** Port (0 = any free one). */
  port: number;
  /** Address to bind (default "0.0.0.0" in a pod; tests pass "127.0.0.1"). */
  host?: string;
  /** Readiness for `/readyz` (default: always ready). */
  ready?: () => boolean;
  /** Serve /debug/pprof/profile and /debug/pprof/heap (default false: they expose the process). */
  profiling?: boolean;
  /**
   * A file holding the bearer token that `/metrics` and `/debug/pprof/`
   * require (Prometheus's `authorization.credentials_file`); read at each
   * request, so a rotated Secret applies at once. Probes stay open.
   */
  bearerTokenFile?: string;
}

/** Whether a request carries the bearer token of `file` (compared in constant time). */
function authorized(req: IncomingMessage, file: string): boolean {
  let token: Buffer;
  try {
    token = Buffer.from(readFileSync(file, 'utf8').trim());
  } catch {
    return false;
  }
  const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (token.length === 0 || given === undefined) return false;
  const offered = Buffer.from(given);
  return offered.length === token.length && timingSafeEqual(offered, token);
}

function serveProfiling(path: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
  if (path === '/debug/pprof/profile') {
    let seconds: number;
    try {
      seconds = profileSeconds(query.get('seconds'));
    } catch (err) {
      res.writeHead(400).end(`${(err as Error).message}\n`);
      return;
    }
    const left = new AbortController();
    res.once('close', () => left.abort());
    recordCpuProfile(seconds, left.signal)
      .then((json) =>
        res
          .writeHead(200, { 'content-type': 'application/json', 'content-disposition': `attachment; filename="profile-${Date.now()}.cpuprofile"` })
          .end(json),
      )
      .catch((err: unknown) => res.writeHead(err instanceof FailedPreconditionError ? 409 : 500).end(`${(err as Error).message}\n`));
    return;
  }
  if (path === '/debug/pprof/heap') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-disposition': `attachment; filename="heap-${Date.now()}.heapsnapshot"` });
    const snapshot = heapSnapshot();
    req.once('close', () => snapshot.destroy());
    snapshot.pipe(res);
    return;
  }
  res.writeHead(404).end('not found: /debug/pprof/profile?seconds=N (CPU) or /debug/pprof/heap (heap snapshot)\n');
}

/** The running HTTP endpoints. */
export interface HttpEndpoints {
  /** The bound port. */
  readonly port: number;
  /** Stops listening. */
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text: the service's metrics and the gRPC
 * server/client metrics), `/healthz` (alive) and `/readyz` (ready to serve)
 * for kubelet probes and scrapers.
 */
export async function startHttpEndpoints(options: HttpEndpointsOptions): Promise<HttpEndpoints> {
  const merged = Registry.merge([options.registry, grpcCallRegistry]);
  merged.setDefaultLabels(defaultLabels.get(options.registry) ?? {});
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end('method not allowed\n');
      return;
    }
    const guarded = path === '/metrics' || path?.startsWith('/debug/pprof/') === true;
    if (guarded && options.bearerTokenFile !== undefined && !authorized(req, options.bearerTokenFile)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized: send the bearer token of http.bearerTokenFile\n');
      return;
    }
    if (path === '/metrics') {
      merged
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': merged.contentType }).end(text))
        .catch((err: unknown) => res.writeHead(500).end(`metrics failed: ${(err as Error).message}\n`));
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const ready = options.ready?.() ?? true;
      res.writeHead(ready ? 200 : 503).end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    if (path?.startsWith('/debug/pprof/')) {
      if (!options.profiling) {
        res.writeHead(404).end('profiling is off: set http.profiling=true (SCHEDMESH_HTTP__PROFILING=true) to serve /debug/pprof/\n');
        return;
      }
      serveProfiling(path, new URL(req.url ?? '/', 'http://localhost').searchParams, req, res);
      return;
    }
    res.writeHead(404).end('not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
