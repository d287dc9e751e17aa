import { SchedmeshError } from '@schedmesh/runtime';

/**
 * Why a plugin call failed, as counted in `schedmesh_gateway_plugin_errors_total`:
 * - timeout: no answer within the plugin's timeout (retries included);
 * - http_status: the plugin answered with a non-2xx status;
 * - bad_response: the answer is not valid JSON, has an unknown apiVersion or
 *   breaks the v1 response schema;
 * - breaker_open: the plugin's circuit breaker is open, so it was not called;
 * - network: no HTTP exchange (refused, reset, TLS handshake failure, DNS);
 * - internal: the gateway could not build the request (signing failed);
 * - request_too_large: the request is over the plugin's `limits`, so it was not sent.
 */
export type FailureKind = 'timeout' | 'http_status' | 'bad_response' | 'breaker_open' | 'network' | 'internal' | 'request_too_large';

/** Every failure kind (metrics are pre-initialized with them). */
export const failureKinds: readonly FailureKind[] = ['timeout', 'http_status', 'bad_response', 'breaker_open', 'network', 'internal', 'request_too_large'];

/** What the caller is told for each kind, when the failure does not say more: gateway-authored text only. */
const genericReasons: Record<FailureKind, string> = {
  timeout: 'no answer in time',
  http_status: 'the plugin answered with an error status',
  bad_response: 'the answer breaks the plugin protocol (the gateway log has the details)',
  breaker_open: 'the plugin circuit breaker is open',
  network: 'the connection to the plugin failed',
  internal: 'the gateway could not build the request',
  request_too_large: "the request is over the plugin's limits and was not sent",
};

/**
 * One failed call to a plugin. It never leaves the gateway: the failurePolicy
 * turns it into a result. `message` is the diagnosis for the gateway's log
 * (it may quote the plugin's answer, redacted); `reason` is what the caller
 * is told, and holds no byte the plugin sent.
 */
export class PluginCallError extends SchedmeshError {
  readonly kind: FailureKind;
  /** For the caller: written by the gateway, never a quote of the plugin's answer. */
  readonly reason: string;
  /** A repeat of the same request may succeed (5xx, 429, a reset connection). */
  readonly transient: boolean;
  /** The request provably never reached the plugin (connection refused, DNS), so repeating it is safe at any point. */
  readonly notDelivered: boolean;
  /**
   * The failure says the plugin itself is unwell (a 5xx, a timeout, a failed
   * connection), so it counts towards opening the circuit breaker. A 4xx or a
   * malformed answer may be caused by one caller's input and does not.
   */
  readonly unhealthy: boolean;
  constructor(
    kind: FailureKind,
    message: string,
    options: { reason?: string; transient?: boolean; notDelivered?: boolean; unhealthy?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.reason = options.reason ?? genericReasons[kind];
    this.transient = options.transient ?? false;
    this.notDelivered = options.notDelivered ?? false;
    this.unhealthy = options.unhealthy ?? (kind === 'timeout' || kind === 'network');
  }
}

/** The caller (the gRPC call) went away; the invocation stops and nothing is counted against the plugin. */
export class CallCancelledError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('The operation was aborted', options);
    // The runtime's error middleware passes errors named AbortError through as cancellations.
    this.name = 'AbortError';
  }
}
