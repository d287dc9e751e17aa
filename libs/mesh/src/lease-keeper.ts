/**
 * Keeps an attempt's lease alive between Permit and the bind. PreBind (REST
 * plugins, up to their timeouts) and the Binding call may together outlast
 * the lease's TTL; a lease that lapsed there could be granted to another pod
 * while this one still binds — two pods on room for one (review M8).
 *
 * The attempt renews the lease at the steps that matter (before PreBind and
 * right before Bind: each renewal checks the fencing version, so a lease that
 * lapsed and went to another attempt refuses the bind) and, between them,
 * this keeper renews it in the background every third of its TTL.
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
}

/** The shortest background renewal period, in ms. */
const MIN_PERIOD_MS = 100;

/** See the module comment. */
export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<unknown> | undefined;

  constructor(
    private readonly client: ReservationClient,
    private readonly lease: HeldLease,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Renews now and checks the version: Success, or Unschedulable when the
   * lease is lost. I/O failures throw. `binding`: the Binding comes next
   * (the lease is marked, and a later Reserve of the pod on another node is
   * refused while its outcome may be unknown).
   */
  renew(binding = false): Promise<Status> {
    const { podUid, nodeName, fencingVersion } = this.lease;
    return renew(this.client, { podUid, nodeName, fencingVersion, binding }, this.signal);
  }

  /** Starts the background renewals (idempotent). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), Math.max(MIN_PERIOD_MS, Math.floor(this.lease.ttlMs / 3)));
    this.timer.unref();
  }

  /** Stops them; a renewal in flight is left to finish on its own. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    // One at a time: a slow renewal is not piled on.
    if (this.renewing || this.signal.aborted) return;
    this.renewing = this.renew()
      .then((status) => {
        if (!status.isSuccess()) this.logger.warn({ pod: this.lease.podUid, node: this.lease.nodeName, reason: status.message() }, 'lease lost while the pod is in PreBind or Bind');
      })
      .catch((err: unknown) => this.logger.debug({ pod: this.lease.podUid, err: (err as Error).message }, 'a background lease renewal failed; the next one retries'))
      .finally(() => {
        this.renewing = undefined;
      });
  }
}
