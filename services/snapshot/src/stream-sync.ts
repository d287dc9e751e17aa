import type { NatsConnection } from '@nats-io/transport-node';
import type { Tracer } from '@opentelemetry/api';
import { followClusterStreamInto } from '@schedmesh/runtime';
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
  /** Each applied event is an `apply <kind>` span linked to the informer's publish. */
  tracer?: Tracer;
  /** Counts messages that are not ClusterEvents. */
  invalidMessages?: Counter;
  /** Stops syncing. */
  signal: AbortSignal;
}

/**
 * Keeps the store in step with the cluster stream (see
 * followClusterStreamInto): replays it from the start, then follows it;
 * the store's gate is in sync once it applied everything the stream held,
 * and out of sync (reads UNAVAILABLE) while NATS is away and until it caught
 * up again. A recreated stream resets the store, which ends every Watch with
 * ABORTED, and the snapshot is rebuilt from the new stream.
 */
export function syncFromStream(options: StreamSyncOptions): Promise<void> {
  const { store, invalidMessages, ...follow } = options;
  return followClusterStreamInto({ ...follow, state: store, ...(invalidMessages ? { onInvalid: () => invalidMessages.inc() } : {}) });
}
