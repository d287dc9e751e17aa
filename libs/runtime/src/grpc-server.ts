import { experimental, ServerCredentials } from '@grpc/grpc-js';
import type { ServerInterceptor } from '@grpc/grpc-js';
import type { Counter } from 'prom-client';
import { createServer } from 'nice-grpc';
import { HealthDefinition, HealthServiceImpl, HealthState } from 'nice-grpc-server-health';
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection';
import { fileDescriptorSet } from '@schedmesh/proto/descriptor';
import { serverCallMiddleware } from './grpc-server-call.js';
import type { ErrorClassifier } from './grpc-server-call.js';
import type { Logger } from './logger.js';
import { withMalformedRequests } from './request-decoding.js';
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
  classifyError?: ErrorClassifier | undefined;
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
 * Creates the standard schedmesh gRPC server. One middleware
 * ({@link serverCallMiddleware}) does, per call: a SERVER span parented by
 * the caller's W3C trace context, grpc_server_* latency histograms and
 * counters per method and code, the in-flight limit, the refusal of a
 * request that did not decode, and the error mapper (domain errors → status
 * codes; an unknown error becomes INTERNAL and is logged, never leaked as
 * UNKNOWN).
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
    .use(serverCallMiddleware({ logger, classifyError: options.classifyError, maxInFlightPerMethod: options.maxInFlightPerMethod ?? 1_000, refused: options.refused }));

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
