/**
 * The extender's HTTP server: POST <prefix>/filter, /prioritize, /bind and
 * /preempt, as kube-scheduler calls them, plus GET /healthz. It maps HTTP to
 * the verbs and nothing else:
 *
 * - a body over the limit is 413, an unreadable one (bad JSON, wrong types,
 *   a pod or node that cannot be converted) is 400 naming what is wrong —
 *   no verb runs, so no lease is taken and nothing is written;
 * - a logical failure is 200 with the result's Error set, as the protocol
 *   expects (kube-scheduler reads the Error field);
 * - every verb runs under a deadline shorter than kube-scheduler's
 *   httpTimeout, and is cancelled when the caller goes away;
 * - every verb call is a SERVER span (`POST /filter`) parented by the
 *   request's `traceparent` when kube-scheduler sends one, else the root of
 *   a trace of its own: the attempt's `schedule_one` runs under it.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { httpTraceContext, withSpan } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { Counter, Histogram } from 'prom-client';
import { bindVerb } from './verbs/bind.js';
import type { VerbDeps } from './verbs/deps.js';
import { filterVerb } from './verbs/filter.js';
import { preemptVerb } from './verbs/preempt.js';
import { prioritizeVerb } from './verbs/prioritize.js';
import { BodyTooLargeError, parseBindingArgs, parseExtenderArgs, parseJson, parsePreemptionArgs, WireError } from './wire.js';

/** The verbs a server serves (tests pass fakes). */
export interface Verbs {
  filter: typeof filterVerb;
  prioritize: typeof prioritizeVerb;
  bind: typeof bindVerb;
  preempt: typeof preemptVerb;
}

/** The real verbs over the mesh. */
export const meshVerbs: Verbs = { filter: filterVerb, prioritize: prioritizeVerb, bind: bindVerb, preempt: preemptVerb };

/** Options of {@link startExtenderServer}. */
export interface ExtenderServerOptions {
  readonly deps: VerbDeps;
  readonly verbs?: Verbs;
  readonly host: string;
  readonly port: number;
  /** The path prefix of the verbs ("" or "/scheduler"): urlPrefix's path. */
  readonly pathPrefix: string;
  /** Largest body read, in bytes. */
  readonly maxBodyBytes: number;
  /** Deadline of one verb, in ms (keep it under kube-scheduler's httpTimeout, 5 s by default). */
  readonly verbTimeoutMs: number;
  /** PEM certificate and key: serve HTTPS (kube-scheduler's enableHTTPS / tlsConfig). */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly logger: Logger;
  /** The tracer of the verb spans (default: the global provider's). */
  readonly tracer?: Tracer;
  readonly metrics?: { readonly requests: Counter<'verb' | 'code'>; readonly seconds: Histogram<'verb'> };
}

/** A listening extender server. */
export interface ExtenderServer {
  readonly port: number;
  /** http(s)://host:port plus the path prefix: the urlPrefix for kube-scheduler. */
  readonly urlPrefix: string;
  close(): Promise<void>;
}

type Verb = 'filter' | 'prioritize' | 'bind' | 'preempt';
const VERBS = new Set<string>(['filter', 'prioritize', 'bind', 'preempt']);

/** Reads the body up to `limit` bytes; more is a BodyTooLargeError (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLargeError(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, code: number, body: unknown, close = false): void {
  // Encoded once: its length is the header's, and the bytes are what is written.
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(code, close ? { 'content-type': 'application/json', 'content-length': bytes.length, connection: 'close' } : { 'content-type': 'application/json', 'content-length': bytes.length });
  res.end(bytes);
}

/** Starts the server; resolves once it listens. */
export async function startExtenderServer(options: ExtenderServerOptions): Promise<ExtenderServer> {
  const verbs = options.verbs ?? meshVerbs;
  const prefix = options.pathPrefix.replace(/\/+$/, '');
  const { logger, deps } = options;
  const tracer = options.tracer ?? trace.getTracer('schedmesh-extender');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && (path === '/healthz' || path === `${prefix}/healthz`)) {
      send(res, 200, { status: 'ok' });
      return;
    }
    const verb = path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : '';
    if (!VERBS.has(verb)) {
      send(res, 404, { Error: `no such verb ${JSON.stringify(path)}: POST ${prefix}/filter, ${prefix}/prioritize, ${prefix}/bind or ${prefix}/preempt` });
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      send(res, 405, { Error: `${verb} takes POST, not ${req.method ?? '?'}` });
      return;
    }
    const started = performance.now();
    const route = `${prefix}/${verb}`;
    const code = await withSpan(
      tracer,
      `POST ${route}`,
      { kind: SpanKind.SERVER, parent: httpTraceContext(req.headers), attributes: { 'http.request.method': 'POST', 'http.route': route, 'schedmesh.extender.verb': verb } },
      async (span) => {
        const status = await serveVerb(verb as Verb, req, res);
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return status;
      },
    );
    options.metrics?.requests.inc({ verb, code: String(code) });
    options.metrics?.seconds.observe({ verb }, (performance.now() - started) / 1000);
  };

  const serveVerb = async (verb: Verb, req: IncomingMessage, res: ServerResponse): Promise<number> => {
    let json: unknown;
    try {
      json = parseJson(await readBody(req, options.maxBodyBytes));
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        // The rest of the body is not read: close the connection rather than drain it.
        send(res, 413, { Error: err.message }, true);
        return 413;
      }
      if (err instanceof WireError) {
        send(res, 400, { Error: err.message });
        return 400;
      }
      throw err;
    }
    // One controller and one timer per call, both gone when it ends: composite and timeout signals cost more than the verb's own work here.
    const cancel = new AbortController();
    const { signal } = cancel;
    const deadline = setTimeout(() => cancel.abort(new Error(`${verb} did not finish within ${options.verbTimeoutMs} ms`)), options.verbTimeoutMs);
    // 'close' also follows a response sent in full: only a caller that left before it cancels the verb.
    res.once('close', () => {
      if (!res.writableFinished) cancel.abort(new Error('the caller closed the connection'));
    });
    try {
      switch (verb) {
        case 'filter':
          send(res, 200, await verbs.filter(deps, parseExtenderArgs(json), signal));
          return 200;
        case 'prioritize':
          send(res, 200, await verbs.prioritize(deps, parseExtenderArgs(json), signal));
          return 200;
        case 'bind':
          send(res, 200, await verbs.bind(deps, parseBindingArgs(json), signal));
          return 200;
        case 'preempt':
          send(res, 200, await verbs.preempt(deps, parsePreemptionArgs(json), signal));
          return 200;
      }
    } catch (err) {
      if (err instanceof WireError) {
        send(res, 400, { Error: err.message });
        return 400;
      }
      const message = signal.aborted ? (signal.reason as Error).message : (err as Error).message;
      logger.warn({ verb, err: message }, 'extender verb failed');
      // prioritize's and preempt's results have no Error field: kube-scheduler learns of a failure from the status.
      if (verb === 'prioritize' || verb === 'preempt') {
        send(res, 503, { Error: message });
        return 503;
      }
      // A verb's own failure (the API server unreachable, a deadline): the protocol's Error, with 200.
      send(res, 200, verb === 'filter' ? { Nodes: null, NodeNames: null, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: message } : { Error: message });
      return 200;
    } finally {
      clearTimeout(deadline);
    }
    return 200;
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'extender request failed');
      if (!res.headersSent) send(res, 500, { Error: (err as Error).message });
      else res.destroy();
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return {
    port,
    urlPrefix: `${options.tls ? 'https' : 'http'}://${host}:${port}${prefix}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
