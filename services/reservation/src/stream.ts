import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { followClusterStream } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { ClusterState } from './cluster-state.js';
import type { LedgerSync } from './sync.js';

/** Options of {@link StreamFollower}. */
export interface StreamFollowerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The cluster stream's name. */
  stream: string;
  state: ClusterState;
  sync: LedgerSync;
  logger: Logger;
  /** Pause before following again after a failure, in ms (default 1 s). */
  retryMs?: number;
}

/**
 * Follows the cluster stream from the start (the stream keeps the latest
 * event of every object, so the replay is the whole cluster), feeding each
 * event to the ledger sync in order, and tells it when the replay caught up.
 * A failure (stream missing, NATS away) is retried from the last generation.
 */
export class StreamFollower {
  private readonly o: StreamFollowerOptions;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(options: StreamFollowerOptions) {
    this.o = options;
  }

  /** Starts following in the background. */
  start(): void {
    this.running ??= this.loop();
  }

  /** Stops following. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      try {
        await this.followOnce(signal);
      } catch (err) {
        if (signal.aborted) return;
        this.o.logger.warn({ err: (err as Error).message, stream: this.o.stream }, 'cannot follow the cluster stream; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.o.retryMs ?? 1_000);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
      }
    }
  }

  private async followOnce(signal: AbortSignal): Promise<void> {
    const { js, jsm, stream, state, sync, logger } = this.o;
    const info = await jsm.streams.info(stream);
    const last = info.state.last_seq;
    if (info.state.messages === 0 || last <= state.generation) sync.markCaughtUp();
    await followClusterStream({
      js,
      logger,
      stream,
      afterGeneration: state.generation,
      signal,
      async onEvent(received) {
        await sync.onEvent(received.event);
        if (received.pending === 0 || received.event.generation >= last) sync.markCaughtUp();
      },
      onInvalid(msg, err) {
        logger.warn({ subject: msg.subject, seq: msg.seq, err: err.message }, 'skipping a message that is not a ClusterEvent');
        if (msg.info.pending === 0 || msg.seq >= last) sync.markCaughtUp();
      },
    });
  }
}
