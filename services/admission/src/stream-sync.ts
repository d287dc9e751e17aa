import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { clusterStream, ensureClusterStream, followClusterStream, jetStreamClient } from '@schedmesh/runtime';
import type { ClusterStreamOptions, Logger } from '@schedmesh/runtime';
import type { PolicyStore, StoreChange } from './policy-store.js';

/** Options of {@link followPolicies}. */
export interface FollowPoliciesOptions {
  nc: NatsConnection;
  store: PolicyStore;
  logger: Logger;
  /** The cluster stream (created if missing). */
  stream: ClusterStreamOptions;
  /** Called after each event is applied, before the next (and before the store counts as synced). */
  onChange?: (change: StoreChange) => void | Promise<void>;
  /** A stream message that is not a ClusterEvent. */
  onInvalid?: () => void;
  /** Stops following. */
  signal: AbortSignal;
}

/**
 * Keeps the policy store in step with the cluster stream. The whole stream is
 * followed, not only policies and namespaces: the store's generation is then
 * the stream sequence, so an Admit with min_generation (the sequence of any
 * event the caller saw) can wait for it. The store is synced once everything
 * the stream held is applied; a NATS disconnect makes it unsynced until the
 * consumer, restarted at the store's generation, has caught up. A stream that
 * was recreated (its head behind the store) resets the store.
 */
export async function followPolicies(options: FollowPoliciesOptions): Promise<void> {
  const { nc, store, logger, signal } = options;
  const js = jetStreamClient(nc);
  let restart = new AbortController();

  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') store.setSynced(false);
      // Restart the consumer at our generation: it finds out whether it is caught up.
      else if (status.type === 'reconnect') restart.abort();
    }
  })();

  while (!signal.aborted) {
    restart = new AbortController();
    const stop = AbortSignal.any([signal, restart.signal]);
    try {
      const info = await ensureClusterStream(await jetstreamManager(nc), options.stream);
      const head = info.state.last_seq;
      if (head < store.generation) {
        logger.warn({ head, generation: store.generation }, 'cluster stream is behind the policies (recreated?): resetting and replaying it');
        store.reset();
      }
      if (head <= store.generation) store.setSynced(true);
      const follower = followClusterStream({
        js,
        logger,
        stream: options.stream.name ?? clusterStream.name,
        afterGeneration: store.generation,
        signal: stop,
        onInvalid: (msg, err) => {
          options.onInvalid?.();
          logger.warn({ subject: msg.subject, seq: msg.seq, err: err.message }, 'skipping a stream message that is not a ClusterEvent');
        },
        onEvent: async ({ event, pending }) => {
          // A follower told to stop while it was still being set up may go on
          // delivering (followClusterStream misses an abort that comes before
          // its consumer exists): it must never apply anything.
          if (stop.aborted) throw new FollowerStopped();
          const change = store.apply(event);
          await options.onChange?.(change);
          if (pending === 0) store.setSynced(true);
        },
      });
      // Such a follower ends with the connection; nobody waits for it.
      follower.catch(() => undefined);
      await untilSettledOrAborted(follower, stop);
    } catch (err) {
      if (signal.aborted) break;
      if (err instanceof FollowerStopped) continue;
      store.setSynced(false);
      logger.warn({ err: (err as Error).message }, 'cluster stream unavailable; retrying');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }
}

class FollowerStopped extends Error {}

/** Resolves when `promise` settles (rethrowing its failure) or when `signal` aborts, whichever is first. */
async function untilSettledOrAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
