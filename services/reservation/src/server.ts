/**
 * Maps gRPC to the reservation domain: validates each request (an
 * InvalidArgumentError names the field), calls Reservations, and builds the
 * replies with Message.fromPartial. Reserve, Confirm and Unreserve put what
 * they decided on the call's span (pod, node, fencing version, outcome).
 */
import { trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import {
  durationProblem,
  durationToMs,
  groupKey,
  MAX_PERMIT_WAIT_MS,
  namespaceNameProblem,
  nodeNameProblem,
  podGroupProblem,
  podUidProblem,
  requestsProblem,
} from '@schedmesh/model';
import type { FieldProblem } from '@schedmesh/model';
import type { Duration } from '@schedmesh/proto/google/duration';
import {
  ConfirmBatchResponse,
  ConfirmResponse,
  GetLedgerResponse,
  GetReservationResponse,
  Lease,
  LeaseState,
  PermitDecision,
  PermitResponse,
  RenewResponse,
  ReserveBatchEntry,
  ReserveBatchResponse,
  ReserveResponse,
  UnreserveBatchResponse,
  UnreserveResponse,
} from '@schedmesh/proto/v1/reservation';
import type { BatchEntryError, PermitRequest, ReservationServiceImplementation, ReserveRequest } from '@schedmesh/proto/v1/reservation';
import { classifyDomainError, InvalidArgumentError } from '@schedmesh/runtime';
import type { PermitInput } from './gang.js';
import { MAX_TTL_MS, MIN_TTL_MS } from './ledger.js';
import type { LeaseView } from './ledger.js';
import { podDemand, toResources } from './quantities.js';
import type { ReserveCall, ReserveOutcome, Reservations } from './reservations.js';

const HOLDER_MAX = 256;

/** Defaults the requests may leave out. */
export interface ServerDefaults {
  defaultTtlMs: number;
  permitDefaultTimeoutMs: number;
}

/** The ReservationService implementation. */
export function createReservationServer(domain: Reservations, defaults: ServerDefaults): ReservationServiceImplementation {
  return {
    async reserve(request, context) {
      const input = parseReserve(request, defaults);
      onSpan({ 'k8s.namespace.name': input.namespace, 'k8s.pod.name': input.name, 'k8s.pod.uid': input.uid, 'k8s.node.name': input.node, 'schedmesh.reservation.binding': input.binding });
      const outcome = await domain.reserve(input, context.signal);
      onSpan({ 'schedmesh.reservation.outcome': outcome.kind, ...(outcome.kind === 'conflict' ? {} : { 'schedmesh.fencing_version': outcome.lease.version }) });
      return ReserveResponse.fromPartial({ result: toReserveResult(outcome) });
    },

    async reserveBatch(request, context) {
      const inputs = parseBatch(request.pods, (entry) => parseReserve(entry, defaults), { field: 'pod.uid', of: (input) => input.uid });
      onSpan({ 'schedmesh.batch.size': inputs.length });
      const outcomes = await domain.reserveMany(inputs, context.signal);
      onSpan({ 'schedmesh.reservation.granted': outcomes.filter((o) => !(o instanceof Error) && o.kind === 'granted').length });
      return ReserveBatchResponse.fromPartial({ pods: outcomes.map(toBatchEntry) });
    },

    async unreserveBatch(request) {
      const leases = parseBatch(request.pods, parseHeldLease, { field: 'pod_uid', of: (lease) => lease.uid });
      onSpan({ 'schedmesh.batch.size': leases.length });
      const released = await domain.unreserveMany(leases);
      onSpan({ 'schedmesh.reservation.released': released.filter(Boolean).length });
      return UnreserveBatchResponse.fromPartial({ released });
    },

    async unreserve(request) {
      const uid = requireUid(request.podUid, 'pod_uid');
      const version = requireHeldVersion(request.fencingVersion);
      onSpan({ 'k8s.pod.uid': uid, 'schedmesh.fencing_version': version });
      const released = await domain.unreserve(uid, version);
      onSpan({ 'schedmesh.reservation.released': released });
      return UnreserveResponse.fromPartial({ released });
    },

    async confirm(request) {
      const uid = requireUid(request.podUid, 'pod_uid');
      const version = requireHeldVersion(request.fencingVersion);
      onSpan({ 'k8s.pod.uid': uid, 'schedmesh.fencing_version': version });
      return ConfirmResponse.fromPartial({ lease: toLease(await domain.confirm(uid, version)) });
    },

    async confirmBatch(request) {
      const leases = parseBatch(request.pods, parseHeldLease, { field: 'pod_uid', of: (lease) => lease.uid });
      onSpan({ 'schedmesh.batch.size': leases.length });
      const outcomes = await domain.confirmMany(leases);
      onSpan({ 'schedmesh.reservation.confirmed': outcomes.filter((o) => !(o instanceof Error)).length });
      return ConfirmBatchResponse.fromPartial({
        pods: outcomes.map((o) => ({ result: o instanceof Error ? { $case: 'error', value: entryError(o) } : { $case: 'lease', value: toLease(o) } })),
      });
    },

    async renew(request) {
      const uid = requireUid(request.podUid, 'pod_uid');
      const node = requireNode(request.nodeName, 'node_name');
      const version = requireHeldVersion(request.fencingVersion);
      onSpan({ 'k8s.pod.uid': uid, 'k8s.node.name': node, 'schedmesh.fencing_version': version, 'schedmesh.reservation.binding': request.binding });
      return RenewResponse.fromPartial({ lease: toLease(await domain.renew(uid, node, version, request.binding)) });
    },

    async permit(request, context) {
      const outcome = await domain.permit(parsePermit(request, defaults), context.signal);
      return PermitResponse.fromPartial({
        decision: outcome.allowed ? PermitDecision.PERMIT_DECISION_ALLOW : PermitDecision.PERMIT_DECISION_REJECT,
        reason: outcome.reason,
        membersReserved: outcome.membersReserved,
      });
    },

    async getReservation(request) {
      const uid = requireUid(request.podUid, 'pod_uid');
      return GetReservationResponse.fromPartial({ lease: toLease(await domain.getReservation(uid)) });
    },

    async getLedger(request) {
      const node = requireNode(request.nodeName, 'node_name');
      const view = await domain.getLedger(node);
      return GetLedgerResponse.fromPartial({
        allocatable: toResources(view.allocatable),
        bound: toResources(view.bound),
        leased: toResources(view.leased),
        free: toResources(view.free),
        fencingVersion: view.fencingVersion,
      });
    },
  };
}

/** A Reserve outcome as the proto's oneof: the lease, or the conflict. */
function toReserveResult(outcome: ReserveOutcome): NonNullable<ReserveResponse['result']> {
  if (outcome.kind === 'conflict') {
    return { $case: 'conflict', value: { shortResources: outcome.shortages.map((s) => s.resource), message: outcome.message } };
  }
  return { $case: 'lease', value: toLease(outcome.lease) };
}

/** A lease as the proto message. */
export function toLease(view: LeaseView): Lease {
  return Lease.fromPartial({
    pod: { uid: view.uid, namespace: view.namespace, name: view.name },
    nodeName: view.node,
    requests: toResources(view.demand),
    fencingVersion: view.version,
    expireTime: view.expireMs === undefined ? undefined : new Date(view.expireMs),
    state: view.state === 'reserved' ? LeaseState.LEASE_STATE_RESERVED : LeaseState.LEASE_STATE_CONFIRMED,
    holder: view.holder,
    binding: view.binding,
  });
}

/** The most entries one batch call may carry. */
export const MAX_BATCH_ENTRIES = 256;

/**
 * Validates a batch: 1..MAX_BATCH_ENTRIES entries, each parsed on its
 * own (an InvalidArgumentError names it, `pods[3].node_name`), no pod twice
 * (two entries of one pod would race each other inside the batch).
 */
function parseBatch<E, T>(entries: readonly E[], parse: (entry: E) => T, uid: { field: string; of: (parsed: T) => string }): T[] {
  if (entries.length === 0) throw new InvalidArgumentError('pods', 'must hold at least one entry');
  if (entries.length > MAX_BATCH_ENTRIES) throw new InvalidArgumentError('pods', `must hold at most ${MAX_BATCH_ENTRIES} entries, got ${entries.length}`);
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    let parsed: T;
    try {
      parsed = parse(entry);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`pods[${i}].${err.field}`, err.reason);
      throw err;
    }
    const podUid = uid.of(parsed);
    if (seen.has(podUid)) throw new InvalidArgumentError(`pods[${i}].${uid.field}`, `pod ${podUid} appears twice in the batch`);
    seen.add(podUid);
    return parsed;
  });
}

/** One batch entry's answer: its lease or conflict, or the status its own call would have failed with. */
function toBatchEntry(outcome: ReserveOutcome | Error): ReserveBatchEntry {
  if (outcome instanceof Error) return ReserveBatchEntry.fromPartial({ result: { $case: 'error', value: entryError(outcome) } });
  return ReserveBatchEntry.fromPartial({ result: toReserveResult(outcome) });
}

/** The status a batch entry's own call would have failed with. */
function entryError(err: Error): BatchEntryError {
  const mapped = classifyDomainError(err);
  // Anything else is a bug: the whole call fails INTERNAL, as the single call would.
  if (mapped === undefined) throw err;
  return { code: mapped.code, message: mapped.details };
}

/** An UnreserveRequest or ConfirmRequest: the pod's uid and the fencing version its caller holds. */
function parseHeldLease(request: { podUid: string; fencingVersion: number }): { uid: string; version: number } {
  return { uid: requireUid(request.podUid, 'pod_uid'), version: requireHeldVersion(request.fencingVersion) };
}

/** Validates a ReserveRequest. */
export function parseReserve(request: ReserveRequest, defaults: ServerDefaults): ReserveCall {
  const uid = requireUid(request.pod?.uid ?? '', 'pod.uid');
  const node = requireNode(request.nodeName, 'node_name');
  if (request.requests) check(requestsProblem(request.requests));
  const ttlMs = request.ttl === undefined ? defaults.defaultTtlMs : durationMs(request.ttl, 'ttl');
  if (ttlMs < MIN_TTL_MS || ttlMs > MAX_TTL_MS) throw new InvalidArgumentError('ttl', `must be between 1s and 15m, got ${ttlMs}ms`);
  if (request.holder.length > HOLDER_MAX) throw new InvalidArgumentError('holder', `must be at most ${HOLDER_MAX} characters`);
  const namespace = request.pod?.namespace ?? '';
  if (request.podGroup !== undefined) check(podGroupProblem(request.podGroup));
  // Optional for a lone pod (batch clients); a gang is keyed by it, so a member needs a real one.
  if (namespace !== '' || request.podGroup !== undefined) requireNamespace(namespace);
  const group = request.podGroup === undefined ? '' : groupKey(namespace, request.podGroup.name);
  if (!Number.isSafeInteger(request.minGeneration) || request.minGeneration < 0) {
    throw new InvalidArgumentError('min_generation', `must be a non-negative integer, got ${request.minGeneration}`);
  }
  return {
    uid,
    namespace,
    name: request.pod?.name ?? '',
    node,
    demand: podDemand(request.requests),
    ttlMs,
    holder: request.holder,
    group,
    minGeneration: request.minGeneration,
    binding: request.binding,
  };
}

/** Adds attributes to the call's span (the gRPC server's). */
function onSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Validates a PermitRequest. */
export function parsePermit(request: PermitRequest, defaults: ServerDefaults): PermitInput {
  const uid = requireUid(request.pod?.uid ?? '', 'pod.uid');
  const requestedTimeoutMs = request.timeout === undefined ? 0 : durationMs(request.timeout, 'timeout');
  if (requestedTimeoutMs > MAX_PERMIT_WAIT_MS) throw new InvalidArgumentError('timeout', `must be at most 15m, got ${requestedTimeoutMs}ms`);
  const group = request.podGroup;
  if (group === undefined) return { uid, gang: undefined };
  check(podGroupProblem(group));
  const namespace = request.pod?.namespace ?? '';
  requireNamespace(namespace);
  const timeoutMs = requestedTimeoutMs || (group.scheduleTimeoutSeconds > 0 ? group.scheduleTimeoutSeconds * 1000 : defaults.permitDefaultTimeoutMs);
  return {
    uid,
    gang: {
      key: groupKey(namespace, group.name),
      namespace,
      name: group.name,
      minMember: group.minMember,
      scheduleTimeoutSeconds: group.scheduleTimeoutSeconds,
      requestedTimeoutMs,
      timeoutMs,
    },
  };
}

/** Throws a validator's problem as INVALID_ARGUMENT naming the field. */
function check(problem: FieldProblem | undefined): void {
  if (problem !== undefined) throw InvalidArgumentError.fromProblem(problem);
}

function requireUid(uid: string, field: string): string {
  const problem = podUidProblem(uid);
  if (problem !== undefined) throw new InvalidArgumentError(field, problem);
  return uid;
}

function requireNode(name: string, field: string): string {
  const problem = nodeNameProblem(name);
  if (problem !== undefined) throw new InvalidArgumentError(field, problem);
  return name;
}

function requireNamespace(namespace: string): void {
  const problem = namespaceNameProblem(namespace);
  if (problem !== undefined) throw new InvalidArgumentError('pod.namespace', problem);
}

/**
 * The fencing version of a lease the caller holds: required. 0 once meant
 * "whatever lease the pod has", which let a stale holder (or anyone) release
 * or confirm a newer lease; the service's own releases (stream, gangs) do not
 * go through the RPC.
 */
function requireHeldVersion(v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidArgumentError('fencing_version', `must be the version of the lease the caller holds (a positive integer), got ${v}`);
  }
  return v;
}

function durationMs(d: Duration, field: string): number {
  const problem = durationProblem(d);
  if (problem !== undefined) throw new InvalidArgumentError(field, problem);
  return durationToMs(d);
}
