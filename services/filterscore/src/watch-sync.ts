import type { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import { Backoff, sleep } from '@schedmesh/runtime';
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
  const { gate } = replica;
  const backoff = new Backoff({ initialMs: options.initialBackoffMs, maxMs: options.maxBackoffMs });
  while (!signal.aborted) {
    const resume = replica.hasState;
    const from = resume ? replica.generation : 0;
    let failure: Error | undefined;
    try {
      // The head to catch up with before a resumed replica counts as in sync.
      const head = resume ? (await client.waitForGeneration({ minGeneration: 0 }, { signal, retry: false })).generation : 0;
      options.onConnect?.(resume);
      logger.info({ fromGeneration: from, head }, resume ? 'resuming the snapshot watch' : 'watching the snapshot (full state)');
      for await (const frame of client.watch({ fromGeneration: from, maxBatch: options.maxBatch }, { signal })) {
        replica.applyFrame(frame);
        // Cycles that hold a full queue stop the reading: what is not read waits within the watcher's budget on the snapshot service.
        await replica.roomForFrames(signal);
        if (frame.synced || (resume && !gate.synced && !replica.isRebuilding && replica.generation >= head)) {
          if (!gate.synced) logger.info({ generation: replica.generation }, 'snapshot replica in sync');
          gate.setSynced(true);
          backoff.reset();
        }
      }
    } catch (err) {
      failure = err as Error;
    }
    if (signal.aborted) break;
    gate.setSynced(false);
    const retryInMs = backoff.next();
    if (failure) logger.warn({ err: failure.message, generation: replica.generation, retryInMs }, 'snapshot watch failed; reconnecting');
    else logger.warn({ generation: replica.generation, retryInMs }, 'snapshot watch ended by the server; reconnecting');
    await sleep(signal, retryInMs);
  }
  gate.setSynced(false);
}
