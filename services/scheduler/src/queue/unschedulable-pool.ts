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
import { PodEntries, PodMap } from './pod-entries.js';
import type { QueuedPod } from './queued-pod.js';

/** Upstream DefaultPodMaxInUnschedulablePodsDuration: the longest a pod stays parked. */
export const DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_MS = 5 * 60_000;

/** The unschedulable pool. */
export class UnschedulablePool extends PodEntries<PodMap> {
  private readonly interest: EventInterest;

  /** @param eventsToRegister which events each plugin registers; unlisted plugins take every event. */
  constructor(eventsToRegister: EventsToRegister) {
    super(new PodMap());
    this.interest = new EventInterest(eventsToRegister);
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
