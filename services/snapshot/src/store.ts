import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { GenerationGate } from '@schedmesh/runtime';
import { SnapshotState } from './snapshot-state.js';
import { PoolHealthReconciler } from './pool-health.js';
import type { PoolHealthReport } from './pool-health.js';
import { defaultWatchMaxQueuedBytes, WatchHub } from './watch-hub.js';

/** Options of {@link SnapshotStore}. */
export interface SnapshotStoreOptions {
  /** Recent events kept for watchers that resume (default 100,000). */
  watchRetain?: number;
  /** Bytes of undelivered events one watcher may hold before it is cut off (default 64 MiB). */
  watchMaxQueuedBytes?: number;
  /** Pool-health debounce, in ms (default 500). */
  healthDebounceMs?: number;
  /** Fraction of healthy nodes for a healthy pool (default 0.8). */
  healthyThreshold?: number;
  /** Called after each pool-health recomputation. */
  onHealthReport?: (report: PoolHealthReport) => void;
  /** Server-side limit of a min_generation wait, in ms (default 10 s). */
  maxWaitMs?: number;
}

/**
 * The snapshot as the service serves it: the cluster state, the watch hub
 * fed by every applied event, pool health, and its gate (read-your-writes
 * waits, and whether the state is in sync with the stream). Knows nothing of
 * gRPC or NATS.
 */
export class SnapshotStore {
  readonly state = new SnapshotState();
  readonly hub: WatchHub;
  readonly health: PoolHealthReconciler;
  /** The generation applied, waits for a later one, and whether the state is in sync. */
  readonly gate: GenerationGate;

  constructor(options: SnapshotStoreOptions = {}) {
    this.gate = new GenerationGate({
      name: 'the snapshot',
      source: 'the cluster stream (NATS unreachable or resyncing)',
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    });
    this.hub = new WatchHub(options.watchRetain ?? 100_000, options.watchMaxQueuedBytes ?? defaultWatchMaxQueuedBytes);
    this.health = new PoolHealthReconciler({
      debounceMs: options.healthDebounceMs ?? 500,
      healthyThreshold: options.healthyThreshold ?? 0.8,
      source: () => ({ generation: this.state.generation, nodes: this.state.nodes() }),
      ...(options.onHealthReport ? { onReport: options.onHealthReport } : {}),
    });
  }

  /** The generation of the last applied event. */
  get generation(): number {
    return this.state.generation;
  }

  /** Applies one stream event and hands it to watchers. */
  apply(event: ClusterEvent): void {
    const change = this.state.apply(event);
    this.hub.publish(event);
    if (change.nodeObjectChanged) this.health.markDirty();
    this.gate.advance(this.state.generation);
  }

  /** Drops the state and every watcher (the stream was recreated). */
  reset(): void {
    this.state.clear();
    this.hub.reset();
    this.health.markDirty();
    this.gate.reset();
  }
}
