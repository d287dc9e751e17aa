import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import { verifyBearerJwt, verifyHmacSignature } from './verify.js';
import type { HmacVerifierOptions, JwtVerifierOptions } from './verify.js';

/**
 * An example REST plugin for the schedmesh gateway ("cost-tracking"), in
 * plain node:http/https. It speaks schedmesh.io/plugin/v1, checks the
 * gateway's HMAC signature and JWT when configured to, and is used by the
 * gateway's tests, its benchmark and the documentation.
 *
 * Its rules:
 * - preFilter: a pod without a `cost-center` label is UnschedulableAndUnresolvable;
 * - filter: nodes labelled `schedmesh.io/cost-tier: premium` only take pods labelled `cost-tier: premium`;
 * - score: cheaper nodes (label `schedmesh.io/hourly-cost`, in cents) score higher, 0..100;
 * - preBind: the pod gets the annotation `schedmesh.io/cost-center` and the label `schedmesh.io/cost-tracked: "true"`;
 * - any other point: Success.
 *
 * Each request is a SERVER span that continues the gateway's trace from the
 * `traceparent` header, named after the extension point ("preBind
 * cost-tracking"); main.ts exports it when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */

export const API_VERSION = 'schedmesh.io/plugin/v1';

/** The parts of a v1 request this plugin reads. */
export interface PluginRequest {
  apiVersion: string;
  kind: string;
  requestId: string;
  plugin: string;
  extensionPoint: string;
  pod: { uid: string; namespace?: string; name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  nodes: Array<{ name: string; labels?: Record<string, string> }>;
}

/** What to send back: a v1 body (JSON), or anything else for tests. */
export interface Reply {
  /** HTTP status (default 200). */
  status?: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is instead of `body` (malformed answers). */
  raw?: string;
  /** Extra response headers (a redirect's Location). */
  headers?: Record<string, string>;
  /** Wait this long first (slow plugins); cut short if the gateway hangs up. */
  delayMs?: number;
}

/** A request the plugin received. */
export interface ReceivedRequest {
  readonly body: PluginRequest;
  readonly headers: IncomingHttpHeaders;
  /** Set when the client went away before the answer was sent (cancellation). */
  aborted: boolean;
}

/** Options of {@link startExamplePlugin}. */
export interface ExamplePluginOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Serve https; with clientCaFile, require a client certificate signed by it (mTLS). */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Require a valid HMAC signature. */
  hmac?: HmacVerifierOptions;
  /** Require a valid bearer JWT. */
  jwt?: JwtVerifierOptions;
  /** The tracer of the request spans (default: the global provider's). */
  tracer?: Tracer;
  /** Decides each answer; default {@link costTrackingRules}, which also refuses (400) any apiVersion but v1. */
  decide?: (request: PluginRequest, received: ReceivedRequest) => Reply | Promise<Reply>;
}

/** A running example plugin. */
export interface ExamplePlugin {
  /** The endpoint to configure ("http://127.0.0.1:PORT/"). */
  readonly url: string;
  readonly port: number;
  /** Every request that passed authentication, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Requests refused by authentication, with the reason. */
  readonly refused: Array<{ status: number; reason: string }>;
  close(): Promise<void>;
}

/** The cost-tracking rules (see the file comment). */
export function costTrackingRules(request: PluginRequest): Reply {
  const labels = request.pod.labels ?? {};
  const costCenter = labels['cost-center'];
  const ok = (extra: Record<string, unknown> = {}): Reply => ({ body: { apiVersion: API_VERSION, kind: 'PluginResponse', status: 'Success', ...extra } });
  switch (request.extensionPoint) {
    case 'preFilter':
      return costCenter
        ? ok()
        : { body: { apiVersion: API_VERSION, status: 'UnschedulableAndUnresolvable', reasons: ['pod has no cost-center label'] } };
    case 'filter': {
      const premiumPod = labels['cost-tier'] === 'premium';
      const rejected = request.nodes
        .filter((n) => n.labels?.['schedmesh.io/cost-tier'] === 'premium' && !premiumPod)
        .map((n) => ({ node: n.name, status: 'Unschedulable', reasons: ['premium node reserved for premium cost centers'] }));
      return ok({ rejected });
    }
    case 'score': {
      const costs = request.nodes.map((n) => [n.name, Number(n.labels?.['schedmesh.io/hourly-cost'] ?? Number.NaN)] as const);
      const known = costs.filter(([, c]) => Number.isFinite(c)).map(([, c]) => c);
      const min = Math.min(...known);
      const max = Math.max(...known);
      const scores = Object.fromEntries(
        costs.map(([name, cost]) => [name, !Number.isFinite(cost) || max === min ? 50 : Math.round((100 * (max - cost)) / (max - min))]),
      );
      return ok({ scores });
    }
    case 'preBind':
      return ok({ patch: { labels: { 'schedmesh.io/cost-tracked': 'true' }, annotations: { 'schedmesh.io/cost-center': costCenter ?? 'unknown' } } });
    default:
      return ok();
  }
}

/** Starts the plugin. */
export async function startExamplePlugin(options: ExamplePluginOptions = {}): Promise<ExamplePlugin> {
  const requests: ReceivedRequest[] = [];
  const refused: Array<{ status: number; reason: string }> = [];
  const decide = options.decide ?? costTrackingRules;
  const tracer = options.tracer ?? trace.getTracer('rest-plugin-example');

  const handle = async (req: IncomingMessage, res: ServerResponse, span: Span): Promise<void> => {
    if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);

    if (options.hmac) {
      const check = verifyHmacSignature(req, raw, options.hmac);
      if (!check.ok) {
        refused.push({ status: 401, reason: check.reason });
        return send(res, 401, { error: check.reason, message: check.message });
      }
    }
    if (options.jwt) {
      const check = await verifyBearerJwt(req.headers.authorization, options.jwt);
      if (!check.ok) {
        refused.push({ status: 401, reason: check.reason });
        return send(res, 401, { error: check.reason, message: check.message });
      }
    }
    let body: PluginRequest;
    try {
      body = JSON.parse(raw.toString('utf8')) as PluginRequest;
    } catch {
      return send(res, 400, { error: 'the body is not JSON' });
    }
    // The cost-tracking rules speak v1 only; a custom `decide` may speak another protocol (verdict, dstack's apply policy).
    if (!options.decide && body.apiVersion !== API_VERSION) return send(res, 400, { error: `unsupported apiVersion ${JSON.stringify(body.apiVersion)}` });
    span.updateName(`${body.extensionPoint ?? 'request'} ${body.plugin ?? ''}`.trim());
    span.setAttributes({ 'schedmesh.plugin': body.plugin ?? '', 'schedmesh.extension_point': body.extensionPoint ?? '', 'k8s.pod.uid': body.pod?.uid ?? '', 'schedmesh.nodes': body.nodes?.length ?? 0 });

    const received: ReceivedRequest = { body, headers: req.headers, aborted: false };
    requests.push(received);
    res.once('close', () => {
      if (!res.writableFinished) received.aborted = true;
    });
    const reply = await decide(body, received);
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, reply.delayMs);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (received.aborted || res.destroyed) return;
    }
    if (reply.raw !== undefined) {
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(reply.raw);
      return;
    }
    send(res, reply.status ?? 200, reply.body ?? {}, reply.headers);
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(`${req.method ?? 'GET'} /`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '' } }, parent);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => handle(req, res, span)).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  };
  const tls = options.tls;
  const server: Server = tls
    ? createHttpsServer(
        {
          cert: readFileSync(tls.certFile),
          key: readFileSync(tls.keyFile),
          ...(tls.clientCaFile ? { ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
        },
        listener,
      )
    : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    requests,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}
