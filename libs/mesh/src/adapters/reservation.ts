/**
 * Reservation as the Reserve and Permit steps: a lease on the chosen node in
 * Redis (the arbiter between scheduler replicas), the gang Permit, and
 * Confirm once bound. A conflict is a rejection of that node (try the next),
 * never an error.
 */
import { Status } from '@schedmesh/framework';
import { groupKey } from '@schedmesh/model';
import { ClientError, Status as GrpcStatus } from 'nice-grpc';
import { PermitDecision } from '@schedmesh/proto/v1/reservation';
import type { Lease, ReserveResponse } from '@schedmesh/proto/v1/reservation';
import { Resources } from '@schedmesh/proto/v1/types';
import type { Pod, PodRef } from '@schedmesh/proto/v1/types';
import type { ReservationClient } from '../clients.js';

/** The plugin name reservation statuses carry. */
export const RESERVATION_PLUGIN = 'SchedmeshReservation';

/** The pod's reference. */
export function podRef(pod: Pod): PodRef {
  return { uid: pod.uid, namespace: pod.namespace, name: pod.name };
}

/**
 * A Reserve outcome: the lease, or the node's refusal, or `bound` when the
 * ledger already has the pod bound (its Binding landed: a stale event of a pod
 * this or another scheduler already placed). Then there is nothing to do. Or
 * `heldElsewhere` (with an Error status): another replica holds the pod's
 * live lease — it is scheduling the pod, and this attempt lost the race.
 */
export type ReserveOutcome =
  | { readonly lease: Lease; readonly status: Status; readonly bound?: undefined; readonly heldElsewhere?: undefined }
  | { readonly lease?: undefined; readonly status: Status; readonly bound?: boolean; readonly heldElsewhere?: boolean };

// The reservation service's FAILED_PRECONDITION answers (reservations.ts): a pod that is bound,
// and a pod another holder (replica) is scheduling.
const ALREADY_BOUND = /is already bound to node|holds a confirmed lease on node/;
const HELD_ELSEWHERE = /is being scheduled by .*: it holds a reserved lease/;
// A Reserve refused because the pod's Binding to another node may have landed.
const BINDING_ELSEWHERE = /may be bound to node .*: its lease there .* is binding/;

/** Options of the reservation steps. */
export interface ReservationStepOptions {
  /** Lease TTL in ms: long enough for Permit and Bind, short enough that a crashed scheduler frees the room soon. */
  readonly ttlMs: number;
  /** Who holds the lease (the scheduler replica), for GetReservation and logs. */
  readonly holder: string;
}

/** One Reserve's options: the steps' own, and whether the caller binds next without renewing. */
export interface ReserveCallOptions extends ReservationStepOptions {
  /**
   * The caller binds the pod on this node next and renews the lease before
   * the Binding only if it is no longer fresh: the lease is granted marked
   * binding (ReserveRequest.binding), so a lost Binding's answer is covered
   * without that renewal. Only for a lease no other caller can move (the
   * scheduler's own attempts, not the extender's bind) and no gang member
   * (a round's rejection keeps binding leases).
   */
  readonly binding?: boolean;
}

function duration(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/**
 * Reserves the pod's requests on nodeName. Idempotent for the same pod and
 * node. `minGeneration`: where the caller saw the pod (a gang member is
 * checked against the cluster stream at least that far).
 */
export async function reserve(
  client: ReservationClient,
  pod: Pod,
  nodeName: string,
  options: ReserveCallOptions,
  minGeneration: number,
  signal: AbortSignal,
): Promise<ReserveOutcome> {
  const request = {
    pod: podRef(pod),
    nodeName,
    requests: pod.requests ?? Resources.fromPartial({}),
    ttl: duration(options.ttlMs),
    holder: options.holder,
    minGeneration,
    binding: options.binding === true,
    ...(pod.podGroup ? { podGroup: pod.podGroup } : {}),
  };
  let res: ReserveResponse;
  try {
    res = await client.reserve(request, { signal });
  } catch (err) {
    if (err instanceof ClientError && err.code === GrpcStatus.FAILED_PRECONDITION && ALREADY_BOUND.test(err.details)) {
      return { bound: true, status: Status.unresolvable(err.details).withPlugin(RESERVATION_PLUGIN) };
    }
    if (err instanceof ClientError && err.code === GrpcStatus.FAILED_PRECONDITION && HELD_ELSEWHERE.test(err.details)) {
      return { heldElsewhere: true, status: Status.error(err.details).withPlugin(RESERVATION_PLUGIN) };
    }
    // Not this node's fault: the pod backs off (an Error) until its bound event says where it is.
    if (err instanceof ClientError && err.code === GrpcStatus.FAILED_PRECONDITION && BINDING_ELSEWHERE.test(err.details)) {
      return { status: Status.error(err.details).withPlugin(RESERVATION_PLUGIN) };
    }
    throw err;
  }
  if (res.result?.$case === 'lease') return { lease: res.result.value, status: Status.SUCCESS };
  const conflict = res.result?.$case === 'conflict' ? res.result.value : undefined;
  const short = conflict?.shortResources ?? [];
  const why = short.length > 0 ? short.map((r) => `Insufficient ${r}`).join(', ') : (conflict?.message ?? 'no room left');
  return { status: Status.unschedulable(`node ${nodeName} is reserved: ${why}`).withPlugin(RESERVATION_PLUGIN) };
}

/** Releases the pod's lease. Idempotent; never throws (a lease left behind expires with its TTL). */
export async function unreserve(client: ReservationClient, podUid: string, fencingVersion: number, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await client.unreserve({ podUid, fencingVersion }, { signal });
    return res.released;
  } catch {
    return false;
  }
}

/** The lease a renewal names, and whether the caller binds next. */
export interface RenewalRequest {
  readonly podUid: string;
  readonly nodeName: string;
  readonly fencingVersion: number;
  /** The renewal right before the Binding: the lease is marked binding, and no Reserve moves the pod off the node. */
  readonly binding: boolean;
}

/**
 * Renews the lease the attempt holds (its node and version): Success, or
 * Unschedulable when the lease lapsed, was released or was granted again
 * (FAILED_PRECONDITION), so the pod is not bound on room it no longer holds.
 * An I/O failure throws (the attempt's Error).
 */
export async function renew(client: ReservationClient, request: RenewalRequest, signal: AbortSignal): Promise<Status> {
  const { nodeName } = request;
  try {
    await client.renew(request, { signal });
    return Status.SUCCESS;
  } catch (err) {
    if (err instanceof ClientError && err.code === GrpcStatus.FAILED_PRECONDITION) {
      return Status.unschedulable(`the lease on node ${nodeName} was lost before the bind: ${err.details}`).withPlugin(RESERVATION_PLUGIN);
    }
    throw err;
  }
}

/** Confirms the lease once the pod is bound (its bound event settles it in the ledger). */
export async function confirm(client: ReservationClient, podUid: string, fencingVersion: number, signal: AbortSignal): Promise<Status> {
  await client.confirm({ podUid, fencingVersion }, { signal });
  return Status.SUCCESS;
}

/** The longest Permit wait the framework allows (upstream maxTimeout), and so the reservation service's cap. */
const MAX_PERMIT_WAIT_MS = 15 * 60_000;
// How long past the group's own timeout the call may last: the service's answer has to travel back.
const PERMIT_ANSWER_MARGIN_MS = 10_000;

/**
 * The gang Permit: waits until minMember of the pod's group hold
 * reservations, or the group times out. The call's deadline follows the
 * wait (the given timeout, else the group's, else the framework's
 * maximum), not the client's default deadline meant for quick calls; the
 * caller's signal still cancels it.
 */
export async function permit(client: ReservationClient, pod: Pod, timeoutMs: number | undefined, signal: AbortSignal): Promise<Status> {
  if (!pod.podGroup) return Status.SKIP;
  const waitMs = Math.min(timeoutMs || pod.podGroup.scheduleTimeoutSeconds * 1000 || MAX_PERMIT_WAIT_MS, MAX_PERMIT_WAIT_MS);
  const res = await client.permit(
    { pod: podRef(pod), podGroup: pod.podGroup, ...(timeoutMs ? { timeout: duration(timeoutMs) } : {}) },
    { signal, deadline: waitMs + PERMIT_ANSWER_MARGIN_MS },
  );
  if (res.decision === PermitDecision.PERMIT_DECISION_ALLOW) return Status.SUCCESS;
  return Status.unschedulable(`pod group ${groupKey(pod.namespace, pod.podGroup.name)}: ${res.reason || 'rejected'} (${res.membersReserved}/${pod.podGroup.minMember} reserved)`).withPlugin(RESERVATION_PLUGIN);
}
