import type { Tracer } from '@opentelemetry/api';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { authorizationInterceptor, callerRoles } from './authorization.js';
import type { CallerRole } from './authorization.js';
import { duration } from './config.js';
import { createGrpcServer } from './grpc-server.js';
import type { GrpcServer } from './grpc-server.js';
import type { ErrorClassifier } from './grpc-server-call.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { createMetricsRegistry, startHttpEndpoints } from './metrics.js';
import type { HttpEndpoints } from './metrics.js';
import { handleSignals } from './shutdown.js';
import type { ShutdownHook } from './shutdown.js';
import { initTelemetry } from './telemetry.js';
import { DEFAULT_TLS_RELOAD_MS } from './tls-files.js';
import type { Telemetry } from './telemetry.js';

const tlsSchema = z
  .object({
    /** PEM certificate chain of the server. */
    certFile: z.string().min(1),
    /** PEM private key of the server. */
    keyFile: z.string().min(1),
    /** PEM CA of client certificates; set it to require mTLS (and with it, authorization: see authorization.ts). */
    clientCaFile: z.string().min(1).optional(),
    /**
     * Client certificate identities (subject CN) that hold another role than
     * their name, e.g. `{ "alice@example.com": "operator" }`.
     */
    identities: z.record(z.string().min(1), z.enum(callerRoles as [CallerRole, ...CallerRole[]])).default({}),
    /** How often the files are read again: rotated certificates apply to new connections without a restart. */
    reloadInterval: duration().default(DEFAULT_TLS_RELOAD_MS),
  })
  .strict();

/**
 * The options every service shares, under the keys grpc, http, log,
 * telemetry and shutdown. A service's schema extends this one.
 */
export const commonConfigSchema = z.object({
  grpc: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(50051),
      tls: tlsSchema.optional(),
      maxReceiveMessageBytes: z.number().int().positive().default(16 * 1024 * 1024),
      /** Calls of one method served at once; more are refused RESOURCE_EXHAUSTED. */
      maxInFlightPerMethod: z.number().int().positive().default(1_000),
      /** Concurrent calls per client connection (HTTP/2 streams). */
      maxConcurrentStreams: z.number().int().positive().default(1_000),
    })
    .strict()
    .prefault({}),
  http: z
    .object({
      host: z.string().default('0.0.0.0'),
      port: z.number().int().min(0).max(65535).default(9090),
      /** Serve CPU profiles and heap snapshots under /debug/pprof/ (off: they expose the process). */
      profiling: z.boolean().default(false),
      /** A file with the bearer token /metrics and /debug/pprof/ require (a mounted Secret); unset = open (dev). */
      bearerTokenFile: z.string().min(1).optional(),
    })
    .strict()
    .prefault({}),
  log: z
    .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .strict()
    .prefault({}),
  telemetry: z
    .object({
      otlpEndpoint: z.string().url().optional(),
      /**
       * Share (0–1) of the traces this service starts that are exported; a
       * caller's decision is followed. Unset: OTEL_TRACES_SAMPLER(_ARG), else all.
       */
      sampleRatio: z.number().min(0).max(1).optional(),
    })
    .strict()
    .prefault({}),
  shutdown: z
    .object({ grace: duration().default(10_000) })
    .strict()
    .prefault({}),
});

/** The resolved common options. */
export type CommonConfig = z.output<typeof commonConfigSchema>;

/** Options of {@link startService}. */
export interface ServiceOptions {
  /** The service name ("schedmesh-reservation"): service.name of spans, `service` of log lines. */
  name: string;
  /** The resolved common configuration. */
  config: CommonConfig;
  /** Extra error mappings for the gRPC server. */
  classifyError?: ErrorClassifier;
  /** Install SIGTERM/SIGINT handling (default true; tests pass false). */
  handleSignals?: boolean;
}

/**
 * What every service's `start…App` returns: its runtime, the ports it bound
 * (tests start services on port 0) and a graceful stop. A service's handle
 * extends it with the domain objects tests drive.
 */
export interface ServiceApp {
  readonly runtime: ServiceRuntime;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Graceful shutdown: NOT_SERVING, drain gRPC, then the service's own steps (see {@link ServiceRuntime.stop}). */
  stop(): Promise<void>;
}

/** Options every service's `start…App` takes besides its configuration (tests pass them in-process). */
export interface AppOptions {
  /** Install SIGTERM/SIGINT handling (default true; tests pass false). */
  handleSignals?: boolean;
}

/** A service's shared runtime, created before anything else in main. */
export interface ServiceRuntime {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly tracer: Tracer;
  readonly metrics: Registry;
  readonly grpc: GrpcServer;
  /**
   * Binds the gRPC server and the HTTP endpoints; health stays NOT_SERVING
   * until {@link ServiceRuntime.setReady}.
   */
  listen(): Promise<{ grpcPort: number; httpPort: number }>;
  /** Reports readiness on gRPC health and /readyz. */
  setReady(ready: boolean): void;
  /** Adds a step to shutdown, run after the gRPC server drained (e.g. close NATS). */
  onShutdown(hook: ShutdownHook): void;
  /** Shuts down: NOT_SERVING, drain gRPC, run hooks in order, close HTTP, flush spans. */
  stop(): Promise<void>;
}

/**
 * Telemetry first, then logs, metrics and the gRPC server, and shutdown on
 * SIGTERM. A service's main composes its domain around the returned runtime.
 */
export function startService(options: ServiceOptions): ServiceRuntime {
  const { config } = options;
  const telemetry = initTelemetry({
    serviceName: options.name,
    ...(config.telemetry.otlpEndpoint ? { otlpEndpoint: config.telemetry.otlpEndpoint } : {}),
    ...(config.telemetry.sampleRatio !== undefined ? { sampleRatio: config.telemetry.sampleRatio } : {}),
  });
  const logger = createLogger({ service: options.name, level: config.log.level });
  const metrics = createMetricsRegistry(options.name);
  const tls = config.grpc.tls;
  // With client certificates required, every call is authorized by its caller's identity.
  const interceptors = tls?.clientCaFile
    ? [
        authorizationInterceptor({
          logger,
          identities: tls.identities,
          denied: new Counter({
            name: 'grpc_server_denied_calls_total',
            help: 'Calls refused by the authorization table, by method and caller certificate identity.',
            labelNames: ['method', 'caller'],
            registers: [metrics],
          }),
        }),
      ]
    : [];
  const grpc = createGrpcServer({
    logger,
    maxReceiveMessageBytes: config.grpc.maxReceiveMessageBytes,
    maxInFlightPerMethod: config.grpc.maxInFlightPerMethod,
    maxConcurrentStreams: config.grpc.maxConcurrentStreams,
    refused: new Counter({
      name: 'grpc_server_refused_calls_total',
      help: 'Calls refused RESOURCE_EXHAUSTED because grpc.maxInFlightPerMethod calls of the method were in flight.',
      labelNames: ['method'],
      registers: [metrics],
    }),
    interceptors,
    ...(tls ? { tls: { certFile: tls.certFile, keyFile: tls.keyFile, reloadInterval: tls.reloadInterval, ...(tls.clientCaFile ? { clientCaFile: tls.clientCaFile } : {}) } } : {}),
    ...(options.classifyError ? { classifyError: options.classifyError } : {}),
  });
  const hooks: ShutdownHook[] = [];
  let http: HttpEndpoints | undefined;
  let ready = false;
  let stopped: Promise<void> | undefined;

  const runtime: ServiceRuntime = {
    logger,
    telemetry,
    tracer: telemetry.tracer,
    metrics,
    grpc,
    async listen() {
      const grpcPort = await grpc.listen(`${config.grpc.host}:${config.grpc.port}`);
      http = await startHttpEndpoints({ registry: metrics, port: config.http.port, host: config.http.host, ready: () => ready, profiling: config.http.profiling, ...(config.http.bearerTokenFile ? { bearerTokenFile: config.http.bearerTokenFile } : {}) });
      logger.info({ grpcPort, httpPort: http.port, tls: Boolean(config.grpc.tls), mtls: Boolean(config.grpc.tls?.clientCaFile) }, 'listening');
      return { grpcPort, httpPort: http.port };
    },
    setReady(value) {
      if (value !== ready) logger.info({ ready: value }, value ? 'ready' : 'not ready');
      ready = value;
      grpc.setServing(value);
    },
    onShutdown(hook) {
      hooks.push(hook);
    },
    stop() {
      stopped ??= (async () => {
        ready = false;
        await grpc.shutdown(config.shutdown.grace);
        for (const hook of hooks) {
          try {
            await hook();
          } catch (err) {
            logger.error({ err }, 'shutdown step failed');
          }
        }
        await http?.close();
        await telemetry.shutdown();
      })();
      return stopped;
    },
  };
  if (options.handleSignals !== false) handleSignals([() => runtime.stop()], { logger, timeoutMs: config.shutdown.grace + 5_000 });
  return runtime;
}
