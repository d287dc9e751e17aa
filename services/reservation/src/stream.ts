import type { NatsConnection } from '@nats-io/transport-node';
import type { Tracer } from '@opentelemetry/api';
import { followClusterStreamResilient } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { LedgerSync } from './sync.js';

/** Options of {@link StreamFollower}. */
export interface StreamFollowerOptions {
  nc: NatsConnection;
  /** Each applied event is an `apply <kind>` span linked to the informer's publish. */
  tracer?: Tracer;
  /** The cluster stream's name (the informer creates it). */
  stream: string;
  sync: LedgerSync;
  logger: Logger;
}

/**
 * Follows the cluster stream from the start (the stream keeps the latest
 * event of every object, so the replay is the whole cluster), feeding each
 * event to the ledger sync in order; the sync's gate tells it when the
 * replay caught up. Waiting for the stream, NATS losses (out of sync until
 * caught up again), failures (retried from the last generation) and a
 * recreated stream (the sync resets) are followClusterStreamResilient's.
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
    const { nc, stream, sync, logger, tracer } = this.o;
    this.running ??= followClusterStreamResilient({
      nc,
      logger,
      ...(tracer ? { tracer } : {}),
      stream,
      gate: sync.gate,
      signal: this.abort.signal,
      retry: { initialMs: 250, maxMs: 2_000 },
      apply: ({ event }) => sync.onEvent(event),
      onReset: () => sync.reset(),
    });
  }

  /** Stops following. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
