import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { clusterStream, ensureClusterStream, followClusterStream, jetStreamClient } from '@schedmesh/runtime';
import type { ClusterStreamOptions, Logger } from '@schedmesh/runtime';
import type { Counter } from 'prom-client';
import type { SnapshotStore } from './store.js';

/** Options of {@link syncFromStream}. */
export interface StreamSyncOptions {
  nc: NatsConnection;
  store: SnapshotStore;
  logger: Logger;
  /** The stream (name, subject prefix, storage); created if missing. */
  stream?: ClusterStreamOptions;
  /** Counts messages that are not ClusterEvents. */
  invalidMessages?: Counter;
  /** Stops syncing. */
  signal: AbortSignal;
}

/**
 * Keeps the store in step with the cluster stream: replays it from the start,
 * then follows it. The store is in sync once it has applied everything the
 * stream held; on a NATS disconnect it is out of sync (reads fail UNAVAILABLE)
 * until the reconnected consumer catches up again. If the stream was
 * recreated (its head is behind our generation) the store is reset and
 * rebuilt from the new stream.
 */
export async function syncFromStream(options: StreamSyncOptions): Promise<void> {
  const { nc, store, logger, signal } = options;
  const stream = options.stream?.name ?? clusterStream.name;
  const js = jetStreamClient(nc);

  const checkHead = async (): Promise<void> => {
    // A stream lost with its server (memory storage) is recreated empty; the
    // reset below then clears what the snapshot held.
    const info = await ensureClusterStream(await jetstreamManager(nc), options.stream ?? {});
    const head = info.state.last_seq;
    if (head < store.generation) {
      logger.warn({ head, generation: store.generation }, 'cluster stream is behind the snapshot (recreated?): resetting and resyncing');
      store.reset();
    store.setSynced(false);
      throw new StreamResetSignal();
    }
    if (head <= store.generation) store.setSynced(true);
  };

  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        store.setSynced(false);
      } else if (status.type === 'reconnect') {
        checkHead().catch((err: unknown) => {
          if (err instanceof StreamResetSignal) restart.abort();
          else logger.warn({ err: (err as Error).message }, 'cannot read the cluster stream head after reconnect');
        });
      }
    }
  })();

  let restart = new AbortController();
  while (!signal.aborted) {
    restart = new AbortController();
    const stop = AbortSignal.any([signal, restart.signal]);
    try {
      await checkHead();
      await followClusterStream({
        js,
        logger,
        stream,
        afterGeneration: store.generation,
        signal: stop,
        onInvalid: (msg, err) => {
          options.invalidMessages?.inc();
          logger.warn({ subject: msg.subject, seq: msg.seq, err: err.message }, 'skipping a stream message that is not a ClusterEvent');
        },
        onEvent: ({ event, pending }) => {
          store.apply(event);
          if (pending === 0) store.setSynced(true);
        },
      });
    } catch (err) {
      if (signal.aborted) break;
      if (!(err instanceof StreamResetSignal)) {
        store.setSynced(false);
        logger.warn({ err: (err as Error).message }, 'cluster stream unavailable; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

class StreamResetSignal extends Error {}
