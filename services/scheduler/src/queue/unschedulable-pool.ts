/**
 * The unschedulable pool: pods that a plugin rejected, parked until a
 * cluster event that could make them fit, or until they have waited
 * podMaxInUnschedulablePodsDuration (upstream unschedulablePods). Each entry
 * carries the plugins that rejected it (QueuedPod.unschedulablePlugins); the
 * EventsToRegister table says which events those plugins care about.
 *
 * The pool only chooses who leaves; the scheduling queue decides where they
 * go (backoffQ if still backing off, else activeQ).
 */
import { EventInterest } from './events.js';
import type { EventsToRegister, QueueingEventKind } from './events.js';
import { uidOf } from './queued-pod.js';
import type { QueuedPod } from './queued-pod.js';

/** Upstream DefaultPodMaxInUnschedulablePodsDuration: the longest a pod stays parked. */
export const DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_MS = 5 * 60_000;

/** The unschedulable pool. */
export class UnschedulablePool {
  private readonly entries = new Map<string, QueuedPod>();
  private readonly interest: EventInterest;

  /** @param eventsToRegister which events each plugin registers; unlisted plugins take every event. */
  constructor(eventsToRegister: EventsToRegister) {
    this.interest = new EventInterest(eventsToRegister);
  }

  /** How many pods are parked. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether the pod is parked. */
  has(uid: string): boolean {
    return this.entries.has(uid);
  }

  /** The pod's entry. */
  get(uid: string): QueuedPod | undefined {
    return this.entries.get(uid);
  }

  /** Parks the entry (or replaces the pod's entry). */
  add(entry: QueuedPod): void {
    this.entries.set(uidOf(entry), entry);
  }

  /** Replaces the pod's entry if the pod is parked; whether it was. */
  update(entry: QueuedPod): boolean {
    if (!this.entries.has(uidOf(entry))) return false;
    this.entries.set(uidOf(entry), entry);
    return true;
  }

  /** Removes the pod; its entry, if it was parked. */
  delete(uid: string): QueuedPod | undefined {
    const entry = this.entries.get(uid);
    this.entries.delete(uid);
    return entry;
  }

  /** Every entry, in the order they were parked. */
  list(): QueuedPod[] {
    return [...this.entries.values()];
  }

  /**
   * Removes and returns the pods that an event of this kind may make
   * schedulable: those rejected by at least one plugin that registered it.
   */
  takeMovedBy(kind: QueueingEventKind): QueuedPod[] {
    return this.takeWhere((entry) => this.interest.interested(entry.unschedulablePlugins, kind));
  }

  /**
   * Removes and returns the pods parked for longer than maxMs at `now`
   * (measured from their timestamp, the end of their last attempt).
   */
  takeLeftovers(now: number, maxMs: number): QueuedPod[] {
    return this.takeWhere((entry) => now - entry.timestamp > maxMs);
  }

  private takeWhere(leaves: (entry: QueuedPod) => boolean): QueuedPod[] {
    const taken: QueuedPod[] = [];
    for (const [uid, entry] of this.entries) {
      if (!leaves(entry)) continue;
      this.entries.delete(uid);
      taken.push(entry);
    }
    return taken;
  }
}
