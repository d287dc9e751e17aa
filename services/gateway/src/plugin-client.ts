import { SpanKind } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import {
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  halfJitterGenerator,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  retry,
  timeout,
} from 'cockatiel';
import type { CircuitBreakerPolicy, RetryPolicy, TimeoutPolicy } from 'cockatiel';
import type { Pod } from '@schedmesh/proto/v1/types';
import { injectHttpTraceHeaders, withSpan } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { EndpointPolicy } from './endpoint-policy.js';
import { CallCancelledError, PluginCallError } from './failures.js';
import type { BreakerStateName, GatewayMetrics } from './metrics.js';
import type { ResolvedPlugin } from './plugin-config.js';
import { PluginHttp, requestTarget } from './plugin-http.js';
import type { PluginAnswer } from './protocol.js';
import type { InvocationPayload } from './invocation-payload.js';
import { protocols } from './protocols.js';
import type { PluginProtocol } from './protocols.js';
import { readOnlyPoints } from './points.js';
import type { PointName } from './points.js';
import { TtlLruCache } from './result-cache.js';
import { RequestSigner } from './signing.js';

/** One call of one plugin, as the gateway prepares it. */
export interface CallInput {
  point: PointName;
  /** The pod asked about. */
  pod: Pod;
  /** Same for every plugin and every attempt of one invocation. */
  requestId: string;
  /** The pod and nodes, serialized once per invocation and only if some plugin needs them. */
  payload: InvocationPayload;
  /** Names of the nodes sent (answers may only name these). */
  candidates: ReadonlySet<string>;
  /** The caller's signal: aborting it cancels the HTTP request. */
  signal: AbortSignal;
}

/** What a call produced: an answer (maybe from the cache) or a failure. */
export type CallOutcome =
  | { readonly ok: true; readonly answer: PluginAnswer; readonly cached: boolean; readonly durationMs: number }
  | { readonly ok: false; readonly failure: PluginCallError; readonly durationMs: number };

/** Options of {@link PluginClient}. */
export interface PluginClientOptions {
  metrics: GatewayMetrics;
  logger: Logger;
  tracer?: Tracer;
  maxResponseBytes: number;
  /** The addresses the plugin's endpoint name may resolve to. */
  endpoints: EndpointPolicy;
}

const breakerNames: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/**
 * Calls one configured plugin. Policies, outermost first (cockatiel):
 * circuit breaker (a call that failed after its retries counts once; an open
 * breaker refuses at once) → timeout (the plugin's whole budget, retries
 * included, so `timeout` bounds the latency the plugin can add) → retry (read-only
 * points: transient failures; other points: only requests that never reached
 * the plugin) → one HTTP POST. Answers at read-only points are cached when the
 * plugin configures a cache.
 *
 * {@link call} never throws for a plugin failure: it returns it. It rejects
 * only with {@link CallCancelledError} when the caller's signal aborts.
 */
export class PluginClient {
  readonly plugin: ResolvedPlugin;
  readonly #options: PluginClientOptions;
  readonly #http: PluginHttp;
  readonly #protocol: PluginProtocol;
  readonly #signer: RequestSigner;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #timeout: TimeoutPolicy;
  readonly #retryReadOnly: RetryPolicy;
  readonly #retryOther: RetryPolicy;
  readonly #cache: TtlLruCache<PluginAnswer> | undefined;
  #inFlight = 0;
  #retired = false;
  #closed: Promise<void> | undefined;

  constructor(plugin: ResolvedPlugin, options: PluginClientOptions) {
    this.plugin = plugin;
    this.#options = options;
    this.#protocol = protocols[plugin.protocol];
    this.#http = new PluginHttp({ endpoint: plugin.endpoint, maxResponseBytes: options.maxResponseBytes, endpoints: options.endpoints, ...(plugin.tls ? { tls: plugin.tls } : {}) });
    this.#signer = new RequestSigner({
      ...(plugin.jwt ? { jwt: plugin.jwt } : {}),
      ...(plugin.hmac ? { hmac: plugin.hmac } : {}),
      path: requestTarget(plugin.endpoint),
    });
    this.#breaker = circuitBreaker(
      // Only failures that say the plugin is unwell: a 4xx or a malformed answer may be one caller's doing (M7).
      handleWhen((err) => err instanceof PluginCallError && err.unhealthy),
      { halfOpenAfter: plugin.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(plugin.breaker.failures) },
    );
    this.#breaker.onStateChange((state) => {
      const name = breakerNames[state];
      options.metrics.breakerState(plugin.name, name);
      const log = { plugin: plugin.name, breaker: name, ...(state === CircuitState.Open ? { lastFailure: describe(this.#breaker.lastFailure) } : {}) };
      if (state === CircuitState.Open) options.logger.warn(log, 'plugin circuit breaker opened: calls fail fast until a probe succeeds');
      else options.logger.info(log, 'plugin circuit breaker state changed');
    });
    options.metrics.breakerState(plugin.name, 'closed');
    this.#timeout = timeout(plugin.timeoutMs, TimeoutStrategy.Aggressive);
    const retries = plugin.retry.attempts - 1;
    // Half jitter: the n-th delay is between backoff·2ⁿ⁻¹/2 and backoff·2ⁿ⁻¹, never near zero, so replicas do not retry in step.
    const backoff = new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: plugin.retry.backoffMs, maxDelay: plugin.retry.backoffMs * 8 });
    this.#retryReadOnly = retry(handleWhen((err) => err instanceof PluginCallError && err.transient), { maxAttempts: retries, backoff });
    this.#retryOther = retry(handleWhen((err) => err instanceof PluginCallError && err.notDelivered), { maxAttempts: retries, backoff });
    this.#cache = plugin.cache ? new TtlLruCache<PluginAnswer>({ ttlMs: plugin.cache.ttlMs, maxEntries: plugin.cache.maxEntries }) : undefined;
  }

  /** The circuit breaker state now. */
  breakerState(): BreakerStateName {
    return breakerNames[this.#breaker.state];
  }

  /**
   * Calls the plugin at `input.point`. The in-flight count is taken before the
   * first await, so a client retired by a reload in between is not closed
   * under a call that already chose it.
   */
  async call(input: CallInput): Promise<CallOutcome> {
    const { plugin } = this;
    const started = performance.now();
    const cache = readOnlyPoints.has(input.point) ? this.#cache : undefined;
    // The cache belongs to this client, which exists per plugin name and fingerprint (definition and secrets):
    // with the point and the digest of what is sent, nothing another input or configuration produced can match.
    const key = cache ? `${plugin.fingerprint}|${input.point}|${input.payload.contentKey}` : '';
    if (cache) {
      const hit = cache.get(key);
      this.#options.metrics.cache(plugin.name, input.point, hit !== undefined);
      if (hit) return { ok: true, answer: hit, cached: true, durationMs: 0 };
    }
    this.#inFlight++;
    try {
      // Checked outside the breaker: a request the plugin never saw says nothing about its health.
      const body = this.#boundedBody(input);
      const answer = await this.#traced(input, () => this.#breaker.execute(() => this.#guarded(input, body)));
      const durationMs = performance.now() - started;
      this.#options.metrics.callFinished(plugin.name, input.point, 'success', durationMs / 1000);
      cache?.set(key, answer);
      return { ok: true, answer, cached: false, durationMs };
    } catch (err) {
      if (err instanceof CallCancelledError) throw err;
      const durationMs = performance.now() - started;
      const failure = isBrokenCircuitError(err)
        ? breakerOpen(plugin)
        : err instanceof PluginCallError
          ? err
          : new PluginCallError('internal', (err as Error).message, { cause: err });
      if (failure.kind !== 'breaker_open' && failure.kind !== 'request_too_large') this.#options.metrics.callFinished(plugin.name, input.point, 'failure', durationMs / 1000);
      this.#options.metrics.failed(plugin.name, input.point, failure.kind);
      const log = { plugin: plugin.name, point: input.point, kind: failure.kind, reason: failure.message, requestId: input.requestId };
      if (failure.kind === 'breaker_open') this.#options.logger.debug(log, 'plugin call refused by its circuit breaker');
      else this.#options.logger.warn(log, 'plugin call failed');
      return { ok: false, failure, durationMs };
    } finally {
      this.#inFlight--;
      if (this.#retired && this.#inFlight === 0) void this.close();
    }
  }

  /** The request body, or a `request_too_large` failure when it is over the plugin's limits (review M7). */
  #boundedBody(input: CallInput): string {
    const { limits, name } = this.plugin;
    const nodes = input.candidates.size;
    if (nodes > limits.maxNodes) throw tooLarge(`the request has ${nodes} nodes, over the plugin's limits.maxNodes (${limits.maxNodes})`);
    const { podJson, nodesJson } = input.payload;
    const body = this.#protocol.requestBody({ requestId: input.requestId, plugin: name, point: input.point, podJson, nodesJson, pod: input.pod });
    const bytes = Buffer.byteLength(body);
    if (bytes > limits.maxRequestBytes) throw tooLarge(`the request has ${bytes} bytes, over the plugin's limits.maxRequestBytes (${limits.maxRequestBytes})`);
    return body;
  }

  /** Timeout and retries around the HTTP exchange; maps what escapes to PluginCallError or CallCancelledError. */
  async #guarded(input: CallInput, body: string): Promise<PluginAnswer> {
    const retryPolicy = readOnlyPoints.has(input.point) ? this.#retryReadOnly : this.#retryOther;
    // Without retries (the default) the retry policy would only add an AbortController per call.
    const once = this.plugin.retry.attempts === 1;
    try {
      return await this.#timeout.execute(
        ({ signal }) =>
          once ? this.#attempt(input, body, 1, signal) : retryPolicy.execute(({ attempt, signal: attemptSignal }) => this.#attempt(input, body, attempt + 1, attemptSignal), signal),
        input.signal,
      );
    } catch (err) {
      if (input.signal.aborted) throw new CallCancelledError({ cause: err });
      if (err instanceof TaskCancelledError) {
        const message = `no answer within ${this.plugin.timeoutMs} ms`;
        throw new PluginCallError('timeout', message, { reason: message, cause: err });
      }
      throw err;
    }
  }

  async #attempt(input: CallInput, body: string, attempt: number, signal: AbortSignal): Promise<PluginAnswer> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'schedmesh-gateway',
      'x-schedmesh-request-id': input.requestId,
      'x-schedmesh-attempt': String(attempt),
    };
    injectHttpTraceHeaders(headers);
    await this.#signer.sign(headers, body);
    const json = await this.#http.post(body, headers, signal);
    return this.#protocol.interpret(json, { point: input.point, candidates: input.candidates, podJson: input.payload.podJson, tagsAs: this.plugin.tagsAs });
  }

  async #traced<T>(input: CallInput, fn: () => Promise<T>): Promise<T> {
    const { tracer } = this.#options;
    if (!tracer) return fn();
    return withSpan(
      tracer,
      `gateway.plugin ${this.plugin.name}`,
      { kind: SpanKind.CLIENT, attributes: { 'schedmesh.plugin': this.plugin.name, 'schedmesh.plugin.protocol': this.plugin.protocol, 'schedmesh.extension_point': input.point, 'server.address': this.plugin.endpoint.host } },
      fn,
    );
  }

  /** Closes the client once the calls that chose it are done (after a reload replaced it). */
  retire(): void {
    this.#retired = true;
    if (this.#inFlight === 0) void this.close();
  }

  /** Closes the connections (waiting for requests in flight). */
  close(): Promise<void> {
    this.#closed ??= this.#http.close().catch((err: unknown) => {
      this.#options.logger.warn({ plugin: this.plugin.name, err: (err as Error).message }, 'closing plugin connections failed');
    });
    return this.#closed;
  }
}

function tooLarge(what: string): PluginCallError {
  const message = `${what}; not sent`;
  return new PluginCallError('request_too_large', message, { reason: message, unhealthy: false });
}

function breakerOpen(plugin: ResolvedPlugin): PluginCallError {
  const message = `circuit breaker open after ${plugin.breaker.failures} consecutive failures; next probe within ${plugin.breaker.halfOpenAfterMs} ms`;
  return new PluginCallError('breaker_open', message, { reason: message });
}

function describe(reason: { error: Error } | { value: unknown } | undefined): string | undefined {
  if (!reason) return undefined;
  return 'error' in reason ? reason.error.message : 'a result counted as a failure';
}
