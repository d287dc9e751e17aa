/**
 * Everything the runtime does around an outgoing call, in one middleware: a
 * CLIENT span whose W3C trace context goes out in the metadata, the
 * grpc_client_* metrics, the call's deadline (its own or the client's
 * default, covering every retry), and retries of idempotent methods. One
 * layer instead of four nested async generators (OpenTelemetry, Prometheus,
 * deadline, retry), with the same options as nice-grpc's deadline and retry
 * middlewares.
 */
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { delay, isAbortError, rethrowAbortError } from 'abort-controller-x';
import { ClientError, Metadata, Status } from 'nice-grpc-common';
import type { CallOptions, ClientMiddleware, ClientMiddlewareCall } from 'nice-grpc-common';
import { callMetricsOf } from './grpc-call-metrics.js';
import type { MethodMetrics } from './grpc-call-metrics.js';
import { callTracer, countedMessages, endCallSpan, metadataSetter, methodSpanShape, perMethod } from './grpc-call-tracing.js';
import type { MethodSpanShape } from './grpc-call-tracing.js';

/** Per-call options every schedmesh client accepts (those of nice-grpc's deadline and retry middlewares). */
export interface MeshCallOptions {
  /** When the call (every retry included) is cancelled with DEADLINE_EXCEEDED: a Date, or ms from now. */
  deadline?: Date | number;
  /** Retry this call (default: whether the proto marks the method IDEMPOTENT or NO_SIDE_EFFECTS). Unary calls only. */
  retry?: boolean;
  /** First retry delay in ms; each next one doubles, with jitter (default 1,000). */
  retryBaseDelayMs?: number;
  /** Longest retry delay in ms (default 30,000). */
  retryMaxDelayMs?: number;
  /** Retries after the first call (default 1). */
  retryMaxAttempts?: number;
  /** Called before each retry's delay. */
  onRetryableError?: (error: ClientError, attempt: number, delayMs: number) => void;
  /** Statuses worth another attempt (default UNKNOWN, INTERNAL, UNAVAILABLE, CANCELLED: a server that shuts down answers CANCELLED). */
  retryableStatuses?: Status[];
}

const RETRYABLE: readonly Status[] = [Status.UNKNOWN, Status.INTERNAL, Status.UNAVAILABLE, Status.CANCELLED];

interface MethodState {
  readonly span: MethodSpanShape;
  readonly metrics: MethodMetrics;
  readonly idempotent: boolean;
}

/** The runtime's client middleware (see the file's comment). */
export function clientCallMiddleware(): ClientMiddleware<MeshCallOptions> {
  const metricsOf = callMetricsOf('client');
  const tracer = callTracer();
  const stateOf = perMethod((method): MethodState => {
    const level = method.options.idempotencyLevel;
    return { span: methodSpanShape(method), metrics: metricsOf(method), idempotent: level === 'IDEMPOTENT' || level === 'NO_SIDE_EFFECTS' };
  });

  return async function* callWithin<Req, Res>(call: ClientMiddlewareCall<Req, Res>, options: CallOptions & MeshCallOptions): AsyncGenerator<Res, Res | void, undefined> {
    const method = stateOf(call.method);
    const span = tracer.startSpan(method.span.name, { kind: SpanKind.CLIENT, attributes: method.span.attributes });
    const metadata = Metadata(options.metadata);
    propagation.inject(trace.setSpan(context.active(), span), metadata, metadataSetter);
    method.metrics.started();
    const started = performance.now();
    const { deadline, retry = method.idempotent, retryBaseDelayMs = 1_000, retryMaxDelayMs = 30_000, retryMaxAttempts = 1, onRetryableError, retryableStatuses = RETRYABLE, ...rest } = options;

    // The deadline: one timer over every attempt, aborting the signal the attempts share.
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let unlink: (() => void) | undefined;
    let signal = rest.signal;
    if (deadline != null && !signal?.aborted) {
      const abort = new AbortController();
      const outer = signal;
      if (outer) {
        const forward = (): void => abort.abort();
        outer.addEventListener('abort', forward);
        unlink = () => outer.removeEventListener('abort', forward);
      }
      timer = setTimeout(
        () => {
          timedOut = true;
          abort.abort();
        },
        deadline instanceof Date ? deadline.getTime() - Date.now() : deadline,
      );
      signal = abort.signal;
    }
    const next = { ...rest, metadata, ...(signal ? { signal } : {}) };

    let code = Status.OK;
    let details: string | undefined;
    let settled = false;
    try {
      if (call.requestStream || call.responseStream) {
        const request = call.requestStream ? countedMessages(call.request, span, 'SENT', method.metrics.sent) : call.request;
        if (call.responseStream) {
          yield* countedMessages(call.next(request, next), span, 'RECEIVED', method.metrics.received);
          settled = true;
          return;
        }
        const response = yield* call.next(request, next);
        settled = true;
        return response;
      }
      for (let attempt = 0; ; attempt++) {
        try {
          const response = yield* call.next(call.request, next);
          settled = true;
          return response;
        } catch (err) {
          rethrowAbortError(err);
          if (!retry || attempt >= retryMaxAttempts || !(err instanceof ClientError) || !retryableStatuses.includes(err.code)) throw err;
          // Exponential backoff with full jitter's upper half (aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter).
          const backoff = Math.min(retryMaxDelayMs, 2 ** attempt * retryBaseDelayMs);
          const delayMs = Math.round((backoff * (1 + Math.random())) / 2);
          onRetryableError?.(err, attempt, delayMs);
          await delay(signal ?? new AbortController().signal, delayMs);
        }
      }
    } catch (err) {
      settled = true;
      if (timedOut) {
        code = Status.DEADLINE_EXCEEDED;
        details = 'Deadline exceeded';
        throw new ClientError(call.method.path, code, details);
      }
      if (err instanceof ClientError) [code, details] = [err.code, err.details];
      else if (isAbortError(err)) [code, details] = [Status.CANCELLED, 'The operation was cancelled'];
      else {
        [code, details] = [Status.UNKNOWN, 'Unknown server error occurred'];
        span.recordException(err as Error);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      unlink?.();
      if (!settled) [code, details] = [Status.CANCELLED, 'Stream iteration was aborted by the client'];
      method.metrics.handled(code, (performance.now() - started) / 1000);
      endCallSpan(span, code, details);
    }
  };
}
