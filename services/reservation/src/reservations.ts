/**
 * The reservation domain behind the RPCs: the ledger, the stream state, the
 * gangs and the Redis-loss guard put together. Knows nothing of gRPC: it
 * takes validated inputs and returns values (a conflict is a value) or throws
 * the runtime's typed errors.
 */
import { DeadlineExceededError, FailedPreconditionError, NotFoundError, UnavailableError } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { ClusterState } from './cluster-state.js';
import type { GangCoordinator, PermitInput, PermitOutcome } from './gang.js';
import type { LeaseView, Ledger, LedgerView, ReserveInput, ReserveResult, Shortage } from './ledger.js';
import type { ReservationMetrics } from './metrics.js';
import { describeShortage } from './quantities.js';
import type { LedgerSync } from './sync.js';

/** The outcome of Reserve: a lease, or the resources that were short. */
export type ReserveOutcome =
  | { readonly kind: 'granted'; readonly lease: LeaseView; readonly created: boolean }
  | { readonly kind: 'conflict'; readonly shortages: readonly Shortage[]; readonly message: string };

/** A Reserve as the RPC asks it: the ledger's input and the generation at which the caller saw the pod. */
export interface ReserveCall extends ReserveInput {
  /**
   * The caller saw the pod and the node at this generation of the cluster
   * stream: a gang member is checked against the stream at least this far,
   * and a node this replica does not know yet is waited for up to it
   * (0: whatever memory has).
   */
  readonly minGeneration: number;
}

/** The metric label of an outcome. */
function outcomeLabel(outcome: ReserveOutcome): string {
  return outcome.kind === 'granted' ? (outcome.created ? 'granted' : 'existing') : 'conflict';
}

/** A thrown value as an Error (the runtime's typed errors pass as they are). */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Options of {@link Reservations}. */
export interface ReservationsOptions {
  ledger: Ledger;
  sync: LedgerSync;
  state: ClusterState;
  gangs: GangCoordinator;
  logger: Logger;
  metrics?: ReservationMetrics;
  /** How long a Reserve with a pod group waits for the stream to show the pod before refusing it, in ms (default 2 s). */
  gangMemberWaitMs?: number;
  /**
   * How long a Reserve on a node this replica does not know waits for the
   * stream to reach the caller's min_generation before answering NOT_FOUND,
   * in ms (default 2 s).
   */
  nodeWaitMs?: number;
}

/** The default of ReservationsOptions.gangMemberWaitMs. */
export const DEFAULT_GANG_MEMBER_WAIT_MS = 2_000;

/** The default of ReservationsOptions.nodeWaitMs. */
export const DEFAULT_NODE_WAIT_MS = 2_000;

/** See the module comment. */
export class Reservations {
  private readonly o: ReservationsOptions;

  constructor(options: ReservationsOptions) {
    this.o = options;
  }

  /**
   * Reserve. A pod holding a reserved lease on another node moves (that lease
   * is released); one confirmed elsewhere, or already bound, cannot, nor one
   * whose live reserved lease is another holder's (another replica schedules it). If
   * `signal` aborts before the reply, a lease this call granted is released.
   */
  async reserve(input: ReserveCall, signal: AbortSignal): Promise<ReserveOutcome> {
    const end = this.o.metrics?.reserveSeconds.startTimer();
    let outcome = 'error';
    try {
      const result = await this.reserveOnce(input, signal);
      outcome = outcomeLabel(result);
      return result;
    } finally {
      end?.({ outcome });
    }
  }

  /**
   * Reserve for several pods (distinct uids) in one pass over Redis (see
   * Ledger.reserveMany). Each entry is answered on its own: its outcome, or
   * the error its own Reserve would have thrown. What fails every entry —
   * the ledger not synced, Redis away, too few replicas acknowledging, the
   * caller gone — is thrown, after the leases this call granted are given back.
   */
  async reserveMany(inputs: readonly ReserveCall[], signal: AbortSignal): Promise<Array<ReserveOutcome | Error>> {
    const end = this.o.metrics?.reserveSeconds.startTimer();
    let outcomes: Array<ReserveOutcome | Error> = [];
    try {
      outcomes = await this.reserveEach(inputs, signal);
      return outcomes;
    } finally {
      // Every pod waited for the whole call; a call that failed failed each of them.
      for (const [i] of inputs.entries()) {
        const o = outcomes[i];
        end?.({ outcome: o === undefined || o instanceof Error ? 'error' : outcomeLabel(o) });
      }
    }
  }

  private async reserveOnce(input: ReserveCall, signal: AbortSignal): Promise<ReserveOutcome> {
    const [outcome] = await this.reserveEach([input], signal);
    if (outcome instanceof Error) throw outcome;
    return outcome!;
  }

  private async reserveEach(inputs: readonly ReserveCall[], signal: AbortSignal): Promise<Array<ReserveOutcome | Error>> {
    const { ledger, sync, state } = this.o;
    sync.requireSynced();
    signal.throwIfAborted();
    // Checks of the pod alone, before the ledger: a refused entry never reaches Redis.
    const outcomes: Array<ReserveOutcome | Error | undefined> = await Promise.all(
      inputs.map(async (input) => {
        try {
          if (!state.hasNode(input.node)) await this.awaitNode(input, signal);
          if (input.group !== '') await this.requireGangMember(input, signal);
          const boundTo = state.boundNodeOf(input.uid);
          if (boundTo !== undefined) throw new FailedPreconditionError(`pod ${input.uid} is already bound to node ${boundTo}`);
          return undefined;
        } catch (err) {
          signal.throwIfAborted();
          return asError(err);
        }
      }),
    );
    const asked = inputs.flatMap((input, i) => (outcomes[i] === undefined ? [{ i, input }] : []));
    const results = await ledger.reserveMany(asked.map((a) => a.input));
    const created: LeaseView[] = [];
    await Promise.all(
      asked.map(async ({ i, input }, j) => {
        const result = results[j]!;
        if (result.kind === 'granted' && result.created) created.push(result.lease);
        try {
          outcomes[i] = await this.outcomeOf(input, result);
        } catch (err) {
          outcomes[i] = asError(err);
        }
      }),
    );
    if (created.length === 0) return outcomes as Array<ReserveOutcome | Error>;
    try {
      // A grant a failover could lose is no grant: it must reach the replicas first.
      await ledger.replicated(created.length === 1 ? `the lease of pod ${created[0]!.uid} on node ${created[0]!.node}` : `${created.length} leases`);
      // The caller is gone and never learns of these leases: give them back.
      signal.throwIfAborted();
    } catch (err) {
      await Promise.all(created.map((lease) => this.undo(lease)));
      throw err;
    }
    return outcomes as Array<ReserveOutcome | Error>;
  }

  /** What one entry's ledger result means to its caller; a gang member's new lease joins its gang (undone if it cannot). */
  private async outcomeOf(input: ReserveCall, result: ReserveResult): Promise<ReserveOutcome> {
    const { state, sync, gangs, metrics } = this.o;
    switch (result.kind) {
      case 'unknown-node':
        if (state.hasNode(input.node)) {
          // The stream knows the node but Redis does not: Redis lost its data.
          sync.suspectLoss();
          throw new UnavailableError(`the ledger has lost node ${input.node}; rebuilding, retry shortly`);
        }
        throw new NotFoundError('node', input.node);
      case 'restoring':
        // A replica that has not noticed the loss yet learns of it here.
        sync.suspectLoss();
        throw new UnavailableError(`the ledger is being restored after Redis lost its data: replicas are putting their leases back; retry shortly`);
      case 'bound':
        throw new FailedPreconditionError(`pod ${input.uid} is already bound to node ${input.node}`);
      case 'mismatch':
        throw new FailedPreconditionError(
          `pod ${input.uid} holds lease version ${result.lease.version} on node ${input.node} with other requests; Unreserve it first`,
        );
      case 'held':
        // Not a conflict of this node: the pod itself is another replica's until that lease is
        // confirmed, released or lapses. An error, so that this replica backs off and retries.
        throw new FailedPreconditionError(
          `pod ${input.uid} is being scheduled by ${result.lease.holder}: it holds a reserved lease on node ${result.lease.node} until ${new Date(result.lease.expireMs ?? 0).toISOString()}`,
        );
      case 'confirmed-elsewhere':
        throw new FailedPreconditionError(`pod ${input.uid} holds a confirmed lease on node ${result.lease.node}: it is bound there`);
      case 'binding':
        // The caller lost the answer of a Binding to that node, which may have landed: until the
        // pod's bound event (or the TTL, or an Unreserve after a refused Binding) says, the pod stays there.
        throw new FailedPreconditionError(
          `pod ${input.uid} may be bound to node ${result.lease.node}: its lease there (version ${result.lease.version}) is binding until ${new Date(result.lease.expireMs ?? 0).toISOString()}; retry after its bound event`,
        );
      case 'conflict': {
        for (const s of result.shortages) metrics?.conflicts.inc({ resource: s.resource });
        const message = `node ${input.node}: ${result.shortages.map((s) => describeShortage(s.resource, s.requested, s.free)).join('; ')}`;
        return { kind: 'conflict', shortages: result.shortages, message };
      }
      case 'granted':
        break;
    }
    if (input.group !== '' && result.created) {
      try {
        await gangs.register(input.group, input.uid, input.node);
      } catch (err) {
        await this.undo(result.lease);
        throw err;
      }
    }
    return result;
  }

  /**
   * A node the caller ranked at a generation this replica has not reached (a
   * node just added, or a replica starting behind the snapshot the caller
   * ranked from) is waited for, bounded, instead of answering NOT_FOUND at
   * once: the caller would back off a pod that fits. A known node never waits,
   * so the hot path does not pay for the stream's lag; neither does a caller
   * without min_generation. Past the wait, the ledger answers as it stands.
   */
  private async awaitNode(input: ReserveCall, signal: AbortSignal): Promise<void> {
    const { gate } = this.o.sync;
    if (input.minGeneration <= gate.generation) return;
    try {
      await gate.waitFor(input.minGeneration, signal, { maxWaitMs: this.o.nodeWaitMs ?? DEFAULT_NODE_WAIT_MS });
    } catch (err) {
      signal.throwIfAborted();
      if (!(err instanceof DeadlineExceededError)) throw err;
    }
  }

  /**
   * A gang member must be a real pod: the stream knows a pod with this uid in
   * this namespace carrying this group. The stream may lag the caller, so
   * the check waits (bounded) for the generation the caller saw, or without
   * one for further events, before it refuses with FAILED_PRECONDITION.
   */
  private async requireGangMember(input: ReserveCall, signal: AbortSignal): Promise<void> {
    const { state, sync } = this.o;
    const problem = (): string | undefined => state.gangMemberProblem(input.uid, input.namespace, input.name, input.group);
    const deadline = Date.now() + (this.o.gangMemberWaitMs ?? DEFAULT_GANG_MEMBER_WAIT_MS);
    let why = problem();
    while (why !== undefined) {
      const remaining = deadline - Date.now();
      // Past the caller's generation the stream has had its say.
      if (remaining <= 0 || (input.minGeneration > 0 && sync.gate.generation >= input.minGeneration)) break;
      try {
        await sync.gate.waitFor(Math.max(input.minGeneration, sync.gate.generation + 1), signal, { maxWaitMs: remaining });
      } catch (err) {
        signal.throwIfAborted();
        if (!(err instanceof DeadlineExceededError)) throw err;
      }
      why = problem();
    }
    if (why !== undefined) {
      throw new FailedPreconditionError(`pod_group: ${why} (at generation ${sync.gate.generation}); pod ${input.uid} is not a member of gang ${input.group}`);
    }
  }

  /**
   * Renew: the caller's lease (node and version) gets its TTL again from now.
   * FAILED_PRECONDITION if it lapsed or was released, or the pod now holds
   * another lease (it lapsed and was granted again): the caller must not bind.
   * `binding`: the caller binds next; the lease is marked (Ledger.renew).
   */
  async renew(uid: string, node: string, version: number, binding: boolean): Promise<LeaseView> {
    this.o.sync.requireSynced();
    const result = await this.o.ledger.renew(node, uid, { version, binding });
    switch (result.kind) {
      case 'renewed':
        return result.lease;
      case 'stale':
        throw new FailedPreconditionError(
          `pod ${uid}: fencing version ${version} is stale (the lease on node ${node} is at version ${result.lease.version}): the lease lapsed and was granted again`,
        );
      case 'none':
        throw new FailedPreconditionError(`pod ${uid} holds no lease on node ${node} (it lapsed or was released)`);
    }
  }

  private async undo(lease: LeaseView): Promise<void> {
    try {
      await this.o.ledger.releaseAbandoned(lease.node, lease.uid, lease.version);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message, pod: lease.uid, node: lease.node }, 'could not release an abandoned lease; it lapses at its TTL');
    }
  }

  /** Unreserve: idempotent; a stale version releases nothing. */
  async unreserve(uid: string, version: number): Promise<boolean> {
    this.o.sync.requireSynced();
    return this.o.ledger.unreserve(uid, version);
  }

  /** Unreserve for several leases at once (Ledger.unreserveMany); whether each was released. */
  async unreserveMany(leases: readonly { readonly uid: string; readonly version: number }[]): Promise<boolean[]> {
    this.o.sync.requireSynced();
    return this.o.ledger.unreserveMany(leases);
  }

  /** Confirm: FAILED_PRECONDITION if the pod holds no lease (it lapsed) or the version is stale. */
  async confirm(uid: string, version: number): Promise<LeaseView> {
    const [outcome] = await this.confirmMany([{ uid, version }]);
    if (outcome instanceof Error) throw outcome;
    return outcome!;
  }

  /**
   * Confirm for several leases (distinct uids) in one pass over Redis
   * (Ledger.confirmMany). Each entry is answered on its own: its lease, or
   * the FAILED_PRECONDITION its own Confirm would have thrown. What fails
   * every entry — the ledger not synced, Redis away, too few replicas
   * acknowledging — is thrown.
   */
  async confirmMany(leases: readonly { readonly uid: string; readonly version: number }[]): Promise<Array<LeaseView | Error>> {
    const { ledger, state } = this.o;
    this.o.sync.requireSynced();
    const results = await ledger.confirmMany(leases.map((l) => ({ ...l, boundNode: state.boundNodeOf(l.uid) })));
    const confirmed = results.filter((r) => r.kind === 'confirmed').length;
    // Not answered before the replicas hold them (a repeated Confirm waits again).
    if (confirmed > 0) await ledger.replicated(leases.length === 1 ? `the confirmation of pod ${leases[0]!.uid}` : `${confirmed} confirmations`);
    return results.map((result, i) => {
      const { uid, version } = leases[i]!;
      switch (result.kind) {
        case 'confirmed':
          return result.lease;
        case 'stale':
          return new FailedPreconditionError(`pod ${uid}: fencing version ${version} is stale (the lease is at version ${result.lease.version})`);
        case 'none':
          return new FailedPreconditionError(`pod ${uid} holds no lease (it lapsed or was released)`);
      }
    });
  }

  /** Permit: waits for the pod's gang; see GangCoordinator. */
  async permit(input: PermitInput, signal: AbortSignal): Promise<PermitOutcome> {
    this.o.sync.requireSynced();
    return this.o.gangs.permit(input, signal);
  }

  /** The pod's lease; NOT_FOUND if it holds none. */
  async getReservation(uid: string): Promise<LeaseView> {
    this.o.sync.requireSynced();
    const lease = await this.o.ledger.get(uid, this.o.state.boundNodeOf(uid));
    if (lease === undefined) throw new NotFoundError('reservation', uid);
    return lease;
  }

  /** A node's ledger; NOT_FOUND for a node the ledger does not hold. */
  async getLedger(node: string): Promise<LedgerView> {
    this.o.sync.requireSynced();
    const view = await this.o.ledger.ledger(node);
    if (!view.exists) {
      if (this.o.state.hasNode(node)) {
        this.o.sync.suspectLoss();
        throw new UnavailableError(`the ledger has lost node ${node}; rebuilding, retry shortly`);
      }
      throw new NotFoundError('node', node);
    }
    return view;
  }
}
