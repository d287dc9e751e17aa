import type { NatsConnection } from '@nats-io/transport-node';
import { followClusterStreamResilient } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { Counter } from 'prom-client';
import type { SnapshotStore } from './store.js';

/** Options of {@link syncFromStream}. */
export interface StreamSyncOptions {
  nc: NatsConnection;
  store: SnapshotStore;
  logger: Logger;
  /** The cluster stream's name (the informer creates it). */
  stream: string;
  /** Counts messages that are not ClusterEvents. */
  invalidMessages?: Counter;
  /** Stops syncing. */
  signal: AbortSignal;
}

/**
 * Keeps the store in step with the cluster stream (see
 * followClusterStreamResilient): replays it from the start, then follows it;
 * the store's gate is in sync once it applied everything the stream held,
 * and out of sync (reads UNAVAILABLE) while NATS is away and until it caught
 * up again. A recreated stream resets the store, which ends every Watch with
 * ABORTED, and the snapshot is rebuilt from the new stream.
 */
export function syncFromStream(options: StreamSyncOptions): Promise<void> {
  const { store, logger } = options;
  return followClusterStreamResilient({
    nc: options.nc,
    logger,
    stream: options.stream,
    gate: store.gate,
    signal: options.signal,
    apply: ({ event }) => store.apply(event),
    onReset: () => store.reset(),
    onInvalid: (msg, err) => {
      options.invalidMessages?.inc();
      logger.warn({ subject: msg.subject, seq: msg.seq, err: err.message }, 'skipping a stream message that is not a ClusterEvent');
    },
  });
}
