export { ConfigError, DeadlineExceededError, FailedPreconditionError, InvalidArgumentError, NotFoundError, ResourceExhaustedError, SchedmeshError, UnavailableError } from './errors.js';
export { duration, loadConfig, parseDuration, readConfigFile, readYamlFile } from './config.js';
export type { ConfigOverride, ConfigSources } from './config.js';
export { runMain } from './run-main.js';
export type { RunMainOptions } from './run-main.js';
export { createLogger, redactedPaths } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { activeTraceId, extractTraceContext, httpTraceContext, initTelemetry, injectHttpTraceHeaders, injectTraceHeaders, linkTo, withSpan, withSpanSync } from './telemetry.js';
export type { HeaderCarrier, HttpHeaders, SpanOptions, Telemetry, TelemetryOptions } from './telemetry.js';
export { createGrpcServer } from './grpc-server.js';
export type { GrpcServer, GrpcServerOptions, ServerTlsOptions } from './grpc-server.js';
export { classifyDomainError } from './grpc-server-call.js';
export type { ErrorClassifier } from './grpc-server-call.js';
export { clientConfigSchema, connectChannel, connectClient, createServiceClient } from './grpc-client.js';
export type { ChannelOptions, ClientConfig, ClientTlsOptions, ConnectedClient, ServiceClientOptions } from './grpc-client.js';
export type { MeshCallOptions } from './grpc-client-call.js';
export { createMetricsRegistry, gauge, startHttpEndpoints } from './metrics.js';
export { DEFAULT_PROFILE_SECONDS, heapSnapshot, MAX_PROFILE_SECONDS, profileSeconds, recordCpuProfile } from './profiling.js';
export type { HttpEndpoints, HttpEndpointsOptions } from './metrics.js';
export { handleSignals } from './shutdown.js';
export type { ShutdownHook, SignalOptions } from './shutdown.js';
export { Backoff, sleep } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { connectNats, jetStreamClient, MessageTooLargeError, messageTraceContext, publishTraced, redactUrl } from './nats.js';
export type { NatsOptions, PublishOptions } from './nats.js';
export { clusterStreamOptions, connectNatsFrom, ensureClusterStreamFrom, natsAuthenticator, natsConfigSchema } from './nats-config.js';
export type { NatsConfig } from './nats-config.js';
export { connectRedis } from './redis.js';
export type { RedisOptions } from './redis.js';
export { commonConfigSchema, startService } from './service.js';
export type { AppOptions, CommonConfig, ServiceApp, ServiceOptions, ServiceRuntime } from './service.js';
export { DEFAULT_MAX_WAIT_MS, GenerationGate, minGenerationConfigSchema } from './generation-gate.js';
export type { GenerationGateOptions, WaitForOptions } from './generation-gate.js';
export {
  applyTraced,
  clusterEventSubject,
  clusterKindFilter,
  clusterObjectAttributes,
  clusterObjectKey,
  clusterStream,
  decodeClusterEvent,
  ensureClusterStream,
  followClusterStream,
  followClusterStreamInto,
  followClusterStreamResilient,
  clusterEventVersion,
  isStreamNotFound,
  isWrongLastSequence,
  publishClusterEvent,
  subjectToken,
  untilSettledOrAborted,
  waitForClusterStream,
} from './cluster-stream.js';
export type {
  ClusterObjectKind,
  ClusterStreamOptions,
  ClusterStreamState,
  FollowIntoOptions,
  FollowOptions,
  ReceivedClusterEvent,
  ResilientFollowOptions,
  WaitForStreamOptions,
} from './cluster-stream.js';
export { AnchorTracker, anchorSubject, readStreamAnchor, STREAM_META_HEADER, streamPrefixOf, writeStreamAnchor } from './stream-anchor.js';
export type { AnchorVerdict, StreamAnchor } from './stream-anchor.js';
export { followConfigMap } from './config-map.js';
export type { ConfigMapVersion, FollowConfigMapOptions } from './config-map.js';
export { consumeDurable } from './durable-consumer.js';
export type { DurableClusterEvent, DurableConsumerOptions } from './durable-consumer.js';
export { authorizationInterceptor, authorize, callerRole, callerRoles, certificateIdentity, methodCallers } from './authorization.js';
export type { AuthorizationDecision, AuthorizationOptions, CallerRole } from './authorization.js';
export { DEFAULT_TLS_RELOAD_MS } from './tls-files.js';
