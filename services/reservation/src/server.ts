/**
 * Maps gRPC to the reservation domain: validates each request (an
 * InvalidArgumentError names the field), calls Reservations, and builds the
 * replies with Message.fromPartial.
 */
import type { Duration } from '@schedmesh/proto/google/duration';
import {
  ConfirmResponse,
  GetLedgerResponse,
  GetReservationResponse,
  Lease,
  LeaseState,
  PermitDecision,
  PermitResponse,
  ReserveResponse,
  UnreserveResponse,
} from '@schedmesh/proto/v1/reservation';
import type { PermitRequest, ReservationServiceImplementation, ReserveRequest } from '@schedmesh/proto/v1/reservation';
import type { Resources } from '@schedmesh/proto/v1/types';
import { InvalidArgumentError } from '@schedmesh/runtime';
import { groupKey } from './cluster-state.js';
import { MAX_WAIT_MS, MIN_TTL_MS } from './config.js';
import type { PermitInput } from './gang.js';
import type { LeaseView, ReserveInput } from './ledger.js';
import { isScalarResourceName, podDemand, toResources } from './quantities.js';
import type { Reservations } from './reservations.js';

/** The largest amount one pod may request of any resource: 2^50 (1 PiB of bytes, 10^12 cores). More is a unit mistake. */
export const MAX_REQUEST_AMOUNT = 2 ** 50;
/** The largest gang. */
export const MAX_MIN_MEMBER = 10_000;

const POD_UID = /^[A-Za-z0-9]([-A-Za-z0-9._:]{0,126}[A-Za-z0-9])?$/;
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
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
      const outcome = await domain.reserve(parseReserve(request, defaults), context.signal);
      if (outcome.kind === 'conflict') {
        return ReserveResponse.fromPartial({
          result: { $case: 'conflict', value: { shortResources: outcome.shortages.map((s) => s.resource), message: outcome.message } },
        });
      }
      return ReserveResponse.fromPartial({ result: { $case: 'lease', value: toLease(outcome.lease) } });
    },

    async unreserve(request) {
      const uid = requireUid(request.podUid, 'pod_uid');
      const version = requireVersion(request.fencingVersion);
      return UnreserveResponse.fromPartial({ released: await domain.unreserve(uid, version) });
    },

    async confirm(request) {
      const uid = requireUid(request.podUid, 'pod_uid');
      const version = requireVersion(request.fencingVersion);
      return ConfirmResponse.fromPartial({ lease: toLease(await domain.confirm(uid, version)) });
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
  });
}

/** Validates a ReserveRequest. */
export function parseReserve(request: ReserveRequest, defaults: ServerDefaults): ReserveInput {
  const uid = requireUid(request.pod?.uid ?? '', 'pod.uid');
  const node = requireNode(request.nodeName, 'node_name');
  if (request.requests) validateRequests(request.requests);
  const ttlMs = request.ttl === undefined ? defaults.defaultTtlMs : durationMs(request.ttl, 'ttl');
  if (ttlMs < MIN_TTL_MS || ttlMs > MAX_WAIT_MS) throw new InvalidArgumentError('ttl', `must be between 1s and 15m, got ${ttlMs}ms`);
  if (request.holder.length > HOLDER_MAX) throw new InvalidArgumentError('holder', `must be at most ${HOLDER_MAX} characters`);
  const namespace = request.pod?.namespace ?? '';
  let group = '';
  if (request.podGroup !== undefined) {
    validatePodGroup(request.podGroup.name, request.podGroup.minMember, request.podGroup.scheduleTimeoutSeconds);
    group = groupKey(namespace, request.podGroup.name);
  }
  return { uid, namespace, name: request.pod?.name ?? '', node, demand: podDemand(request.requests), ttlMs, holder: request.holder, group };
}

/** Validates a PermitRequest. */
export function parsePermit(request: PermitRequest, defaults: ServerDefaults): PermitInput {
  const uid = requireUid(request.pod?.uid ?? '', 'pod.uid');
  let timeoutMs = request.timeout === undefined ? 0 : durationMs(request.timeout, 'timeout');
  if (timeoutMs > MAX_WAIT_MS) throw new InvalidArgumentError('timeout', `must be at most 15m, got ${timeoutMs}ms`);
  const group = request.podGroup;
  if (group === undefined) return { uid, gang: undefined };
  validatePodGroup(group.name, group.minMember, group.scheduleTimeoutSeconds);
  if (timeoutMs === 0) timeoutMs = group.scheduleTimeoutSeconds > 0 ? group.scheduleTimeoutSeconds * 1000 : defaults.permitDefaultTimeoutMs;
  return { uid, gang: { key: groupKey(request.pod?.namespace ?? '', group.name), minMember: group.minMember, timeoutMs } };
}

function validatePodGroup(name: string, minMember: number, timeoutSeconds: number): void {
  if (name === '') throw new InvalidArgumentError('pod_group.name', 'required when pod_group is set');
  if (name.length > 253 || /[{}\s]/.test(name)) throw new InvalidArgumentError('pod_group.name', 'must be a Kubernetes object name');
  if (!Number.isInteger(minMember) || minMember < 1 || minMember > MAX_MIN_MEMBER) {
    throw new InvalidArgumentError('pod_group.min_member', `must be between 1 and ${MAX_MIN_MEMBER}, got ${minMember}`);
  }
  if (timeoutSeconds < 0 || timeoutSeconds * 1000 > MAX_WAIT_MS) {
    throw new InvalidArgumentError('pod_group.schedule_timeout_seconds', `must be between 0 and 900, got ${timeoutSeconds}`);
  }
}

function validateRequests(r: Resources): void {
  checkAmount('requests.milli_cpu', r.milliCpu);
  checkAmount('requests.memory', r.memory);
  checkAmount('requests.ephemeral_storage', r.ephemeralStorage);
  if (r.pods !== 0 && r.pods !== 1) throw new InvalidArgumentError('requests.pods', `a pod counts as one pod: leave it 0 or 1, got ${r.pods}`);
  for (const [name, v] of Object.entries(r.scalar)) {
    const field = `requests.scalar[${JSON.stringify(name)}]`;
    if (!isScalarResourceName(name)) throw new InvalidArgumentError(field, 'not a valid extended resource name (cpu, memory, ephemeral-storage and pods have their own fields)');
    checkAmount(field, v);
  }
}

function checkAmount(field: string, v: number): void {
  if (!Number.isSafeInteger(v)) throw new InvalidArgumentError(field, `must be an integer, got ${v}`);
  if (v < 0) throw new InvalidArgumentError(field, `must not be negative, got ${v}`);
  if (v > MAX_REQUEST_AMOUNT) throw new InvalidArgumentError(field, `${v} is absurd: at most 2^50 per pod`);
}

function requireUid(uid: string, field: string): string {
  if (uid === '') throw new InvalidArgumentError(field, 'required');
  if (!POD_UID.test(uid)) throw new InvalidArgumentError(field, `not a valid pod uid: ${JSON.stringify(uid.slice(0, 64))}`);
  return uid;
}

function requireNode(name: string, field: string): string {
  if (name === '') throw new InvalidArgumentError(field, 'required');
  if (!NODE_NAME.test(name)) throw new InvalidArgumentError(field, `not a valid node name: ${JSON.stringify(name.slice(0, 64))}`);
  return name;
}

function requireVersion(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError('fencing_version', `must be a non-negative integer, got ${v}`);
  return v;
}

function durationMs(d: Duration, field: string): number {
  if (d.seconds < 0 || d.nanos < 0 || d.nanos > 999_999_999) throw new InvalidArgumentError(field, 'must be a non-negative duration');
  return d.seconds * 1000 + Math.floor(d.nanos / 1_000_000);
}
