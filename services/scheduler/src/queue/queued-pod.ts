/**
 * What the queue holds per pod (upstream framework.QueuedPodInfo): the
 * framework's QueuedPodInfo, which the QueueSort plugin reads, plus the
 * bookkeeping of past attempts. Entries are immutable values; every change
 * makes a new one.
 */
import type { QueuedPodInfo } from '@schedmesh/framework';
import type { Pod } from '@schedmesh/proto/v1/types';

/** The outcome of a failed attempt, kept for GetSchedulingStatus. */
export interface AttemptFailure {
  /** Unschedulable (a plugin rejected the pod) or an error (the attempt itself failed). */
  readonly unschedulable: boolean;
  /** The plugins that rejected the pod; empty after an error. */
  readonly plugins: readonly string[];
  /** The explanation ("0/5 nodes are available: ..."), if the scheduler gave one. */
  readonly message: string;
  /** When the attempt failed (ms since the epoch). */
  readonly at: number;
}

/** A pod in the scheduling queue. */
export interface QueuedPod extends QueuedPodInfo {
  /** The latest version of the pod the queue was given. */
  readonly pod: Pod;
  /**
   * When the pod last entered the queue (ms since the epoch): when it was
   * added, or when its last failed attempt came back. QueueSort breaks
   * priority ties on it, and backoff counts from it.
   */
  readonly timestamp: number;
  /** Scheduling attempts so far; pop counts one more. */
  readonly attempts: number;
  /** When the pod was first added (ms since the epoch), for end-to-end latency. */
  readonly initialAttemptTimestamp: number;
  /** The plugins that rejected the last attempt; empty before any attempt and after an error. */
  readonly unschedulablePlugins: ReadonlySet<string>;
  /** The last failed attempt, if any. */
  readonly lastFailure: AttemptFailure | undefined;
}

/** A pod's entry when it first enters the queue. */
export function newQueuedPod(pod: Pod, now: number): QueuedPod {
  return { pod, timestamp: now, attempts: 0, initialAttemptTimestamp: now, unschedulablePlugins: new Set(), lastFailure: undefined };
}

/** The key every sub-queue finds an entry by. */
export function uidOf(entry: QueuedPodInfo): string {
  return entry.pod.uid;
}

/** The QueueSort ordering: whether a is scheduled before b. */
export type QueueLess = (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
