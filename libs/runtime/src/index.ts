export { ConfigError, DeadlineExceededError, FailedPreconditionError, InvalidArgumentError, NotFoundError, SchedmeshError, UnavailableError } from './errors.js';
export { duration, loadConfig, parseDuration } from './config.js';
export type { ConfigSources } from './config.js';
export { createLogger, redactedPaths } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { activeTraceId, extractTraceContext, initTelemetry, injectTraceHeaders, withSpan } from './telemetry.js';
export type { HeaderCarrier, Telemetry, TelemetryOptions } from './telemetry.js';
export { classifyDomainError, createGrpcServer } from './grpc-server.js';
export type { ErrorClassifier, GrpcServer, GrpcServerOptions, ServerTlsOptions } from './grpc-server.js';
export { connectChannel, createServiceClient } from './grpc-client.js';
export type { ChannelOptions, ClientTlsOptions, MeshCallOptions, ServiceClientOptions } from './grpc-client.js';
export { createMetricsRegistry, startHttpEndpoints } from './metrics.js';
export type { HttpEndpoints, HttpEndpointsOptions } from './metrics.js';
export { handleSignals } from './shutdown.js';
export type { ShutdownHook, SignalOptions } from './shutdown.js';
export { connectNats, jetStreamClient, messageTraceContext, publishTraced, redactUrl } from './nats.js';
export type { NatsOptions, PublishOptions } from './nats.js';
export { connectRedis } from './redis.js';
export type { RedisOptions } from './redis.js';
export { commonConfigSchema, natsConfigSchema, startService } from './service.js';
export type { CommonConfig, ServiceOptions, ServiceRuntime } from './service.js';
export {
  clusterEventSubject,
  clusterKindFilter,
  clusterObjectKey,
  clusterStream,
  decodeClusterEvent,
  ensureClusterStream,
  followClusterStream,
  publishClusterEvent,
  subjectToken,
} from './cluster-stream.js';
export type { ClusterObjectKind, ClusterStreamOptions, FollowOptions, ReceivedClusterEvent } from './cluster-stream.js';
