import type { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import type { Logger, MeshCallOptions } from '@schedmesh/runtime';
import type { Client } from 'nice-grpc';
import type { SnapshotReplica } from './replica.js';

/** Options of {@link followSnapshot}. */
export interface FollowSnapshotOptions {
  /** A SnapshotService client. */
  readonly client: Client<typeof SnapshotServiceDefinition, MeshCallOptions>;
  readonly replica: SnapshotReplica;
  readonly logger: Logger;
  /** Events per frame asked for (0 = the service's default). */
  readonly maxBatch: number;
  /** First retry delay, ms; doubles up to maxBackoffMs. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Called each time the Watch is (re)opened. */
  readonly onConnect?: (resumed: boolean) => void;
  /** Stops following. */
  readonly signal: AbortSignal;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Keeps the replica in step with SnapshotService.Watch until signal aborts.
 *
 * The first Watch asks for a full state; later ones resume from the
 * replica's generation (the service replays what it retained, or sends a
 * full state when it cannot). While no Watch is open, or until a resumed one
 * has caught up with the generation the service reported when it reopened,
 * the replica is out of sync and the service answers NOT_SERVING.
 */
export async function followSnapshot(options: FollowSnapshotOptions): Promise<void> {
  const { client, replica, logger, signal } = options;
  let backoff = options.initialBackoffMs;
  while (!signal.aborted) {
    const resume = replica.hasState;
    const from = resume ? replica.generation : 0;
    try {
      // The head to catch up with before a resumed replica counts as in sync.
      const head = resume ? (await client.waitForGeneration({ minGeneration: 0 }, { signal, retry: false })).generation : 0;
      options.onConnect?.(resume);
      logger.info({ fromGeneration: from, head }, resume ? 'resuming the snapshot watch' : 'watching the snapshot (full state)');
      for await (const frame of client.watch({ fromGeneration: from, maxBatch: options.maxBatch }, { signal })) {
        replica.applyFrame(frame);
        if (frame.synced || (resume && !replica.isSynced && !replica.isRebuilding && replica.generation >= head)) {
          if (!replica.isSynced) logger.info({ generation: replica.generation }, 'snapshot replica in sync');
          replica.setSynced(true);
          backoff = options.initialBackoffMs;
        }
      }
      if (!signal.aborted) logger.warn({ generation: replica.generation }, 'snapshot watch ended by the server; reconnecting');
    } catch (err) {
      if (signal.aborted) break;
      logger.warn({ err: (err as Error).message, generation: replica.generation, retryInMs: backoff }, 'snapshot watch failed; reconnecting');
    }
    if (signal.aborted) break;
    replica.setSynced(false);
    await sleep(backoff, signal);
    backoff = Math.min(backoff * 2, options.maxBackoffMs);
  }
  replica.setSynced(false);
}
