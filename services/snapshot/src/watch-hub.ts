import { ClusterEvent } from '@schedmesh/proto/v1/types';

/** A slow watcher's budget of undelivered events, by default: 64 MiB. */
export const defaultWatchMaxQueuedBytes = 64 * 1024 * 1024;

/** Raised to a watcher that fell too far behind; it resumes from its generation. */
export class WatcherOverflowError extends Error {
  constructor(readonly generation: number) {
    super(`watcher fell behind by more than its byte budget; resume the watch from generation ${generation}`);
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
   * @param maxQueuedBytes how many bytes of undelivered events (their encoded size) one watcher may
   *   hold before it is cut off: a budget in bytes, because one pod event can be a hundred bytes or
   *   a megabyte, and it is memory a slow watcher costs.
   */
  constructor(
    private readonly retain: number,
    private readonly maxQueuedBytes: number,
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
    if (this.subscribers.size === 0) return;
    const bytes = ClusterEvent.encode(event).finish().byteLength;
    for (const sub of this.subscribers) sub.push(event, bytes);
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
    const sub = new Sub(this.maxQueuedBytes, () => this.subscribers.delete(sub));
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
  private queue: QueuedEvent[] = [];
  private queuedBytes = 0;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly maxQueuedBytes: number,
    private readonly onClose: () => void,
  ) {}

  push(event: ClusterEvent, bytes: number): void {
    if (this.error) return;
    if (this.queuedBytes + bytes > this.maxQueuedBytes) {
      // Resume from the last event the watcher was sent: the first queued one, or this one.
      this.fail(new WatcherOverflowError((this.queue[0]?.event ?? event).generation - 1));
      return;
    }
    this.queue.push({ event, bytes });
    this.queuedBytes += bytes;
    this.wake?.();
  }

  fail(err: Error): void {
    this.error ??= err;
    this.drop();
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
    const taken = this.queue.length <= max ? this.queue.splice(0) : this.queue.splice(0, max);
    for (const { bytes } of taken) this.queuedBytes -= bytes;
    return taken.map(({ event }) => event);
  }

  close(): void {
    this.drop();
    this.onClose();
  }

  private drop(): void {
    this.queue = [];
    this.queuedBytes = 0;
  }
}

interface QueuedEvent {
  readonly event: ClusterEvent;
  /** Its encoded size, counted against the watcher's budget. */
  readonly bytes: number;
}
