/**
 * A small Kubernetes REST client for the writes of a binding cycle: every
 * call takes the caller's AbortSignal (client-node's generated APIs do not),
 * credentials are re-read from the kubeconfig every few seconds and after a
 * 401 (in-cluster service account tokens rotate), and an answer is a status code plus parsed JSON,
 * so callers decide what 404 or 409 means for them. Each request is a
 * CLIENT span (`POST pods/binding`) whose context travels in `traceparent`,
 * so an API server with tracing on continues the trace.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { SpanKind, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { injectHttpTraceHeaders, UnavailableError, withSpan } from '@schedmesh/runtime';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';

/** The content types of PATCH (kubectl's names for them). */
export const PatchType = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

/** One API answer. */
export interface KubeResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** The API server answered with a status the caller did not expect. */
export class KubeApiError extends UnavailableError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(`${method} ${path}: HTTP ${status} ${reason}: ${message}`);
  }
}

/** Options of {@link KubeApi}. */
export interface KubeApiOptions {
  readonly kubeConfig: KubeConfig;
  /**
   * Budget of one request, in ms (default 10 s): the longest wait for a
   * connection, for the answer's headers, and between two chunks of its body.
   */
  readonly timeoutMs?: number;
  /** Most connections kept open to the API server (default 32). */
  readonly connections?: number;
  /**
   * How long credentials read from the kubeconfig are used before they are
   * read again, in ms (default 5 s; a 401 drops them at once). Reading them
   * builds an https.Agent and the TLS options each time, which cost more than
   * the request; tokens rotate on a scale of minutes (client-node itself
   * re-reads a token file once a minute).
   */
  readonly credentialsTtlMs?: number;
  /** The tracer of the request spans (default: the global provider's). */
  readonly tracer?: Tracer;
}

/** The Kubernetes Status object an API error carries. */
interface StatusBody {
  readonly reason?: string;
  readonly message?: string;
}

/** Where requests go and the headers every one carries, as read from the kubeconfig. */
interface ApiTarget {
  readonly origin: string;
  readonly address: string;
  readonly port: number;
  readonly headers: Readonly<Record<string, string>>;
  /** performance.now() when the kubeconfig was read. */
  readonly readAt: number;
}

/** undici's codes for a request that ran out of its budget. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** A Kubernetes API client over one keep-alive connection pool. */
export class KubeApi {
  private agent: Agent | undefined;
  private target: ApiTarget | undefined;
  private readonly timeoutMs: number;
  private readonly credentialsTtlMs: number;
  private readonly tracer: Tracer;

  constructor(private readonly options: KubeApiOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.credentialsTtlMs = options.credentialsTtlMs ?? 5_000;
    this.tracer = options.tracer ?? trace.getTracer('@schedmesh/mesh');
  }

  /** GET path; 404 is an answer, not an error. */
  get<T>(path: string, signal: AbortSignal): Promise<KubeResponse<T | undefined>> {
    return this.call<T>('GET', path, undefined, undefined, signal, [404]);
  }

  /** POST a JSON body; `accept` lists non-2xx statuses the caller handles itself. */
  post<T>(path: string, body: unknown, signal: AbortSignal, accept: readonly number[] = []): Promise<KubeResponse<T | undefined>> {
    return this.call<T>('POST', path, body, 'application/json', signal, accept);
  }

  /** PATCH with the given patch type. */
  patch<T>(path: string, body: unknown, type: PatchType, signal: AbortSignal, accept: readonly number[] = []): Promise<KubeResponse<T | undefined>> {
    return this.call<T>('PATCH', path, body, type, signal, accept);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    await agent?.close();
  }

  private call<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    body: unknown,
    contentType: string | undefined,
    signal: AbortSignal,
    accept: readonly number[],
  ): Promise<KubeResponse<T | undefined>> {
    const attributes = { 'http.request.method': method, 'url.path': path };
    return withSpan(this.tracer, `${method} ${kubeRoute(path)}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const { agent, target } = await this.connection();
      span.setAttributes({ 'server.address': target.address, 'server.port': target.port });
      const headers: Record<string, string> = { ...target.headers };
      if (contentType) headers['content-type'] = contentType;
      injectHttpTraceHeaders(headers);
      let status: number;
      let text: string;
      try {
        const res = await agent.request({
          origin: target.origin,
          path,
          method,
          headers,
          signal,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const why = TIMEOUT_CODES.has((err as { code?: string }).code ?? '') ? `no answer within ${this.timeoutMs} ms` : (err as Error).message;
        throw new UnavailableError(`${method} ${pathOnly(path)}: the API server is unreachable (${why})`, { cause: err });
      }
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      span.setAttribute('http.response.status_code', status);
      // Credentials the server refuses are read again at once (a rotated token).
      if (status === 401) this.target = undefined;
      if ((status >= 200 && status < 300) || accept.includes(status) || (method === 'GET' && status === 404)) {
        return { status, body: parsed as T | undefined };
      }
      const s = (parsed ?? {}) as StatusBody;
      throw new KubeApiError(method, pathOnly(path), status, s.reason ?? '', s.message ?? text.slice(0, 300));
    });
  }

  /** The connection pool and the target, the credentials read again once they are credentialsTtlMs old. */
  private async connection(): Promise<{ agent: Agent; target: ApiTarget }> {
    const now = performance.now();
    if (this.agent && this.target && now - this.target.readAt < this.credentialsTtlMs) return { agent: this.agent, target: this.target };
    const kc = this.options.kubeConfig;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new UnavailableError('the kubeconfig has no current cluster: set one with `kubectl config use-context`');
    const opts: { headers?: Record<string, unknown>; ca?: unknown; cert?: unknown; key?: unknown; rejectUnauthorized?: boolean; auth?: string } = {};
    await kc.applyToHTTPSOptions(opts);
    this.agent ??= new Agent({
      connections: this.options.connections ?? 32,
      connect: {
        timeout: this.timeoutMs,
        ...(opts.ca !== undefined ? { ca: opts.ca as string } : {}),
        ...(opts.cert !== undefined ? { cert: opts.cert as string } : {}),
        ...(opts.key !== undefined ? { key: opts.key as string } : {}),
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
        ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      },
    });
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [name, value] of Object.entries(opts.headers ?? {})) if (typeof value === 'string') headers[name.toLowerCase()] = value;
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const url = new URL(cluster.server);
    this.target = {
      origin: url.origin,
      address: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      headers,
      readAt: now,
    };
    return { agent: this.agent, target: this.target };
  }
}

function pathOnly(path: string): string {
  const query = path.indexOf('?');
  return query < 0 ? path : path.slice(0, query);
}

/**
 * The low-cardinality name of an API path, for span names: the resource and
 * subresource without namespace or object names
 * ("/api/v1/namespaces/ns/pods/p/binding" → "pods/binding").
 */
export function kubeRoute(path: string): string {
  const parts = path.split('?')[0]!.split('/').filter((p) => p !== '');
  // /api/v1/... or /apis/<group>/<version>/...
  let i = parts[0] === 'apis' ? 3 : 2;
  if (parts[i] === 'namespaces' && parts.length > i + 2) i += 2;
  const resource = parts[i] ?? '';
  const subresource = parts[i + 2];
  return subresource ? `${resource}/${subresource}` : resource;
}

/** The path of a namespaced pod, or of one of its subresources. */
export function podPath(namespace: string, name: string, subresource?: string): string {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
  return subresource ? `${base}/${subresource}` : base;
}
