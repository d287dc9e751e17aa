import type { ClusterEvent } from '@schedmesh/proto/v1/types';

/** Raised to a watcher that fell too far behind; it resumes from its generation. */
export class WatcherOverflowError extends Error {
  constructor(readonly generation: number) {
    super(`watcher fell behind by more than its buffer; resume the watch from generation ${generation}`);
    this.name = 'WatcherOverflowError';
  }
}

/** Raised to every watcher when the snapshot restarts from an empty state (the stream was reset). */
export class SnapshotResetError extends Error {
  constructor() {
    super('the snapshot was reset (stream recreated); watch again from generation 0');
    this.name = 'SnapshotResetError';
  }
}

/** One watcher's queue of events to send. */
export interface Subscription {
  /** Waits for the next batch (at most `max` events); rejects on overflow or reset; [] when aborted. */
  next(max: number, signal: AbortSignal): Promise<ClusterEvent[]>;
  /** Stops receiving. */
  close(): void;
}

/**
 * Fans applied events out to watchers, and keeps the most recent ones so a
 * watcher that reconnects can resume from its generation without a full state.
 */
export class WatchHub {
  private readonly ring: (ClusterEvent | undefined)[];
  private start = 0;
  private size = 0;
  private readonly subscribers = new Set<Sub>();

  /**
   * @param retain how many recent events are kept for resumption.
   * @param maxQueued how many undelivered events one watcher may have before it is cut off.
   */
  constructor(
    private readonly retain: number,
    private readonly maxQueued: number,
  ) {
    this.ring = new Array<ClusterEvent | undefined>(retain);
  }

  /** Number of connected watchers. */
  get watchers(): number {
    return this.subscribers.size;
  }

  /** Records an applied event and hands it to every watcher. */
  publish(event: ClusterEvent): void {
    if (this.retain > 0) {
      this.ring[(this.start + this.size) % this.retain] = event;
      if (this.size < this.retain) this.size++;
      else this.start = (this.start + 1) % this.retain;
    }
    for (const sub of this.subscribers) sub.push(event);
  }

  /**
   * The retained events after `generation`, or undefined if some of them were
   * already dropped (the caller then needs a full state).
   */
  since(generation: number): ClusterEvent[] | undefined {
    if (this.size === 0) return undefined;
    const oldest = this.ring[this.start]!.generation;
    if (generation < oldest - 1) return undefined;
    const out: ClusterEvent[] = [];
    for (let i = 0; i < this.size; i++) {
      const e = this.ring[(this.start + i) % this.retain]!;
      if (e.generation > generation) out.push(e);
    }
    return out;
  }

  /** Subscribes to events published from now on. */
  subscribe(): Subscription {
    const sub = new Sub(this.maxQueued, () => this.subscribers.delete(sub));
    this.subscribers.add(sub);
    return sub;
  }

  /** Forgets the retained events and ends every watcher with SnapshotResetError. */
  reset(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.size = 0;
    for (const sub of this.subscribers) sub.fail(new SnapshotResetError());
  }
}

class Sub implements Subscription {
  private queue: ClusterEvent[] = [];
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly maxQueued: number,
    private readonly onClose: () => void,
  ) {}

  push(event: ClusterEvent): void {
    if (this.error) return;
    if (this.queue.length >= this.maxQueued) {
      this.fail(new WatcherOverflowError(this.queue[0]!.generation - 1));
      return;
    }
    this.queue.push(event);
    this.wake?.();
  }

  fail(err: Error): void {
    this.error ??= err;
    this.queue = [];
    this.onClose();
    this.wake?.();
  }

  async next(max: number, signal: AbortSignal): Promise<ClusterEvent[]> {
    while (this.queue.length === 0 && !this.error && !signal.aborted) {
      // The watch's signal lives as long as the stream: its listener must go with each wait, or
      // every batch leaves one behind.
      let onAbort: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      });
      signal.removeEventListener('abort', onAbort!);
      this.wake = undefined;
    }
    if (this.error) throw this.error;
    if (signal.aborted) return [];
    return this.queue.length <= max ? this.queue.splice(0) : this.queue.splice(0, max);
  }

  close(): void {
    this.queue = [];
    this.onClose();
  }
}
