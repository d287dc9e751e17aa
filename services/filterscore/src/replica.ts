import { ClusterSnapshot } from '@schedmesh/scheduling';
import type { WatchResponse } from '@schedmesh/proto/v1/snapshot';
import { GenerationGate, ResourceExhaustedError } from '@schedmesh/runtime';

/** Events that may wait for running cycles to end, by default. */
export const defaultMaxQueuedEvents = 100_000;

/** Options of {@link SnapshotReplica}. */
export interface SnapshotReplicaOptions {
  /** Server-side limit of a min_generation wait, in ms. */
  maxWaitMs?: number;
  /**
   * Events of Watch frames that may wait while cycles hold the replica
   * (default 100,000). At the limit the Watch is not read
   * ({@link roomForFrames}) and new cycles are refused RESOURCE_EXHAUSTED
   * until the running ones end.
   */
  maxQueuedEvents?: number;
}

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
 * The queue is bounded: a cycle held by a slow plugin would otherwise let it
 * grow for as long as it waits. At `maxQueuedEvents` the Watch loop stops
 * reading (the snapshot service's per-watcher byte budget then bounds what
 * waits on its side) and new cycles are refused RESOURCE_EXHAUSTED.
 *
 * Its gate follows the serving snapshot's generation (min_generation waits)
 * and says whether the replica is in step with the snapshot service: the Watch
 * loop (watch-sync.ts) drives it. Knows nothing of gRPC.
 */
export class SnapshotReplica {
  private serving = new ClusterSnapshot();
  private building: ClusterSnapshot | undefined;
  private everSynced = false;
  private readers = 0;
  private pending: (() => void)[] = [];
  private pendingEvents = 0;
  private drained: (() => void)[] = [];
  private readonly maxQueuedEvents: number;
  /** The serving snapshot's generation, waits for a later one, and whether the replica is in step. */
  readonly gate: GenerationGate;
  /** Updates applied to the serving snapshot (for metrics and tests). */
  framesApplied = 0;
  /** Full states received (the first, then one per resync that could not resume). */
  fullStates = 0;

  constructor(options: SnapshotReplicaOptions = {}) {
    this.maxQueuedEvents = options.maxQueuedEvents ?? defaultMaxQueuedEvents;
    this.gate = new GenerationGate({
      name: 'the snapshot replica',
      source: 'the snapshot service (watch lost or resyncing)',
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    });
    this.gate.onSyncChange((synced) => {
      if (synced) this.everSynced = true;
    });
  }

  /** The snapshot cycles read (stable inside {@link read}). */
  get current(): ClusterSnapshot {
    return this.serving;
  }

  /** The generation of the serving snapshot. */
  get generation(): number {
    return this.serving.generation;
  }

  /** True once a full state was received: a Watch can then resume from {@link generation}. */
  get hasState(): boolean {
    return this.everSynced;
  }

  /** True between the first and the last frame of a full state. */
  get isRebuilding(): boolean {
    return this.building !== undefined;
  }

  /**
   * Applies one Watch frame: a full state (reset … synced) is built aside and
   * swapped in on its last frame; other frames apply in order.
   */
  applyFrame(frame: WatchResponse): void {
    if (frame.reset) {
      this.fullStates++;
      this.building = new ClusterSnapshot();
      this.gate.setSynced(false);
    }
    const building = this.building;
    if (building !== undefined) {
      for (const e of frame.events) building.apply(e);
      building.advanceTo(frame.generation);
      if (frame.synced) {
        this.building = undefined;
        this.enqueue(1, () => {
          this.serving = building;
        });
      }
      return;
    }
    const { events, generation } = frame;
    this.enqueue(events.length, () => {
      for (const e of events) this.serving.apply(e);
      this.serving.advanceTo(generation);
    });
  }

  /** Events waiting for the running cycles to end. */
  get queuedEvents(): number {
    return this.pendingEvents;
  }

  /**
   * Resolves when the queue is under its limit (at once, unless cycles hold
   * a full queue), or when `signal` aborts: the Watch loop waits here
   * before it reads the next frame.
   */
  async roomForFrames(signal: AbortSignal): Promise<void> {
    while (this.full && !signal.aborted) {
      let onAbort: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        this.drained.push(resolve);
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      });
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** Drops the replica (the next Watch starts from a full state). */
  reset(): void {
    this.building = undefined;
    this.everSynced = false;
    this.gate.setSynced(false);
    this.enqueue(0, () => {
      this.serving = new ClusterSnapshot();
    });
  }

  /**
   * Runs fn with the snapshot held still: no frame is applied until fn
   * settles. Frames already waiting are applied first.
   *
   * @throws ResourceExhaustedError when the frames waiting for running cycles
   *   fill the queue: a new cycle would only add to the wait.
   */
  async read<T>(fn: (snapshot: ClusterSnapshot) => Promise<T>): Promise<T> {
    if (this.full) {
      throw new ResourceExhaustedError(
        `the snapshot replica has ${this.pendingEvents} events waiting for ${this.readers} running cycles to end (limit ${this.maxQueuedEvents}); retry with backoff`,
      );
    }
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

  private get full(): boolean {
    return this.readers > 0 && this.pendingEvents >= this.maxQueuedEvents;
  }

  private enqueue(events: number, op: () => void): void {
    this.pending.push(op);
    this.pendingEvents += events;
    if (this.readers === 0) this.flush();
  }

  private flush(): void {
    if (this.pending.length > 0) {
      const ops = this.pending;
      this.pending = [];
      this.pendingEvents = 0;
      for (const op of ops) {
        op();
        this.framesApplied++;
      }
      // A full state of a recreated stream may be behind the replica it replaces.
      if (this.generation < this.gate.generation) this.gate.rewind(this.generation);
      else this.gate.advance(this.generation);
    }
    if (this.drained.length > 0) {
      const wake = this.drained;
      this.drained = [];
      for (const w of wake) w();
    }
  }
}
