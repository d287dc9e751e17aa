/**
 * The leases this replica granted, renewed or confirmed, kept in process
 * memory beside Redis, so that a Redis that loses its data (a restart without
 * persistence, a failover to a replica that lacked the last writes) does not
 * lose them. The stream cannot give them back: a pod bound just before the
 * loss is not in the stream until its bound event arrives, and until then its
 * room would be free in a ledger rebuilt from the stream alone. After every
 * rebuild the sync restores the leases remembered here that are still live
 * (`Ledger.restoreLeases`), so a lease outlives a Redis loss as long as the
 * replica that last handed it out lives.
 *
 * A lease is forgotten when it is released or the stream settles it (the pod
 * is bound or gone); one that lapses is dropped when next listed.
 */

/** A remembered lease: where it is and its record as Redis stored it. */
export interface RememberedLease {
  readonly uid: string;
  readonly node: string;
  /** The lease record (JSON) as the ledger's script returned it. */
  readonly record: string;
  /** When it lapses (ms since the epoch, Redis clock): the reserved TTL, or the confirmed one. */
  readonly expireMs: number;
}

/** Lapsed leases are pruned on a write once the memory has grown by this many since the last prune. */
const PRUNE_EVERY = 1_024;

/** See the module comment. */
export class LeaseMemory {
  private readonly leases = new Map<string, RememberedLease>();
  private pruneAt = PRUNE_EVERY;

  /** Remembers the pod's lease record as the ledger returned it (granted, renewed or confirmed). */
  remember(uid: string, node: string, record: string): void {
    const expireMs = Number((JSON.parse(record) as { e?: string }).e);
    if (!Number.isFinite(expireMs)) return;
    this.leases.set(uid, { uid, node, record, expireMs });
    if (this.leases.size >= this.pruneAt) {
      this.live(Date.now());
      this.pruneAt = this.leases.size + PRUNE_EVERY;
    }
  }

  /** The node of the pod's remembered lease: a hint that saves a pod-index lookup (the node's keys decide). */
  nodeOf(uid: string): string | undefined {
    return this.leases.get(uid)?.node;
  }

  /** Forgets the pod's lease: released, or settled by the stream. */
  forget(uid: string): void {
    this.leases.delete(uid);
  }

  /** The leases not lapsed at `nowMs`; the lapsed ones are dropped. */
  live(nowMs: number): RememberedLease[] {
    const out: RememberedLease[] = [];
    for (const [uid, lease] of this.leases) {
      if (lease.expireMs > nowMs) out.push(lease);
      else this.leases.delete(uid);
    }
    return out;
  }

  get size(): number {
    return this.leases.size;
  }
}
