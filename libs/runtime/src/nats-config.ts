import { jetstreamManager } from '@nats-io/jetstream';
import type { StreamInfo } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { clusterStream, ensureClusterStream } from './cluster-stream.js';
import type { ClusterStreamOptions } from './cluster-stream.js';
import type { Logger } from './logger.js';
import { connectNats } from './nats.js';

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
  })
  .strict();

/** The resolved NATS block. */
export type NatsConfig = z.output<typeof natsConfigSchema>;

/** Connects to the servers of a NATS block, with its token if it has one (see {@link connectNats}). */
export function connectNatsFrom(config: NatsConfig, name: string, logger: Logger): Promise<NatsConnection> {
  return connectNats({ servers: config.url, name, logger, ...(config.token ? { token: config.token } : {}) });
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
  const nc = options.nc ?? (await connect({ servers: config.url.split(',').map((s) => s.trim()), ...(config.token ? { token: config.token } : {}) }));
  try {
    return await ensureClusterStream(await jetstreamManager(nc), clusterStreamOptions(config));
  } finally {
    if (own) await nc.close();
  }
}
