/**
 * Keeps an attempt's lease alive between Permit and the bind. PreBind (REST
 * plugins, up to their timeouts) and the Binding call may together outlast
 * the lease's TTL; a lease that lapsed there could be granted to another pod
 * while this one still binds — two pods on room for one (review M8).
 *
 * The attempt checks the lease at the steps that matter (before PreBind and
 * right before Bind: a renewal checks the fencing version, so a lease that
 * lapsed and went to another attempt refuses the bind) and, between them,
 * this keeper renews it in the background whenever it turns a third of its
 * TTL old (counted from its latest grant or renewal, not from when the keeper
 * started), so every renewal has two thirds of the TTL to get through.
 *
 * A check skips the renewal while the lease is fresh: granted or renewed by
 * this keeper less than a third of its TTL ago (by this process's monotonic
 * clock, from when that request was sent — the ledger started the TTL no
 * earlier, so the lease lives at least two thirds of its TTL longer). That
 * is as much life as the background renewals guarantee anyway, and those go
 * on through the step. Only for a lease no one else can take before it
 * lapses: the caller says when that holds ({@link LeaseCheck}).
 *
 * The check right before the Binding also marks the lease binding (a Binding
 * whose answer is lost may have landed: no Reserve may move the pod off the
 * node). A lease the Reserve granted already marked ({@link HeldLease.grantedBinding}:
 * asked for, and the lease says it is binding — a reservation service that
 * does not know the field leaves it unmarked) needs that check only to keep
 * it alive, so a fresh one skips it too, and so does every check of a fresh
 * one: no Reserve can move it. The scheduler's attempts and the extender's
 * bind then bind with no Renew call at all. What the mark
 * from the grant changes, against a mark set right before the Binding:
 * - the lease is binding through PreBind as well. An attempt that fails
 *   before the Binding Unreserves it, and a plain Unreserve releases a
 *   binding lease as any (only a Reserve's move and a gang round's rejection
 *   keep one);
 * - a replica that dies between Reserve and the Binding leaves a lease that
 *   no Reserve moves until its TTL lapses. Other replicas were refused it
 *   anyway (another holder's live reserved lease); only this holder's own
 *   later attempt on another node (a restart under the same name, an attempt
 *   whose Unreserve failed) now waits for the TTL, as an Error with backoff;
 * - the extender's bind: kube-scheduler's retry of a bind whose answer was
 *   late, on another node while the first call is still before its Binding,
 *   is refused (an Error; kube-scheduler backs off and tries again) instead
 *   of moving the lease and failing the first call at its renewal. The first
 *   call then binds, or fails and Unreserves, and the next retry goes through.
 *   A retry on the same node shares the first call's lease (same version),
 *   and either call's failure Unreserves it under the other: while two binds
 *   of a pod overlap, both renew at every check (the attempt's `concurrent`);
 * - a repeated Reserve that returns the pod's existing reserved lease marks
 *   it and gives it its TTL again from the Reserve, so its freshness, counted
 *   from when that Reserve was sent, holds as for a new grant;
 * - gang members do not ask for it: Permit's wait leaves the lease seldom
 *   fresh by the Binding (the renewal runs anyway), and a round that times
 *   out releases its members' reserved leases but keeps binding ones.
 */
import type { Status } from '@schedmesh/framework';
import type { Logger } from '@schedmesh/runtime';
import { renew } from './adapters/reservation.js';
import type { ReservationClient } from './clients.js';

/** The lease an attempt holds. */
export interface HeldLease {
  readonly podUid: string;
  readonly nodeName: string;
  readonly fencingVersion: number;
  /** The TTL the lease was granted with, in ms (a renewal grants it again). */
  readonly ttlMs: number;
  /** performance.now() when the Reserve that granted it was sent. */
  readonly grantSentAt: number;
  /** The Reserve was asked for the mark (ReserveRequest.binding) and the lease carries it (Lease.binding): see the module comment. */
  readonly grantedBinding: boolean;
}

/**
 * How a step checks its lease:
 * - 'renew': always renew, unless the lease is fresh and was granted binding
 *   (an unmarked lease may be taken from the attempt before it lapses: the
 *   extender's bind, which kube-scheduler retries while the first call still
 *   runs, Reserves the pod again and so would move it; a binding lease
 *   refuses that move);
 * - 'renewUnlessFresh': renew only past a third of the TTL, or right before
 *   the Binding when the lease is not marked binding yet (the scheduler's
 *   own attempts: one attempt per pod at a time, other replicas refused the
 *   pod's lease, so only its expiry can end it).
 */
export type LeaseCheck = 'renew' | 'renewUnlessFresh';

/** The shortest background renewal period, in ms. */
const MIN_PERIOD_MS = 100;

/** See the module comment. */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** When the latest grant or renewal known good was sent; -Infinity once a renewal found the lease lost. */
  private freshSince: number;

  constructor(
    private readonly client: ReservationClient,
    private readonly lease: HeldLease,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {
    this.freshSince = lease.grantSentAt;
  }

  /**
   * Renews now and checks the version: Success, or Unschedulable when the
   * lease is lost. I/O failures throw. `binding`: the Binding comes next
   * (the lease is marked, and a later Reserve of the pod on another node is
   * refused while its outcome may be unknown).
   */
  async renew(binding = false): Promise<Status> {
    const { podUid, nodeName, fencingVersion } = this.lease;
    const sentAt = performance.now();
    const status = await renew(this.client, { podUid, nodeName, fencingVersion, binding }, this.signal);
    if (!status.isSuccess()) this.freshSince = Number.NEGATIVE_INFINITY;
    else if (sentAt > this.freshSince) this.freshSince = sentAt;
    return status;
  }

  /**
   * Whether a check must renew: a lease that is not fresh always; a fresh
   * one granted binding never (no Reserve can move it, not even the pod's
   * own retry, so under 'renew' too it is still this attempt's); otherwise
   * always under 'renew', and under 'renewUnlessFresh' only the check right
   * before the Binding (`binding`), which has to mark it.
   */
  mustRenew(check: LeaseCheck, binding: boolean): boolean {
    if (!this.isFresh()) return true;
    if (this.lease.grantedBinding) return false;
    return check === 'renew' || binding;
  }

  /** Granted or renewed less than a third of the TTL ago. */
  isFresh(now: number = performance.now()): boolean {
    return now - this.freshSince < this.period();
  }

  /** Starts the background renewals (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleNext();
  }

  /** Stops them; a renewal in flight is left to finish on its own. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private period(): number {
    return Math.max(MIN_PERIOD_MS, Math.floor(this.lease.ttlMs / 3));
  }

  // One renewal at a time, the next due when the lease turns a third of its TTL old (a failed one is
  // tried again MIN_PERIOD_MS later); none after the lease is found lost: the check before Bind says so.
  private scheduleNext(): void {
    if (!this.running || this.signal.aborted || this.freshSince === Number.NEGATIVE_INFINITY) return;
    const dueInMs = this.freshSince + this.period() - performance.now();
    this.timer = setTimeout(() => this.tick(), Math.max(MIN_PERIOD_MS, dueInMs));
    this.timer.unref();
  }

  private tick(): void {
    if (!this.running || this.signal.aborted) return;
    void this.renew()
      .then((status) => {
        if (!status.isSuccess()) this.logger.warn({ pod: this.lease.podUid, node: this.lease.nodeName, reason: status.message() }, 'lease lost while the pod is in PreBind or Bind');
      })
      .catch((err: unknown) => this.logger.debug({ pod: this.lease.podUid, err: (err as Error).message }, 'a background lease renewal failed; the next one retries'))
      .finally(() => this.scheduleNext());
  }
}
