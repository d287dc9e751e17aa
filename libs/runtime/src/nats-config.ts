import { jetstreamManager } from '@nats-io/jetstream';
import type { StreamInfo } from '@nats-io/jetstream';
import { connect, credsAuthenticator, tokenAuthenticator, usernamePasswordAuthenticator } from '@nats-io/transport-node';
import type { Authenticator, NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { clusterStream, ensureClusterStream } from './cluster-stream.js';
import type { ClusterStreamOptions } from './cluster-stream.js';
import type { Logger } from './logger.js';
import { connectNats } from './nats.js';
import { readSecretBytes, readSecretText } from './secret-file.js';

/**
 * The one NATS block of every service on the cluster stream, under the key
 * `nats` (extend it for service-specific keys). The stream itself is created
 * by the informer only; `memoryStorage` and `replicas` say how it (and any
 * other JetStream resource a service owns, such as admission's bucket) is
 * created where it is missing.
 */
export const natsConfigSchema = z
  .object({
    /** NATS server URLs, comma-separated. */
    url: z.string().min(1).default('nats://127.0.0.1:4222'),
    /** The cluster stream the informer publishes to. */
    stream: z.string().min(1).default(clusterStream.name),
    /** Subject prefix of the cluster stream. */
    subjectPrefix: z.string().min(1).default(clusterStream.prefix),
    /** Create JetStream resources with memory storage (demo, tests) instead of files. */
    memoryStorage: z.boolean().default(false),
    /** Replicas of the JetStream resources created, in a NATS cluster. */
    replicas: z.number().int().min(1).max(5).default(1),
    /** Token for NATS authentication (from a secret; never logged). */
    token: z.string().optional(),
    /** A file holding the token (a mounted Secret); re-read at every (re)connect. */
    tokenFile: z.string().min(1).optional(),
    /** User name for user/password authentication. */
    user: z.string().min(1).optional(),
    /** A file holding `user`'s password (a mounted Secret); re-read at every (re)connect. */
    passwordFile: z.string().min(1).optional(),
    /** A NATS credentials file (`.creds`: user JWT and NKey seed), re-read at every (re)connect. */
    credentialsFile: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const methods = [c.token !== undefined || c.tokenFile !== undefined, c.user !== undefined, c.credentialsFile !== undefined].filter(Boolean).length;
    if (methods > 1) ctx.addIssue({ code: 'custom', path: ['credentialsFile'], message: 'choose one of token/tokenFile, user/passwordFile and credentialsFile' });
    if (c.token !== undefined && c.tokenFile !== undefined) ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'set token or tokenFile, not both' });
    if ((c.user === undefined) !== (c.passwordFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.user === undefined ? 'user' : 'passwordFile'], message: 'user and passwordFile go together' });
    }
  });

/** The resolved NATS block. */
export type NatsConfig = z.output<typeof natsConfigSchema>;

/**
 * The authentication a NATS block configures, or undefined for none. Secrets
 * given as files are read at every (re)connect, so a rotated Secret is used
 * from the next reconnect on without a restart; a file that cannot be read
 * fails that connect, with the file named (never its content).
 */
export function natsAuthenticator(config: NatsConfig): Authenticator | undefined {
  if (config.credentialsFile !== undefined) {
    const file = config.credentialsFile;
    return credsAuthenticator(() => readSecretBytes(file, 'nats.credentialsFile'));
  }
  if (config.user !== undefined && config.passwordFile !== undefined) {
    const file = config.passwordFile;
    return usernamePasswordAuthenticator(config.user, () => readSecretText(file, 'nats.passwordFile'));
  }
  if (config.tokenFile !== undefined) {
    const file = config.tokenFile;
    return tokenAuthenticator(() => readSecretText(file, 'nats.tokenFile'));
  }
  if (config.token !== undefined) return tokenAuthenticator(config.token);
  return undefined;
}

/** Connects to the servers of a NATS block, with the authentication it configures (see {@link connectNats}). */
export function connectNatsFrom(config: NatsConfig, name: string, logger: Logger): Promise<NatsConnection> {
  const authenticator = natsAuthenticator(config);
  return connectNats({ servers: config.url, name, logger, ...(authenticator ? { authenticator } : {}) });
}

/** The cluster stream a NATS block names, as {@link ensureClusterStream} creates it. */
export function clusterStreamOptions(config: NatsConfig): ClusterStreamOptions {
  return { name: config.stream, prefix: config.subjectPrefix, memory: config.memoryStorage, replicas: config.replicas };
}

/**
 * Creates the cluster stream of a NATS block if it is missing, on a
 * connection of its own (or `nc`). The informer owns the stream; this is for
 * what stands in for it: tests that start a service without an informer, a
 * deploy Job that provisions the stream first.
 */
export async function ensureClusterStreamFrom(config: NatsConfig, options: { nc?: NatsConnection } = {}): Promise<StreamInfo> {
  const own = options.nc === undefined;
  const authenticator = natsAuthenticator(config);
  const nc = options.nc ?? (await connect({ servers: config.url.split(',').map((s) => s.trim()), ...(authenticator ? { authenticator } : {}) }));
  try {
    return await ensureClusterStream(await jetstreamManager(nc), clusterStreamOptions(config));
  } finally {
    if (own) await nc.close();
  }
}
