import { Pool } from 'undici';
import type { EndpointPolicy } from './endpoint-policy.js';
import { PluginCallError } from './failures.js';
import { guardedLookup } from './guarded-lookup.js';
import type { Resolver } from './guarded-lookup.js';
import type { ResolvedTls } from './plugin-config.js';

/** Options of {@link PluginHttp}. */
export interface PluginHttpOptions {
  endpoint: URL;
  tls?: ResolvedTls;
  /** Connections kept to the endpoint (default 16). */
  connections?: number;
  /** Largest response body accepted, in bytes. */
  maxResponseBytes: number;
  /** Idle keep-alive time of a connection, in ms (default 30 s). */
  keepAliveMs?: number;
  /** The addresses a resolved endpoint name may connect to. */
  endpoints: EndpointPolicy;
  /** How names resolve (default dns.lookup); tests give names the addresses no resolver here would. */
  resolve?: Resolver;
}

// Errors raised before any byte of the request left: repeating is safe at any point.
const notDeliveredCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
// Transport failures where a repeat may well succeed.
const transientCodes = new Set([...notDeliveredCodes, 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * The HTTP side of one plugin: a keep-alive connection pool to its endpoint
 * (with the plugin's TLS client certificate and CA, if any) and one POST per
 * call. Every failure comes out as a {@link PluginCallError} of kind
 * network, http_status or bad_response; an aborted `signal` rejects with the
 * abort itself so the caller can tell a timeout or cancellation from a failure.
 */
export class PluginHttp {
  readonly #pool: Pool;
  readonly #path: string;

  constructor(options: PluginHttpOptions) {
    const { endpoint, tls } = options;
    this.#path = requestTarget(endpoint);
    this.#pool = new Pool(endpoint.origin, {
      connections: options.connections ?? 16,
      keepAliveTimeout: options.keepAliveMs ?? 30_000,
      maxResponseSize: options.maxResponseBytes,
      connect: {
        lookup: guardedLookup(options.endpoints, options.resolve),
        ...(endpoint.protocol === 'https:'
          ? {
              rejectUnauthorized: true,
              ...(tls?.ca ? { ca: tls.ca } : {}),
              ...(tls ? { cert: tls.cert, key: tls.key.reveal() } : {}),
              ...(tls?.serverName ? { servername: tls.serverName } : {}),
            }
          : {}),
      },
    });
  }

  /** POSTs a JSON body and returns the parsed JSON answer of a 2xx response. */
  async post(body: string, headers: Record<string, string>, signal: AbortSignal): Promise<unknown> {
    let response: Awaited<ReturnType<Pool['request']>>;
    try {
      response = await this.#pool.request({ path: this.#path, method: 'POST', headers, body, signal });
    } catch (err) {
      throw this.#transportError(err, signal);
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (err) {
      throw this.#transportError(err, signal);
    }
    const status = response.statusCode;
    if (status < 200 || status > 299) {
      // 5xx, 429 and 408 are the plugin saying "not now"; other statuses would come back the same.
      const transient = status >= 500 || status === 429 || status === 408;
      throw new PluginCallError('http_status', `HTTP ${status}${text ? `: ${redactedSnippet(text)}` : ''}`, { reason: `HTTP ${status}`, transient, unhealthy: status >= 500 });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new PluginCallError('bad_response', `the response is not JSON (${(err as Error).message}): ${redactedSnippet(text)}`, { reason: 'the response is not JSON', cause: err });
    }
  }

  /** Closes the connections once the requests in flight are done. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  #transportError(err: unknown, signal: AbortSignal): unknown {
    if (signal.aborted) return err;
    const code = (err as { code?: string }).code ?? '';
    if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
      const reason = 'the response body is larger than gateway.maxResponseBytes';
      return new PluginCallError('bad_response', reason, { reason, cause: err });
    }
    const message = (err as Error).message || code || String(err);
    return new PluginCallError('network', `${code && !message.includes(code) ? `${code}: ` : ''}${message}`, {
      // The code only: the message names addresses, which would tell a caller what the gateway can reach.
      reason: /^[A-Z][A-Z0-9_]*$/.test(code) ? `the connection to the plugin failed (${code})` : 'the connection to the plugin failed',
      cause: err,
      transient: transientCodes.has(code),
      notDelivered: notDeliveredCodes.has(code),
    });
  }
}

/** The request target of an endpoint as sent on the request line: path and query. */
export function requestTarget(endpoint: URL): string {
  return `${endpoint.pathname}${endpoint.search}`;
}

// Values after names like these are credentials a plugin may have leaked into an error page.
const credentialPairs = /\b(password|passwd|pwd|secret|token|api[-_]?key|authorization|bearer|credentials?)\b(\s*[:=]\s*|\s+)("[^"]*"|'[^']*'|[^\s,;&"'}]+)/gi;

/** One line of at most 200 characters of an answer, for the gateway's log: control characters dropped, credential-looking values redacted. */
export function redactedSnippet(text: string): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ').replace(/\s+/g, ' ').trim();
  const redacted = oneLine.replace(credentialPairs, (_m, name: string, sep: string) => `${name}${sep}[redacted]`);
  return redacted.length > 200 ? `${redacted.slice(0, 200)}…` : redacted;
}
