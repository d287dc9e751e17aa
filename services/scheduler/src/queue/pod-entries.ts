/**
 * The entries of one part of the scheduling queue (activeQ, backoffQ, the
 * unschedulable pool), keyed by pod UID: the lookups, adds, replacements and
 * removals they all answer the same way, whatever keeps the entries in order
 * (a KeyedHeap for the two queues, insertion order for the pool).
 */
import { uidOf } from './queued-pod.js';
import type { QueuedPod } from './queued-pod.js';

/** What keeps the entries: a KeyedHeap<QueuedPod>, or a {@link PodMap}. */
export interface PodEntryStore {
  readonly size: number;
  has(uid: string): boolean;
  get(uid: string): QueuedPod | undefined;
  /** Adds the entry or replaces the pod's entry. */
  upsert(entry: QueuedPod): void;
  delete(uid: string): unknown;
  values(): Iterable<QueuedPod>;
}

/** Entries by UID in the order they were added. */
export class PodMap extends Map<string, QueuedPod> implements PodEntryStore {
  upsert(entry: QueuedPod): void {
    this.set(uidOf(entry), entry);
  }
}

/** A part of the scheduling queue: its entries by pod UID. */
export abstract class PodEntries<S extends PodEntryStore> {
  protected constructor(protected readonly entries: S) {}

  /** How many pods are here. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether the pod is here. */
  has(uid: string): boolean {
    return this.entries.has(uid);
  }

  /** The pod's entry. */
  get(uid: string): QueuedPod | undefined {
    return this.entries.get(uid);
  }

  /** Adds the entry (or replaces the pod's entry). */
  add(entry: QueuedPod): void {
    this.entries.upsert(entry);
  }

  /** Replaces the pod's entry if the pod is here; whether it was. */
  update(entry: QueuedPod): boolean {
    if (!this.entries.has(uidOf(entry))) return false;
    this.entries.upsert(entry);
    return true;
  }

  /** Removes the pod; its entry, if it was here. */
  delete(uid: string): QueuedPod | undefined {
    const entry = this.entries.get(uid);
    this.entries.delete(uid);
    return entry;
  }

  /** Every entry (in the pool, in the order they were parked; in the queues, in no particular order). */
  list(): QueuedPod[] {
    return [...this.entries.values()];
  }
}
