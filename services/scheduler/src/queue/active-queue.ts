/**
 * activeQ: the pods ready to be scheduled, in QueueSort order (upstream
 * backend/queue/active_queue.go). The scheduler takes the head with pop,
 * which waits while the queue is empty.
 */
import { KeyedHeap } from './heap.js';
import { PodEntries } from './pod-entries.js';
import { uidOf } from './queued-pod.js';
import type { QueuedPod, QueueLess } from './queued-pod.js';

/** How an ActiveQueue is built. */
export interface ActiveQueueOptions {
  /** The QueueSort plugin's less: whether a is scheduled before b. */
  readonly less: QueueLess;
  /**
   * Called synchronously at the moment an entry leaves the queue through pop,
   * before any other code runs; pop resolves with what it returns. The
   * scheduling queue counts the attempt and marks the pod in flight here, so
   * that no delete or event can fall between the two.
   */
  readonly onPop?: (entry: QueuedPod) => QueuedPod;
}

/** Why the signal aborted, as an Error (an AbortError DOMException unless the caller gave a reason). */
function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException(String(signal.reason), 'AbortError');
}

interface Waiter {
  readonly resolve: (entry: QueuedPod | undefined) => void;
  /** Detaches the waiter from its AbortSignal. */
  release: () => void;
}

/** The active queue: a heap by QueueSort order, with a waiting pop. */
export class ActiveQueue extends PodEntries<KeyedHeap<QueuedPod>> {
  private readonly onPop: (entry: QueuedPod) => QueuedPod;
  /** Pops waiting for an entry, served first come, first served. */
  private readonly waiters: Waiter[] = [];
  private isClosed = false;

  constructor(options: ActiveQueueOptions) {
    super(new KeyedHeap<QueuedPod>(uidOf, options.less));
    this.onPop = options.onPop ?? ((entry) => entry);
  }

  /** Whether close was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Adds the entry, or replaces the pod's entry and moves it to its new place
   * (a priority change). A waiting pop gets the head at once.
   */
  override add(entry: QueuedPod): void {
    super.add(entry);
    this.serveWaiters();
  }

  /**
   * Takes the head of the queue, waiting until there is one. Resolves with
   * undefined once the queue is closed (also when closed while waiting);
   * rejects with signal.reason when the signal aborts first.
   */
  pop(signal?: AbortSignal): Promise<QueuedPod | undefined> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.isClosed) return Promise.resolve(undefined);
    if (this.entries.size > 0) return Promise.resolve(this.take());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, release: () => undefined };
      this.waiters.push(waiter);
      if (signal === undefined) return;
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.release = () => signal.removeEventListener('abort', onAbort);
    });
  }

  /**
   * Closes the queue: waiting and later pops resolve with undefined. The
   * entries stay (they are listed until deleted). Idempotent.
   */
  close(): void {
    this.isClosed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.release();
      waiter.resolve(undefined);
    }
  }

  private take(): QueuedPod {
    return this.onPop(this.entries.pop()!);
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0 && this.entries.size > 0) {
      const waiter = this.waiters.shift()!;
      waiter.release();
      waiter.resolve(this.take());
    }
  }
}
