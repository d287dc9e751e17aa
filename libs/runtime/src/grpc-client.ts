import { ChannelCredentials, experimental } from '@grpc/grpc-js';
import { createChannel, createClientFactory } from 'nice-grpc';
import type { Channel, Client, CompatServiceDefinition } from 'nice-grpc';
import { z } from 'zod';
import { duration } from './config.js';
import { clientCallMiddleware } from './grpc-client-call.js';
import type { MeshCallOptions } from './grpc-client-call.js';
import type { Logger } from './logger.js';
import { DEFAULT_TLS_RELOAD_MS, ReloadingPemFiles } from './tls-files.js';

/** TLS material of a client, as PEM file paths. */
export interface ClientTlsOptions {
  /** CA that signs the server's certificate. */
  caFile: string;
  /** Client certificate chain (mTLS). */
  certFile?: string;
  /** Client private key (mTLS). */
  keyFile?: string;
  /** Expected server name, if it differs from the address's host. */
  serverName?: string;
  /** How often the files are read again, in ms, so rotated certificates apply to new connections without a restart. */
  reloadInterval?: number;
}

/** Options of {@link connectChannel}. */
export interface ChannelOptions {
  /** TLS; plaintext without it. */
  tls?: ClientTlsOptions;
  /** Largest response accepted, in bytes (default 64 MiB). */
  maxReceiveMessageBytes?: number;
  /** Where certificate reloads are reported. */
  logger?: Logger;
}

/** Opens a channel to "host:port" (lazily connected, shared by clients). */
export function connectChannel(address: string, options: ChannelOptions = {}): Channel {
  return createChannel(address, channelCredentials(options), {
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 64 * 1024 * 1024,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    ...(options.tls?.serverName ? { 'grpc.ssl_target_name_override': options.tls.serverName } : {}),
  });
}

function channelCredentials({ tls, logger }: ChannelOptions): ChannelCredentials {
  if (!tls) return ChannelCredentials.createInsecure();
  const files = new ReloadingPemFiles({ caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, reloadIntervalMs: tls.reloadInterval, logger });
  return experimental.createCertificateProviderChannelCredentials(files, tls.certFile !== undefined ? files : null);
}

/** Options of {@link createServiceClient}. */
export interface ServiceClientOptions {
  /** Deadline of a call that sets none, in ms (default 10 s). A call may pass its own `deadline`. */
  defaultDeadlineMs?: number;
  /**
   * Total attempts, the first included, for methods marked idempotent in the
   * proto (default 3; 1 disables retries). Backoff starts at retryBaseDelayMs.
   */
  retryMaxAttempts?: number;
  /** First retry delay in ms (default 50). */
  retryBaseDelayMs?: number;
}

/**
 * Creates a typed client. One middleware ({@link clientCallMiddleware}) does,
 * per call: a CLIENT span (W3C context in the metadata), grpc_client_*
 * metrics, a deadline (the call's own or the default, covering every retry),
 * and retries — only for methods whose proto marks them IDEMPOTENT or
 * NO_SIDE_EFFECTS, on UNAVAILABLE and friends, with exponential backoff and
 * jitter.
 */
export function createServiceClient<D extends CompatServiceDefinition>(
  definition: D,
  channel: Channel,
  options: ServiceClientOptions = {},
): Client<D, MeshCallOptions> {
  return createClientFactory()
    .use(clientCallMiddleware())
    .create(definition, channel, defaultCallOptions(definition, options));
}

// Streams (Watch) live as long as the caller wants: no default deadline there.
function defaultCallOptions(definition: CompatServiceDefinition, options: ServiceClientOptions): Record<string, MeshCallOptions> {
  const retry: MeshCallOptions = {
    // nice-grpc counts retries after the first call, not attempts.
    retryMaxAttempts: Math.max(0, (options.retryMaxAttempts ?? 3) - 1),
    retryBaseDelayMs: options.retryBaseDelayMs ?? 50,
    retryMaxDelayMs: 1_000,
  };
  const perMethod: Record<string, MeshCallOptions> = {};
  const methods = ('methods' in definition ? definition.methods : definition) as Record<string, { responseStream?: boolean }>;
  for (const [name, method] of Object.entries(methods)) {
    perMethod[name] = method.responseStream ? retry : { ...retry, deadline: options.defaultDeadlineMs ?? 10_000 };
  }
  return perMethod;
}

/**
 * The configuration of a client of another mesh service, e.g. under
 * `snapshot` or `gateway`: where it is, how to reach it, and the deadline of
 * a call that sets none. A service extends it to give `address` a default or
 * make it optional, and to add its own keys.
 */
export const clientConfigSchema = z
  .object({
    /** "host:port" of the service. */
    address: z.string().min(1),
    /** TLS to the service (PEM paths); plaintext without it. */
    tls: z
      .object({
        caFile: z.string().min(1),
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
        serverName: z.string().min(1).optional(),
        /** How often the files are read again: rotated certificates apply to new connections without a restart. */
        reloadInterval: duration().default(DEFAULT_TLS_RELOAD_MS),
      })
      .strict()
      .optional(),
    /** Deadline of a call that sets none (streams have none). */
    deadline: duration().default(10_000),
  })
  .strict();

/** A resolved client configuration. */
export type ClientConfig = z.output<typeof clientConfigSchema>;

/** A typed client and the channel it owns. */
export interface ConnectedClient<D extends CompatServiceDefinition> {
  readonly client: Client<D, MeshCallOptions>;
  readonly channel: Channel;
  /** Closes the channel (a function: it may be taken off the object). */
  readonly close: () => void;
}

/**
 * Opens a channel to a configured service and creates its typed client (see
 * {@link createServiceClient}); the configured deadline is the client's default.
 */
export function connectClient<D extends CompatServiceDefinition>(
  definition: D,
  config: { address: string; tls?: ClientTlsOptions | undefined; deadline: number },
  options: Omit<ServiceClientOptions, 'defaultDeadlineMs'> & Omit<ChannelOptions, 'tls'> = {},
): ConnectedClient<D> {
  const channel = connectChannel(config.address, {
    ...(config.tls ? { tls: config.tls } : {}),
    ...(options.maxReceiveMessageBytes !== undefined ? { maxReceiveMessageBytes: options.maxReceiveMessageBytes } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const client = createServiceClient(definition, channel, {
    defaultDeadlineMs: config.deadline,
    ...(options.retryMaxAttempts !== undefined ? { retryMaxAttempts: options.retryMaxAttempts } : {}),
    ...(options.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: options.retryBaseDelayMs } : {}),
  });
  return { client, channel, close: () => channel.close() };
}
