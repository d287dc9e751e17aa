/**
 * Everything the runtime does around a served call, in one middleware: a
 * SERVER span parented by the caller's W3C trace context, the
 * grpc_server_* metrics, the in-flight limit per method, the refusal of a
 * request that did not decode, and the mapping of errors to statuses with a
 * log line. One layer instead of five nested async generators: each layer
 * cost its own promises, context switches and label objects on every call.
 */
import { context as otel, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { isAbortError } from 'abort-controller-x';
import { ServerError, Status } from 'nice-grpc';
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from 'nice-grpc-common';
import type { Counter } from 'prom-client';
import { callMetricsOf } from './grpc-call-metrics.js';
import type { MethodMetrics } from './grpc-call-metrics.js';
import { bindGenerator, callTracer, countedMessages, endCallSpan, metadataGetter, methodSpanShape, peerAttributes, perMethod } from './grpc-call-tracing.js';
import type { MethodSpanShape } from './grpc-call-tracing.js';
import {
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from './errors.js';
import type { Logger } from './logger.js';
import { MalformedRequest } from './request-decoding.js';

/** Maps an error a handler threw to a gRPC status; undefined = not recognised. */
export type ErrorClassifier = (err: unknown) => ServerError | undefined;

/** The built-in mapping of runtime domain errors to gRPC statuses. */
export function classifyDomainError(err: unknown): ServerError | undefined {
  if (err instanceof InvalidArgumentError) return new ServerError(Status.INVALID_ARGUMENT, err.message);
  if (err instanceof NotFoundError) return new ServerError(Status.NOT_FOUND, err.message);
  if (err instanceof FailedPreconditionError) return new ServerError(Status.FAILED_PRECONDITION, err.message);
  if (err instanceof UnavailableError) return new ServerError(Status.UNAVAILABLE, err.message);
  if (err instanceof DeadlineExceededError) return new ServerError(Status.DEADLINE_EXCEEDED, err.message);
  if (err instanceof ResourceExhaustedError) return new ServerError(Status.RESOURCE_EXHAUSTED, err.message);
  return undefined;
}

/** Options of {@link serverCallMiddleware}. */
export interface ServerCallOptions {
  readonly logger: Logger;
  /** Extra error mappings, tried before the built-in ones. */
  readonly classifyError?: ErrorClassifier | undefined;
  /** Calls of one method served at once, at most; health checks are never refused. */
  readonly maxInFlightPerMethod: number;
  /** Counts calls refused by the limit, by method. */
  readonly refused?: Counter | undefined;
}

/** What the middleware keeps per method, made on its first call. */
interface MethodState {
  readonly path: string;
  readonly span: MethodSpanShape;
  readonly metrics: MethodMetrics;
  readonly limited: boolean;
  inFlight: number;
}

/** One served call: its method, span and start. */
interface ServedCall {
  readonly method: MethodState;
  readonly span: Span;
  readonly started: number;
}

/**
 * The runtime's server middleware. A call over the in-flight limit is
 * refused RESOURCE_EXHAUSTED at once; a handler's error becomes its status
 * (a ServerError as it is, a domain error by the classifiers, anything else
 * INTERNAL with the trace id, logged at error); the handler runs with the
 * call's span active, so its logs and spans join the caller's trace.
 */
export function serverCallMiddleware(options: ServerCallOptions): ServerMiddleware {
  const { logger, classifyError, maxInFlightPerMethod: limit, refused } = options;
  const metricsOf = callMetricsOf('server');
  const tracer = callTracer();
  const stateOf = perMethod(
    (method): MethodState => ({ path: method.path, span: methodSpanShape(method), metrics: metricsOf(method), limited: !method.path.startsWith('/grpc.health.v1.'), inFlight: 0 }),
  );

  const end = (call: ServedCall, code: Status, details: string | undefined): void => {
    call.method.metrics.handled(code, (performance.now() - call.started) / 1000);
    endCallSpan(call.span, code, details);
  };

  /** Ends a call that failed with `err`; returns what the caller receives. */
  const failed = (call: ServedCall, err: unknown): unknown => {
    const { path } = call.method;
    const ms = elapsed(call.started);
    if (isAbortError(err)) {
      logger.debug({ method: path, ms }, 'grpc call cancelled');
      end(call, Status.CANCELLED, 'The operation was cancelled');
      return err;
    }
    let status = err instanceof ServerError ? err : (classifyError?.(err) ?? classifyDomainError(err));
    if (status) {
      logger.info({ method: path, code: Status[status.code], details: status.details, ms }, 'grpc call failed');
    } else {
      const traceId = call.span.spanContext().traceId;
      logger.error({ method: path, err, ms }, 'grpc handler failed with an unexpected error');
      status = new ServerError(Status.INTERNAL, `internal error in ${path}: ${(err as Error)?.message ?? String(err)}${traceId ? ` (trace ${traceId})` : ''}`);
    }
    end(call, status.code, status.details);
    return status;
  };

  /** Admits a call under the method's limit, or ends it refused. */
  const admit = (call: ServedCall): void => {
    const { method } = call;
    if (method.inFlight >= limit && method.limited) {
      refused?.inc({ method: method.path });
      logger.warn({ method: method.path, inFlight: method.inFlight, limit }, 'grpc call refused: too many calls of this method in flight');
      const refusal = new ServerError(Status.RESOURCE_EXHAUSTED, `${method.path}: ${method.inFlight} calls already in flight (the server's limit per method); retry with backoff`);
      end(call, refusal.code, refusal.details);
      throw refusal;
    }
    method.inFlight++;
  };

  async function serveUnary<Req, Res>(call: ServedCall, next: ServerMiddlewareCall<Req, Res>, ctx: CallContext): Promise<Res> {
    admit(call);
    try {
      if (next.request instanceof MalformedRequest) throw new ServerError(Status.INVALID_ARGUMENT, next.request.details);
      const result = await next.next(next.request as Req, ctx).next();
      if (!result.done) throw new Error('a unary handler yielded a message');
      logger.debug({ method: call.method.path, ms: elapsed(call.started) }, 'grpc call ok');
      end(call, Status.OK, undefined);
      return result.value as Res;
    } catch (err) {
      throw failed(call, err);
    } finally {
      call.method.inFlight--;
    }
  }

  async function* serveStream<Req, Res>(call: ServedCall, next: ServerMiddlewareCall<Req, Res>, ctx: CallContext): AsyncGenerator<Res, Res | void, undefined> {
    admit(call);
    let settled = false;
    try {
      if (!next.requestStream && next.request instanceof MalformedRequest) throw new ServerError(Status.INVALID_ARGUMENT, next.request.details);
      const { metrics } = call.method;
      const request = next.requestStream ? countedMessages(next.request, call.span, 'RECEIVED', metrics.received) : next.request;
      let result: Res | void = undefined;
      if (next.responseStream) {
        yield* countedMessages(next.next(request, ctx), call.span, 'SENT', metrics.sent);
      } else {
        result = yield* next.next(request, ctx);
      }
      settled = true;
      logger.debug({ method: call.method.path, ms: elapsed(call.started) }, 'grpc call ok');
      end(call, Status.OK, undefined);
      return result;
    } catch (err) {
      settled = true;
      throw failed(call, err);
    } finally {
      call.method.inFlight--;
      // The client went away mid-stream: the generator was returned, not thrown into.
      if (!settled) end(call, Status.CANCELLED, 'The stream was closed before it ended');
    }
  }

  return <Req, Res>(call: ServerMiddlewareCall<Req, Res>, ctx: CallContext): AsyncGenerator<Res, Res | void, undefined> => {
    const method = stateOf(call.method);
    const parent = propagation.extract(ROOT_CONTEXT, ctx.metadata, metadataGetter);
    const span = tracer.startSpan(method.span.name, { kind: SpanKind.SERVER, attributes: method.span.attributes }, parent);
    if (span.isRecording()) span.setAttributes(peerAttributes(ctx.peer));
    method.metrics.started();
    const served: ServedCall = { method, span, started: performance.now() };
    const active = trace.setSpan(parent, span);
    if (call.requestStream || call.responseStream) return bindGenerator(active, serveStream(served, call, ctx));
    return unaryGenerator(() => otel.with(active, serveUnary<Req, Res>, undefined, served, call, ctx));
  };
}

/** A unary call's result as the one-step generator nice-grpc expects of a middleware. */
// eslint-disable-next-line require-yield -- a unary call returns its one message and yields none
async function* unaryGenerator<Res>(run: () => Promise<Res>): AsyncGenerator<never, Res, undefined> {
  return await run();
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
