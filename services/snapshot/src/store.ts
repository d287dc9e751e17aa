import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { DeadlineExceededError, UnavailableError } from '@schedmesh/runtime';
import { SnapshotState } from './snapshot-state.js';
import { PoolHealthReconciler } from './pool-health.js';
import type { PoolHealthReport } from './pool-health.js';
import { WatchHub } from './watch-hub.js';

/** Options of {@link SnapshotStore}. */
export interface SnapshotStoreOptions {
  /** Recent events kept for watchers that resume (default 100,000). */
  watchRetain?: number;
  /** Undelivered events one watcher may have before it is cut off (default 200,000). */
  watchMaxQueued?: number;
  /** Pool-health debounce, in ms (default 500). */
  healthDebounceMs?: number;
  /** Fraction of healthy nodes for a healthy pool (default 0.8). */
  healthyThreshold?: number;
  /** Called after each pool-health recomputation. */
  onHealthReport?: (report: PoolHealthReport) => void;
}

/**
 * The snapshot as the service serves it: the cluster state, the watch hub
 * fed by every applied event, pool health, read-your-writes waits, and
 * whether the state is in sync with the stream. Knows nothing of gRPC or NATS.
 */
export class SnapshotStore {
  readonly state = new SnapshotState();
  readonly hub: WatchHub;
  readonly health: PoolHealthReconciler;
  private synced = false;
  private waiters: { generation: number; resolve: () => void }[] = [];
  private syncListeners = new Set<(synced: boolean) => void>();

  constructor(options: SnapshotStoreOptions = {}) {
    this.hub = new WatchHub(options.watchRetain ?? 100_000, options.watchMaxQueued ?? 200_000);
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

  /** True while the state is known to be complete up to the stream's head. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** Applies one stream event and hands it to watchers. */
  apply(event: ClusterEvent): void {
    const change = this.state.apply(event);
    this.hub.publish(event);
    if (change.nodeObjectChanged) this.health.markDirty();
    if (this.waiters.length > 0) this.releaseWaiters();
  }

  /** Marks the state in sync (caught up with the stream) or not (stream lost). */
  setSynced(synced: boolean): void {
    if (synced === this.synced) return;
    this.synced = synced;
    for (const l of this.syncListeners) l(synced);
  }

  /** Subscribes to sync changes. */
  onSyncChange(listener: (synced: boolean) => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  /** Drops the state and every watcher (the stream was recreated). */
  reset(): void {
    this.state.clear();
    this.hub.reset();
    this.health.markDirty();
  }

  /** Fails with UnavailableError unless in sync: the service never serves a state it knows is stale. */
  requireSynced(): void {
    if (!this.synced) throw new UnavailableError('snapshot is not in sync with the cluster stream (NATS unreachable or resyncing); retry shortly');
  }

  /**
   * Waits until `generation` is applied. Rejects with DeadlineExceededError
   * when `signal` aborts first (the caller's deadline).
   */
  async waitFor(generation: number, signal: AbortSignal): Promise<number> {
    if (generation <= this.state.generation) return this.state.generation;
    if (signal.aborted) throw this.deadline(generation);
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        generation,
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(this.deadline(generation));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
    return this.state.generation;
  }

  private deadline(generation: number): DeadlineExceededError {
    return new DeadlineExceededError(`snapshot is at generation ${this.state.generation}; generation ${generation} was not reached before the deadline`);
  }

  private releaseWaiters(): void {
    const gen = this.state.generation;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.generation <= gen) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }
}
