import { ClusterSnapshot } from '@schedmesh/scheduling';
import type { WatchResponse } from '@schedmesh/proto/v1/snapshot';
import { DeadlineExceededError, UnavailableError } from '@schedmesh/runtime';

/**
 * The local replica of the cluster snapshot, fed by SnapshotService.Watch
 * frames, and the gate that keeps it still while cycles read it.
 *
 * A cycle's PreFilter and PreScore are asynchronous, so Watch frames could
 * otherwise land between two points of one cycle. Cycles therefore run
 * inside {@link read}: while any cycle runs, frames queue and are applied
 * the moment the last one ends; a cycle that starts while frames wait lets
 * them apply first (no starvation under load). A full state is built aside
 * and swapped in the same way, so a cycle never sees a half-built replica.
 *
 * Knows nothing of gRPC; the Watch loop (watch-sync.ts) drives it.
 */
export class SnapshotReplica {
  private serving = new ClusterSnapshot();
  private building: ClusterSnapshot | undefined;
  private synced = false;
  private everSynced = false;
  private readers = 0;
  private pending: (() => void)[] = [];
  private drained: (() => void)[] = [];
  private waiters: { generation: number; resolve: () => void }[] = [];
  private readonly syncListeners = new Set<(synced: boolean) => void>();
  /** Updates applied to the serving snapshot (for metrics and tests). */
  framesApplied = 0;
  /** Full states received (the first, then one per resync that could not resume). */
  fullStates = 0;

  /** The snapshot cycles read (stable inside {@link read}). */
  get current(): ClusterSnapshot {
    return this.serving;
  }

  /** The generation of the serving snapshot. */
  get generation(): number {
    return this.serving.generation;
  }

  /** True while the replica is known to be in step with the snapshot service. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** True once a full state was received: a Watch can then resume from {@link generation}. */
  get hasState(): boolean {
    return this.everSynced;
  }

  /** True between the first and the last frame of a full state. */
  get isRebuilding(): boolean {
    return this.building !== undefined;
  }

  /** Subscribes to sync changes. */
  onSyncChange(listener: (synced: boolean) => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  /** Marks the replica in step (or not). */
  setSynced(synced: boolean): void {
    if (synced === this.synced) return;
    this.synced = synced;
    if (synced) this.everSynced = true;
    for (const l of this.syncListeners) l(synced);
  }

  /** Fails with UnavailableError unless in sync: the service never serves a replica it knows is stale. */
  requireSynced(): void {
    if (!this.synced) throw new UnavailableError('the snapshot replica is not in sync with the snapshot service (watch lost or resyncing); retry shortly');
  }

  /**
   * Applies one Watch frame: a full state (reset … synced) is built aside and
   * swapped in on its last frame; other frames apply in order.
   */
  applyFrame(frame: WatchResponse): void {
    if (frame.reset) {
      this.fullStates++;
      this.building = new ClusterSnapshot();
      this.setSynced(false);
    }
    const building = this.building;
    if (building !== undefined) {
      for (const e of frame.events) building.apply(e);
      building.advanceTo(frame.generation);
      if (frame.synced) {
        this.building = undefined;
        this.enqueue(() => {
          this.serving = building;
        });
      }
      return;
    }
    const { events, generation } = frame;
    this.enqueue(() => {
      for (const e of events) this.serving.apply(e);
      this.serving.advanceTo(generation);
    });
  }

  /** Drops the replica (the next Watch starts from a full state). */
  reset(): void {
    this.building = undefined;
    this.everSynced = false;
    this.setSynced(false);
    this.enqueue(() => {
      this.serving = new ClusterSnapshot();
    });
  }

  /**
   * Runs fn with the snapshot held still: no frame is applied until fn
   * settles. Frames already waiting are applied first.
   */
  async read<T>(fn: (snapshot: ClusterSnapshot) => Promise<T>): Promise<T> {
    while (this.pending.length > 0 && this.readers > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    this.flush();
    this.readers++;
    try {
      return await fn(this.serving);
    } finally {
      this.readers--;
      if (this.readers === 0) this.flush();
    }
  }

  /**
   * Waits until the serving snapshot has applied generation; rejects with
   * DeadlineExceededError when signal aborts first (the caller's deadline).
   */
  async waitFor(generation: number, signal: AbortSignal): Promise<number> {
    if (generation <= this.generation) return this.generation;
    const deadline = (): DeadlineExceededError =>
      new DeadlineExceededError(`the snapshot replica is at generation ${this.generation}; generation ${generation} was not reached before the deadline`);
    if (signal.aborted) throw deadline();
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
        reject(deadline());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
    return this.generation;
  }

  private enqueue(op: () => void): void {
    this.pending.push(op);
    if (this.readers === 0) this.flush();
  }

  private flush(): void {
    if (this.pending.length > 0) {
      const ops = this.pending;
      this.pending = [];
      for (const op of ops) {
        op();
        this.framesApplied++;
      }
      if (this.waiters.length > 0) {
        const gen = this.generation;
        const keep: typeof this.waiters = [];
        for (const w of this.waiters) {
          if (w.generation <= gen) w.resolve();
          else keep.push(w);
        }
        this.waiters = keep;
      }
    }
    if (this.drained.length > 0) {
      const wake = this.drained;
      this.drained = [];
      for (const w of wake) w();
    }
  }
}
