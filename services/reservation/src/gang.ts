/**
 * Permit for pod groups (gang scheduling), coordinated through Redis so that
 * members waiting on different service replicas all learn one outcome.
 *
 * A gang has rounds. The first member to wait starts a round with a deadline
 * (its timeout); every member that waits, and every member that reserves,
 * registers in the gang's member hash. A waiting member counts the members
 * whose leases are still live (plus the gang's pods already bound, from the
 * stream); once the count reaches minMember it ends the round with ALLOW. If
 * the deadline passes first, whoever notices (a waiting member, on any
 * replica, or the sweeper when nobody waits any more) ends the round with
 * REJECT and releases every member's reserved lease. Each decision is one
 * script on the gang's keys, so exactly one outcome wins; it is announced on
 * the gang's pub/sub channel, and waiters also poll, so a lost message only
 * delays the news.
 */
import type { FieldProblem } from '@schedmesh/model';
import type { PodGroupObject } from '@schedmesh/proto/v1/types';
import { InvalidArgumentError } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { Redis } from 'ioredis';
import type { ClusterState, GangAnnotations } from './cluster-state.js';
import type { KeyLayout } from './keys.js';
import type { Ledger } from './ledger.js';
import type { ReservationMetrics } from './metrics.js';
import {
  gangAllowScript,
  gangDropScript,
  gangJoinScript,
  gangRegisterScript,
  gangRejectScript,
  gangStatusScript,
} from './scripts.js';
import { stringArray } from './store.js';
import type { RedisStore } from './store.js';

/** The reason given to a member whose lease is gone. */
export const REASON_LEASE_LOST = 'lease lost: the pod holds no live lease';
/** The start of the reason given to a pod whose lease was not reserved as a member of the gang it names. */
export const REASON_NOT_MEMBER = 'not a member of the gang';

/** A gang as a Permit call names it. */
export interface GangSpec {
  /** "namespace/name". */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly minMember: number;
  /** The pod_group's schedule_timeout_seconds, as the caller sent it. */
  readonly scheduleTimeoutSeconds: number;
  /** The Permit's own timeout, in ms; 0 when the caller set none. */
  readonly requestedTimeoutMs: number;
  /** How long the round this member starts waits, in ms. */
  readonly timeoutMs: number;
}

/**
 * Where a Permit's gang disagrees with its PodGroup object: the round's
 * minMember and timeout are the object's, not the word of whichever member
 * waits first (else one call starts a round of 10,000 members and 1 ms and
 * the round's rejection releases every real member). Undefined when they
 * agree, or when the stream holds no object (the pods' annotations then
 * define the gang).
 */
export function podGroupObjectProblem(gang: GangSpec, object: PodGroupObject | undefined): FieldProblem | undefined {
  if (object === undefined) return undefined;
  const of = `PodGroup ${gang.key}`;
  if (gang.minMember !== object.minMember) {
    return { field: 'pod_group.min_member', reason: `is ${gang.minMember}, but ${of} has minMember ${object.minMember}` };
  }
  if (gang.scheduleTimeoutSeconds !== object.scheduleTimeoutSeconds) {
    return { field: 'pod_group.schedule_timeout_seconds', reason: `is ${gang.scheduleTimeoutSeconds}, but ${of} has scheduleTimeoutSeconds ${object.scheduleTimeoutSeconds}` };
  }
  const objectTimeoutMs = object.scheduleTimeoutSeconds * 1000;
  if (objectTimeoutMs > 0 && gang.requestedTimeoutMs > 0 && gang.requestedTimeoutMs !== objectTimeoutMs) {
    return { field: 'timeout', reason: `is ${gang.requestedTimeoutMs}ms, but ${of} has scheduleTimeoutSeconds ${object.scheduleTimeoutSeconds}` };
  }
  return undefined;
}

/**
 * Where a Permit's gang disagrees with the pod's own annotations on the
 * stream: without a PodGroup object they define the gang, not the caller's
 * word. Undefined when they agree or the stream does not show the pod.
 */
export function annotationsProblem(gang: GangSpec, pod: string, own: GangAnnotations | undefined): FieldProblem | undefined {
  if (own === undefined) return undefined;
  const of = `pod ${pod} on the cluster stream has`;
  if (gang.minMember !== own.minMember) return { field: 'pod_group.min_member', reason: `is ${gang.minMember}, but ${of} min_member ${own.minMember}` };
  if (gang.scheduleTimeoutSeconds !== own.scheduleTimeoutSeconds) {
    return { field: 'pod_group.schedule_timeout_seconds', reason: `is ${gang.scheduleTimeoutSeconds}, but ${of} schedule_timeout_seconds ${own.scheduleTimeoutSeconds}` };
  }
  return undefined;
}

/**
 * Where a member disagrees with the round its gang is waiting in: without a
 * PodGroup object the pods' annotations define the gang, so they must agree
 * (review M2: else whichever member waits first sets minMember and timeout
 * for all). Undefined when it agrees.
 */
function roundProblem(gang: GangSpec, round: JoinReply): FieldProblem | undefined {
  const of = `the waiting round of gang ${gang.key}, set by its first member`;
  const agree = 'every member of a gang without a PodGroup object must carry the same values';
  if (gang.minMember !== round.min) return { field: 'pod_group.min_member', reason: `is ${gang.minMember}, but ${of}, has min_member ${round.min}; ${agree}` };
  if (gang.timeoutMs === round.timeoutMs) return undefined;
  const field = gang.requestedTimeoutMs > 0 ? 'timeout' : 'pod_group.schedule_timeout_seconds';
  return { field, reason: `makes a wait of ${gang.timeoutMs}ms, but ${of}, waits ${round.timeoutMs}ms; ${agree}` };
}

/** What Permit asks, validated. */
export interface PermitInput {
  readonly uid: string;
  /** Undefined for a pod outside any gang: allowed at once if it holds a lease. */
  readonly gang: GangSpec | undefined;
}

/** Permit's answer. */
export interface PermitOutcome {
  readonly allowed: boolean;
  /** Why it was rejected ("" when allowed). */
  readonly reason: string;
  /** Members holding leases when the decision was made. */
  readonly membersReserved: number;
}

/** Options of {@link GangCoordinator}. */
export interface GangCoordinatorOptions {
  store: RedisStore;
  keys: KeyLayout;
  ledger: Ledger;
  state: ClusterState;
  /** A connection of its own for SUBSCRIBE (a subscribed connection can do nothing else). */
  subscriber: Redis;
  logger: Logger;
  metrics?: ReservationMetrics;
  /** How often a waiting member re-reads the gang even without news, in ms (default 500). */
  pollMs?: number;
  /** How long past a round's deadline the sweeper leaves it to its waiting members, in ms (default 2 × pollMs). */
  sweepGraceMs?: number;
}

interface JoinReply {
  status: string;
  round: string;
  deadline: number;
  min: number;
  now: number;
  members: string[];
  /** The round's timeout (ms), as its first member set it. */
  timeoutMs: number;
}

/** A round as gang_status reads it. */
interface RoundStatus {
  /** allowed | rejected | waiting (undecided). */
  outcome: string;
  reason: string;
  /** Members the decider counted. */
  count: number;
  /** The gang's current round and its parameters. */
  round: string;
  deadline: number;
  min: number;
  timeoutMs: number;
  now: number;
  members: string[];
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function timeoutReason(gang: string, min: number, count: number, timeoutMs: number): string {
  const after = timeoutMs > 0 ? ` after ${timeoutMs % 1000 === 0 ? timeoutMs / 1000 : (timeoutMs / 1000).toFixed(1)}s` : '';
  return `gang ${gang} timed out${after} waiting for ${min} members to hold leases: ${count} of ${min} members hold leases`;
}

/** A decided round as Permit's answer; undefined while it waits. */
function decided(outcome: string, reason: string, count: number): PermitOutcome | undefined {
  if (outcome === 'allowed') return { allowed: true, reason: '', membersReserved: count };
  if (outcome === 'rejected') return { allowed: false, reason, membersReserved: count };
  return undefined;
}

/** See the module comment. */
export class GangCoordinator {
  private readonly o: GangCoordinatorOptions;
  private readonly pollMs: number;
  private readonly sweepGraceMs: number;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly subscriptions = new Map<string, number>();

  constructor(options: GangCoordinatorOptions) {
    this.o = options;
    this.pollMs = options.pollMs ?? 500;
    this.sweepGraceMs = options.sweepGraceMs ?? Math.max(2 * this.pollMs, 200);
    options.subscriber.on('message', (channel: string) => {
      for (const wake of [...(this.waiters.get(channel) ?? [])]) wake();
    });
  }

  /** A member took a lease: count it, and let waiting members re-count. */
  async register(gang: string, uid: string, node: string): Promise<void> {
    const { store, keys } = this.o;
    // Sent together: the script runs before the PUBLISH on this connection, so waiters re-count after it.
    await Promise.all([store.run(gangRegisterScript, keys.gang(gang), [uid, node]), store.call(() => store.redis.publish(keys.gangChannel(gang), 'registered'))]);
  }

  /**
   * Holds the member until its gang's round is decided (or the call is cancelled).
   *
   * @throws InvalidArgumentError when the gang disagrees with its PodGroup object ({@link podGroupObjectProblem}),
   *   or, without one, with the pod's own annotations ({@link annotationsProblem}) or with the round its gang
   *   waits in (another member's minMember or timeout).
   */
  async permit(input: PermitInput, signal: AbortSignal): Promise<PermitOutcome> {
    const { ledger, metrics, state } = this.o;
    const object = input.gang && state.podGroup(input.gang.namespace, input.gang.name);
    if (input.gang !== undefined) {
      const problem = podGroupObjectProblem(input.gang, object);
      if (problem !== undefined) throw InvalidArgumentError.fromProblem(problem);
    }
    const lease = await ledger.get(input.uid, state.boundNodeOf(input.uid));
    if (input.gang !== undefined && object === undefined && lease !== undefined) {
      const own = state.gangAnnotations(input.uid, lease.namespace, lease.name);
      const problem = annotationsProblem(input.gang, `${lease.namespace}/${lease.name}`, own);
      if (problem !== undefined) throw InvalidArgumentError.fromProblem(problem);
    }
    let outcome: PermitOutcome;
    if (input.gang === undefined) {
      outcome = lease ? { allowed: true, reason: '', membersReserved: 1 } : { allowed: false, reason: REASON_LEASE_LOST, membersReserved: 0 };
    } else if (lease?.state === 'reserved' && lease.group !== input.gang.key) {
      // Only a Reserve that the stream vouched for makes a member: a lease taken without the group cannot join it here.
      outcome = { allowed: false, reason: `${REASON_NOT_MEMBER}: the lease was reserved ${lease.group ? `for gang ${lease.group}` : 'without a pod group'}`, membersReserved: 0 };
    } else {
      outcome = await this.wait(input.uid, input.gang, lease?.node, signal);
    }
    metrics?.permits.inc({ decision: outcome.allowed ? 'allow' : 'reject' });
    return outcome;
  }

  private async wait(uid: string, gang: GangSpec, leaseNode: string | undefined, signal: AbortSignal): Promise<PermitOutcome> {
    const { store, keys, ledger, state } = this.o;
    const gangKeys = keys.gang(gang.key);
    const channel = keys.gangChannel(gang.key);
    await this.subscribe(channel);
    try {
      let node = leaseNode;
      let joined: JoinReply;
      for (;;) {
        if (node === undefined) return { allowed: false, reason: (await this.releasedReason(gang.key, uid)) ?? REASON_LEASE_LOST, membersReserved: 0 };
        joined = parseJoin(await store.run(gangJoinScript, gangKeys, [uid, node, gang.minMember, gang.timeoutMs]));
        const disagreement = joined.status === 'mismatch' ? roundProblem(gang, joined) : undefined;
        if (disagreement !== undefined) throw InvalidArgumentError.fromProblem(disagreement);
        if (joined.status !== 'expired') break;
        // The waiting round outlived its deadline with nobody left to end it: end it now, then start a new one.
        await this.endRound(gang.key, joined.round);
        node = (await ledger.get(uid, state.boundNodeOf(uid)))?.node;
      }
      await store.call(() => store.redis.zadd(keys.gangs, joined.deadline, gang.key));
      await store.call(() => store.redis.publish(channel, 'joined'));
      const round = joined.round;
      const skew = Date.now() - joined.now;
      for (;;) {
        signal.throwIfAborted();
        // While it waits for its gang, the member keeps its room: its lease's TTL starts again.
        await ledger.renew(node, uid);
        const st = await this.status(gang.key, round);
        const known = decided(st.outcome, st.reason, st.count);
        if (known) return known;
        const live = await this.liveMembers(gang.key, st.members);
        if (!live.has(uid)) {
          // Gone because the round was just decided elsewhere, or lapsed while waiting.
          const again = await this.status(gang.key, round);
          return (
            decided(again.outcome, again.reason, again.count) ?? {
              allowed: false,
              reason: (await this.releasedReason(gang.key, uid)) ?? REASON_LEASE_LOST,
              membersReserved: live.size,
            }
          );
        }
        if (live.size >= joined.min) {
          const [outcome = '', reason = '', count = '0'] = stringArray(await store.run(gangAllowScript, gangKeys, [round, live.size]));
          if (outcome === 'allowed') await store.call(() => store.redis.publish(channel, 'allowed'));
          const result = decided(outcome, reason, Number(count));
          if (result) return result;
        }
        if (st.now >= joined.deadline) {
          const ended = await this.endRound(gang.key, round);
          if (ended) return ended;
        }
        const untilDeadline = joined.deadline - (Date.now() - skew);
        await this.waitForNews(channel, Math.min(this.pollMs, Math.max(untilDeadline, 1)), signal);
      }
    } finally {
      await this.unsubscribe(channel);
    }
  }

  /**
   * Ends a round past its deadline with REJECT (round "" = the waiting one),
   * counting its live members for the reason. When this call decided it,
   * every member's reserved lease is released and the news published.
   * Returns the round's outcome; undefined if it is still waiting.
   */
  private async endRound(gang: string, round: string): Promise<PermitOutcome | undefined> {
    const { store, keys, ledger, logger } = this.o;
    const st = await this.status(gang, round);
    const known = decided(st.outcome, st.reason, st.count);
    if (known) return known;
    const target = round === '' ? st.round : round;
    const live = await this.liveMembers(gang, st.members);
    const reason = timeoutReason(gang, st.min, live.size, st.timeoutMs);
    const raw = await store.run(gangRejectScript, keys.gang(gang), [target, reason, live.size]);
    const parts = Array.isArray(raw) ? (raw as unknown[]) : [];
    const [outcome = '', why = '', count = '0'] = stringArray(parts.slice(0, 3));
    if (parts[4] === '1') {
      const members = pairs(stringArray(parts[3]));
      await Promise.all(members.map(([uid, node]) => ledger.releaseOn(node, uid, 0, true)));
      await store.call(() => store.redis.publish(keys.gangChannel(gang), 'rejected'));
      await store.call(() => store.redis.zrem(keys.gangs, gang));
      logger.info({ gang, members: members.length, reason: why }, "gang rejected; its members' leases were released");
    }
    return decided(outcome, why, Number(count));
  }

  /**
   * Ends the rounds whose deadline passed a grace period ago — waiting members
   * decide their own rounds; this is for rounds nobody waits for any more.
   * Returns how many were rejected.
   */
  async sweep(limit = 64): Promise<number> {
    const { store, keys } = this.o;
    const [seconds, micros] = await store.call(() => store.redis.time());
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const due = await store.call(() => store.redis.zrangebyscore(keys.gangs, '-inf', now - this.sweepGraceMs, 'LIMIT', 0, limit));
    let rejected = 0;
    for (const gang of due) {
      const outcome = await this.endRound(gang, '');
      if (outcome && !outcome.allowed) rejected++;
      if (outcome) await store.call(() => store.redis.zrem(keys.gangs, gang));
    }
    return rejected;
  }

  private async status(gang: string, round: string): Promise<RoundStatus> {
    const { store, keys } = this.o;
    const raw = await store.run(gangStatusScript, keys.gang(gang), [round]);
    const parts = Array.isArray(raw) ? (raw as unknown[]) : [];
    const [outcome = '', reason = '', count = '0', , current = '0', deadline = '0', min = '0', timeoutMs = '0', now = '0'] = stringArray(parts.slice(0, 9));
    return {
      outcome,
      reason,
      count: Number(count),
      round: current,
      deadline: Number(deadline),
      min: Number(min),
      timeoutMs: Number(timeoutMs),
      now: Number(now),
      members: stringArray(parts[9]),
    };
  }

  /** Members whose lease is live, plus the gang's bound pods; drops members whose lease is gone. */
  private async liveMembers(gang: string, flat: readonly string[]): Promise<Set<string>> {
    const { store, keys, ledger, state } = this.o;
    const live = new Set<string>();
    await Promise.all(
      pairs(flat).map(async ([uid, node]) => {
        if (await ledger.getOn(node, uid)) live.add(uid);
        else await store.run(gangDropScript, keys.gang(gang), [uid, node]);
      }),
    );
    for (const uid of state.boundGroupMembers(gang)) live.add(uid);
    return live;
  }

  /** The reason a member's lease was released by a rejected round, if it was. */
  private async releasedReason(gang: string, uid: string): Promise<string | undefined> {
    const { store, keys } = this.o;
    const [stateKey, , releasedKey] = keys.gang(gang);
    const released = await store.call(() => store.redis.sismember(releasedKey!, uid));
    if (released !== 1) return undefined;
    return (await store.call(() => store.redis.hget(stateKey!, 'reason'))) ?? undefined;
  }

  private async subscribe(channel: string): Promise<void> {
    const count = this.subscriptions.get(channel) ?? 0;
    this.subscriptions.set(channel, count + 1);
    if (!this.waiters.has(channel)) this.waiters.set(channel, new Set());
    if (count === 0) await this.o.store.call(() => this.o.subscriber.subscribe(channel));
  }

  private async unsubscribe(channel: string): Promise<void> {
    const count = (this.subscriptions.get(channel) ?? 1) - 1;
    if (count > 0) {
      this.subscriptions.set(channel, count);
      return;
    }
    this.subscriptions.delete(channel);
    this.waiters.delete(channel);
    try {
      await this.o.subscriber.unsubscribe(channel);
    } catch {
      // The connection is gone; so is the subscription.
    }
  }

  private waitForNews(channel: string, ms: number, signal: AbortSignal): Promise<void> {
    const set = this.waiters.get(channel);
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        set?.delete(wake);
        signal.removeEventListener('abort', onAbort);
      };
      function wake(): void {
        cleanup();
        resolve();
      }
      function onAbort(): void {
        cleanup();
        reject(abortReason(signal));
      }
      const timer = setTimeout(wake, ms);
      set?.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
    });
  }

  /** Closes the subscriber connection. */
  async close(): Promise<void> {
    this.waiters.clear();
    this.subscriptions.clear();
    this.o.subscriber.disconnect();
  }
}

/**
 * Why a wait was cut short, as the AbortError the runtime's error middleware
 * passes through as CANCELLED. The signal's own reason when it is one (by
 * name: a DOMException of another realm fails `instanceof Error`), else a
 * new one — never a plain Error, which would reach the caller as INTERNAL
 * and be logged as a handler failure.
 */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'AbortError') return reason as Error;
  return new DOMException(typeof reason === 'string' ? reason : 'the Permit call was cancelled', 'AbortError');
}

function parseJoin(raw: unknown): JoinReply {
  if (!Array.isArray(raw) || raw.length < 7) throw new TypeError(`gang_join: unexpected reply ${JSON.stringify(raw)}`);
  const [status, round, deadline, min, now, members, timeoutMs] = raw as unknown[];
  return {
    status: String(status),
    round: String(round),
    deadline: Number(deadline),
    min: Number(min),
    now: Number(now),
    members: stringArray(members),
    timeoutMs: Number(timeoutMs),
  };
}
