/**
 * Schedule calls waiting for a queued pod's outcome (a Schedule with `bind`
 * for a pod that exists in the API goes through the queue, not beside it):
 * the next attempt this replica makes for the pod, or the pod leaving the
 * pending state without one (bound by another replica, deleted).
 */
import type { AttemptResult } from '@schedmesh/mesh';
import type { Pod } from '@schedmesh/proto/v1/types';

/** How a waited-for pod ended its wait. */
export type QueuedOutcome =
  /** An attempt of this replica ran (a lost lease race does not count: the wait goes on). */
  | { readonly kind: 'attempt'; readonly result: AttemptResult }
  /** The pod is no longer pending: bound (nodeName set) or gone, by someone else. */
  | { readonly kind: 'settled'; readonly pod: Pod };

/** Waiters by pod uid. */
export class OutcomeWaiters {
  private readonly waiting = new Map<string, Set<(outcome: QueuedOutcome) => void>>();

  /** Resolves with the pod's next outcome; rejects with the signal's reason if it aborts first. */
  wait(uid: string, signal: AbortSignal): Promise<QueuedOutcome> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(signal));
        return;
      }
      const set = this.waiting.get(uid) ?? new Set();
      this.waiting.set(uid, set);
      const done = (outcome: QueuedOutcome): void => {
        signal.removeEventListener('abort', abort);
        resolve(outcome);
      };
      const abort = (): void => {
        set.delete(done);
        if (set.size === 0) this.waiting.delete(uid);
        reject(abortError(signal));
      };
      set.add(done);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  /** Hands the outcome to every caller waiting for the pod. */
  resolve(uid: string, outcome: QueuedOutcome): void {
    const set = this.waiting.get(uid);
    if (set === undefined) return;
    this.waiting.delete(uid);
    for (const done of set) done(outcome);
  }

  /** How many pods have callers waiting. */
  get size(): number {
    return this.waiting.size;
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
}
