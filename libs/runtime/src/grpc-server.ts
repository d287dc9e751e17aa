import { experimental, ServerCredentials } from '@grpc/grpc-js';
import type { ServerInterceptor } from '@grpc/grpc-js';
import type { Counter } from 'prom-client';
import { isAbortError } from 'abort-controller-x';
import { createServer, ServerError, Status } from 'nice-grpc';
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from 'nice-grpc-common';
import { openTelemetryServerMiddleware } from 'nice-grpc-opentelemetry';
import { prometheusServerMiddleware } from 'nice-grpc-prometheus';
import { HealthDefinition, HealthServiceImpl, HealthState } from 'nice-grpc-server-health';
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection';
import { fileDescriptorSet } from '@schedmesh/proto/descriptor';
import {
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from './errors.js';
import type { Logger } from './logger.js';
import { malformedRequestMiddleware, withMalformedRequests } from './request-decoding.js';
import { activeTraceId } from './telemetry.js';
import { ReloadingPemFiles } from './tls-files.js';

/** TLS material of a server, as PEM file paths. */
export interface ServerTlsOptions {
  /** Server certificate chain. */
  certFile: string;
  /** Server private key. */
  keyFile: string;
  /** CA that signs client certificates; with it, clients must present one (mTLS). */
  clientCaFile?: string;
  /** How often the files are read again, in ms, so rotated certificates apply without a restart. */
  reloadInterval?: number;
}

/** Maps an error a handler threw to a gRPC status; undefined = not recognised. */
export type ErrorClassifier = (err: unknown) => ServerError | undefined;

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  /** The logger; every call's outcome and every internal error is logged with its trace id. */
  logger: Logger;
  /** Largest request accepted, in bytes (default 16 MiB). */
  maxReceiveMessageBytes?: number;
  /** Largest response sent, in bytes (default 64 MiB: a full snapshot frame). */
  maxSendMessageBytes?: number;
  /** TLS (and mTLS with clientCaFile); plaintext without it. */
  tls?: ServerTlsOptions;
  /** Extra error mappings, tried before the built-in ones (e.g. a library's validation errors). */
  classifyError?: ErrorClassifier;
  /**
   * grpc-js interceptors, run before nice-grpc's middleware sees a call (the
   * authorization check: it needs the connection's peer certificate).
   */
  interceptors?: ServerInterceptor[];
  /**
   * Calls of one method served at once, at most (default 1,000); the next is
   * refused RESOURCE_EXHAUSTED at once rather than queued without bound.
   * Health checks are never refused.
   */
  maxInFlightPerMethod?: number;
  /** Concurrent streams (calls) per HTTP/2 connection (default 1,000). */
  maxConcurrentStreams?: number;
  /** Counts calls refused by maxInFlightPerMethod, by method. */
  refused?: Counter;
}

/** Something with a full protobuf service name, as ts-proto's generic definitions have. */
interface NamedDefinition {
  readonly fullName: string;
}

/** A gRPC server with health, reflection, telemetry, metrics and graceful shutdown. */
export interface GrpcServer {
  /**
   * Registers a service. Its health starts NOT_SERVING until {@link setServing}.
   * Call before {@link listen}.
   */
  add<D extends NamedDefinition>(definition: D, implementation: Parameters<ReturnType<typeof createServer>['add']>[1] & object): void;
  /** Binds ("127.0.0.1:0" picks a free port) and returns the port. */
  listen(address: string): Promise<number>;
  /** Sets grpc.health.v1 status of every registered service and of the server ("" service). */
  setServing(serving: boolean): void;
  /** The health state (per-service control). */
  readonly health: HealthState;
  /**
   * Graceful shutdown: reports NOT_SERVING, stops accepting calls, lets
   * in-flight calls finish for up to `graceMs`, then cancels what is left.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * Creates the standard schedmesh gRPC server. Middleware, outermost first:
 * OpenTelemetry (a SERVER span per call, parented by the caller's W3C trace
 * context), Prometheus (grpc_server_* latency histograms and counters per
 * method and code), then the error mapper (domain errors → status codes; an
 * unknown error becomes INTERNAL and is logged, never leaked as UNKNOWN).
 */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const { logger } = options;
  const server = createServer({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 16 * 1024 * 1024,
    'grpc.max_send_message_length': options.maxSendMessageBytes ?? 64 * 1024 * 1024,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? 1_000,
    // grpc-js takes interceptors with its channel options; nice-grpc passes them through.
    ...({ interceptors: options.interceptors ?? [] } as object),
  })
    .use(openTelemetryServerMiddleware())
    .use(prometheusServerMiddleware())
    .use(inFlightLimitMiddleware(options.maxInFlightPerMethod ?? 1_000, logger, options.refused))
    .use(errorMiddleware(logger, options.classifyError))
    .use(malformedRequestMiddleware);

  const health = HealthState();
  const names: string[] = [];
  let serving = false;

  const api: GrpcServer = {
    add(definition, implementation) {
      server.add(withMalformedRequests(definition) as never, implementation as never);
      names.push(definition.fullName);
      health.setStatus(serving ? 'healthy' : 'unhealthy', definition.fullName);
    },
    async listen(address) {
      server.add(HealthDefinition, HealthServiceImpl(health));
      server.add(ServerReflectionService, ServerReflection(fileDescriptorSet, [...names, 'grpc.health.v1.Health']));
      health.setStatus(serving ? 'healthy' : 'unhealthy');
      return server.listen(address, serverCredentials(options.tls, logger));
    },
    setServing(value) {
      serving = value;
      const status = value ? 'healthy' : 'unhealthy';
      health.setStatus(status);
      for (const name of names) health.setStatus(status, name);
    },
    health,
    async shutdown(graceMs = 10_000) {
      api.setServing(false);
      let timer: NodeJS.Timeout | undefined;
      const graceful = server.shutdown().then(() => true);
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const clean = await Promise.race([graceful, timedOut]);
      clearTimeout(timer);
      if (!clean) {
        logger.warn({ graceMs }, 'grpc: in-flight calls outlived the grace period; cancelling them');
        server.forceShutdown();
      }
    },
  };
  return api;
}

function serverCredentials(tls: ServerTlsOptions | undefined, logger: Logger): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const files = new ReloadingPemFiles({ certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.clientCaFile, reloadIntervalMs: tls.reloadInterval, logger });
  // One provider serves both the identity and the client CA; the first argument is the identity.
  const mtls = tls.clientCaFile !== undefined;
  return experimental.createCertificateProviderServerCredentials(files, mtls ? files : null, mtls);
}

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

function errorMiddleware(logger: Logger, classify: ErrorClassifier | undefined): ServerMiddleware {
  return async function* mapErrors<Req, Res>(call: ServerMiddlewareCall<Req, Res>, context: CallContext) {
    const started = performance.now();
    const method = call.method.path;
    try {
      const result = yield* call.next(call.request, context);
      logger.debug({ method, ms: elapsed(started) }, 'grpc call ok');
      return result;
    } catch (err) {
      if (isAbortError(err)) {
        logger.debug({ method, ms: elapsed(started) }, 'grpc call cancelled');
        throw err;
      }
      if (err instanceof ServerError) {
        logger.info({ method, code: Status[err.code], details: err.details, ms: elapsed(started) }, 'grpc call failed');
        throw err;
      }
      const mapped = classify?.(err) ?? classifyDomainError(err);
      if (mapped) {
        logger.info({ method, code: Status[mapped.code], details: mapped.details, ms: elapsed(started) }, 'grpc call failed');
        throw mapped;
      }
      const traceId = activeTraceId();
      logger.error({ method, err, ms: elapsed(started) }, 'grpc handler failed with an unexpected error');
      throw new ServerError(
        Status.INTERNAL,
        `internal error in ${method}: ${(err as Error)?.message ?? String(err)}${traceId ? ` (trace ${traceId})` : ''}`,
      );
    }
  };
}

/**
 * Refuses a call RESOURCE_EXHAUSTED when `limit` calls of its method are
 * already being served: a flood of one method (or a pile of long waits, such
 * as gang Permits) cannot take every other caller's memory and event loop.
 */
function inFlightLimitMiddleware(limit: number, logger: Logger, refused: Counter | undefined): ServerMiddleware {
  const inFlight = new Map<string, number>();
  return async function* limitInFlight<Req, Res>(call: ServerMiddlewareCall<Req, Res>, context: CallContext) {
    const method = call.method.path;
    const current = inFlight.get(method) ?? 0;
    if (current >= limit && !method.startsWith('/grpc.health.v1.')) {
      refused?.inc({ method });
      logger.warn({ method, inFlight: current, limit }, 'grpc call refused: too many calls of this method in flight');
      throw new ServerError(Status.RESOURCE_EXHAUSTED, `${method}: ${current} calls already in flight (the server's limit per method); retry with backoff`);
    }
    inFlight.set(method, current + 1);
    try {
      return yield* call.next(call.request, context);
    } finally {
      const left = (inFlight.get(method) ?? 1) - 1;
      if (left === 0) inFlight.delete(method);
      else inFlight.set(method, left);
    }
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
