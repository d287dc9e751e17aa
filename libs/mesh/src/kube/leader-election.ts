/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's
 * leaderelection package does it: the leader renews the Lease every
 * `retryPeriod`; a candidate takes it over once it has seen the same record
 * unchanged for `leaseDuration` (by its own clock: no trust in the holder's
 * timestamps, so clock skew does not matter); a leader that cannot renew
 * within `renewDeadline` stops leading before its Lease can lapse. Every
 * write carries the resourceVersion it read, so two candidates never both
 * win. On stop the leader hands the Lease back (empty holder) so a standby
 * takes over at once instead of after a lapse.
 */
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import type { Logger } from '@schedmesh/runtime';
import { sleep } from '@schedmesh/runtime';

/** Options of {@link LeaderElector}. */
export interface LeaderElectionOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** The Lease's name. */
  readonly name: string;
  /** This candidate, unique among them (client-go: hostname + "_" + a UUID). */
  readonly identity: string;
  /** How long a Lease not renewed stays the holder's, in ms (client-go's default 15 s). */
  readonly leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it stops leading, in ms (< leaseDuration; default 10 s). */
  readonly renewDeadlineMs: number;
  /** Delay between attempts, in ms (default 2 s). */
  readonly retryPeriodMs: number;
  readonly logger: Logger;
  /**
   * Runs while this candidate leads; `signal` aborts when it stops leading
   * (the Lease lost, or the elector stopped). Leadership ends when the work
   * ends too.
   */
  lead(signal: AbortSignal): Promise<void>;
}

/** See the module comment. */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  /** The record last seen, and when (by this clock): a record unchanged for leaseDuration has lapsed. */
  private observed: { record: string; atMs: number } | undefined;
  private leading = false;

  constructor(private readonly o: LeaderElectionOptions) {
    if (o.renewDeadlineMs >= o.leaseDurationMs) throw new RangeError('renewDeadline must be shorter than leaseDuration');
    this.api = o.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  /** True while this candidate holds the Lease. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns, leads, and campaigns again after losing the Lease, until `signal` aborts; then hands the Lease back. */
  async run(signal: AbortSignal): Promise<void> {
    const { logger, identity } = this.o;
    while (!signal.aborted) {
      if (!(await this.tryAcquireOrRenew())) {
        await sleep(signal, this.o.retryPeriodMs);
        continue;
      }
      this.leading = true;
      logger.info({ lease: this.leaseName, identity }, 'became the leader');
      const term = new AbortController();
      const stopTerm = (): void => term.abort();
      signal.addEventListener('abort', stopTerm, { once: true });
      const work = this.o.lead(term.signal).catch((err: unknown) => logger.error({ err }, 'the leader’s work failed'));
      void work.finally(stopTerm);
      await this.renewWhileLeading(term.signal);
      term.abort();
      signal.removeEventListener('abort', stopTerm);
      await work;
      this.leading = false;
      if (signal.aborted) {
        await this.release();
        return;
      }
      logger.warn({ lease: this.leaseName, identity }, 'stopped leading (the Lease was not renewed within renewDeadline, or the work ended); campaigning again');
      // Work that fails at once must not turn this into a busy loop.
      await sleep(signal, this.o.retryPeriodMs);
    }
  }

  private get leaseName(): string {
    return `${this.o.namespace}/${this.o.name}`;
  }

  /** Renews every retryPeriod; returns when `signal` aborts or a renewal deadline passes. */
  private async renewWhileLeading(signal: AbortSignal): Promise<void> {
    let renewedAt = Date.now();
    while (!signal.aborted) {
      await sleep(signal, this.o.retryPeriodMs);
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew()) renewedAt = Date.now();
      else if (Date.now() - renewedAt >= this.o.renewDeadlineMs) return;
    }
  }

  /** One attempt: create the Lease, renew ours, or take over a lapsed one. False when another holds it, or on any failure. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.o;
    const now = new V1MicroTime();
    const leaseDurationSeconds = Math.ceil(this.o.leaseDurationMs / 1000);
    try {
      const lease = await this.read();
      if (lease === undefined) {
        await this.api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        });
        return true;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const record = `${holder}|${String(spec.renewTime?.toISOString?.() ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
      if (this.observed?.record !== record) this.observed = { record, atMs: Date.now() };
      const mine = holder === identity;
      const lapsed = holder === '' || Date.now() - this.observed.atMs >= (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (!mine && !lapsed) return false;
      await this.api.replaceNamespacedLease({
        namespace,
        name,
        body: {
          ...lease,
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds,
            renewTime: now,
            ...(mine ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
          },
        },
      });
      return true;
    } catch (err) {
      // 409: another candidate wrote first; anything else (API server away) is tried again next period.
      if (statusOf(err) !== 409) this.o.logger.warn({ lease: this.leaseName, err: (err as Error).message }, 'leader election: the Lease could not be read or written');
      return false;
    }
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({ namespace: this.o.namespace, name: this.o.name });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Hands the Lease back: an empty holder, which a standby takes at once. */
  private async release(): Promise<void> {
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.o.identity) return;
      await this.api.replaceNamespacedLease({
        namespace: this.o.namespace,
        name: this.o.name,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() } },
      });
      this.o.logger.info({ lease: this.leaseName }, 'released the Lease');
    } catch (err) {
      this.o.logger.warn({ lease: this.leaseName, err: (err as Error).message }, 'could not release the Lease; it lapses after its duration');
    }
  }
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
