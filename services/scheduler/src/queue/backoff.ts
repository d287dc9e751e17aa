/**
 * backoffQ: pods that failed an attempt and wait out an exponential backoff
 * before they go back to activeQ (upstream backend/queue/backoff_queue.go).
 * Ordered by the time their backoff ends; the scheduling queue flushes the
 * expired ones to activeQ every second.
 *
 * Time is passed in (`now`): the queue itself never reads a clock.
 */
import { KeyedHeap } from './heap.js';
import { PodEntries } from './pod-entries.js';
import { uidOf } from './queued-pod.js';
import type { QueuedPod } from './queued-pod.js';

/** Upstream DefaultPodInitialBackoffDuration: the backoff after the first failed attempt. */
export const DEFAULT_POD_INITIAL_BACKOFF_MS = 1_000;
/** Upstream DefaultPodMaxBackoffDuration: the cap of the doubling. */
export const DEFAULT_POD_MAX_BACKOFF_MS = 10_000;

/** The backoff durations (KubeSchedulerConfiguration podInitialBackoffSeconds / podMaxBackoffSeconds). */
export interface BackoffOptions {
  /** The backoff after the first failed attempt, in ms; doubles with each further attempt. */
  readonly initialMs: number;
  /** The longest backoff, in ms. */
  readonly maxMs: number;
}

/**
 * How long a pod backs off after `attempts` attempts: nothing before the
 * first attempt, then initial × 2^(attempts−1), capped at max.
 */
export function backoffDuration(attempts: number, { initialMs, maxMs }: BackoffOptions): number {
  if (attempts <= 0) return 0;
  let duration = initialMs;
  for (let i = 1; i < attempts; i++) {
    if (duration >= maxMs - duration) return maxMs;
    duration += duration;
  }
  return Math.min(duration, maxMs);
}

/** The backoff queue: entries ordered by the end of their backoff. */
export class BackoffQueue extends PodEntries<KeyedHeap<QueuedPod>> {
  constructor(private readonly options: BackoffOptions) {
    super(new KeyedHeap<QueuedPod>(uidOf, (a, b) => this.expiryOf(a) < this.expiryOf(b)));
  }

  /** When the entry's backoff ends (ms since the epoch): its timestamp plus its backoff. */
  expiryOf(entry: QueuedPod): number {
    return entry.timestamp + backoffDuration(entry.attempts, this.options);
  }

  /** Whether the entry must still wait at `now`. */
  isBackingOff(entry: QueuedPod, now: number): boolean {
    return this.expiryOf(entry) > now;
  }

  /** When the first backoff ends, if any pod backs off. */
  nextExpiry(): number | undefined {
    const head = this.entries.peek();
    return head === undefined ? undefined : this.expiryOf(head);
  }

  /** Removes and returns the entries whose backoff has ended at `now`, earliest first. */
  popExpired(now: number): QueuedPod[] {
    const expired: QueuedPod[] = [];
    for (let head = this.entries.peek(); head !== undefined && !this.isBackingOff(head, now); head = this.entries.peek()) {
      expired.push(this.entries.pop()!);
    }
    return expired;
  }
}
