/**
 * The ledger: per-node capacity in Redis (allocatable, bound, leased) and the
 * leases, changed only by the Lua scripts of scripts.ts. This module knows
 * nothing of gRPC; it returns outcomes as values and throws only
 * UnavailableError (Redis away) from the store.
 */
import { MAX_PERMIT_WAIT_MS } from '@schedmesh/model';
import type { ReservationMetrics } from './metrics.js';
import type { KeyLayout } from './keys.js';
import type { LeaseMemory } from './lease-memory.js';
import { decodeQuantities, encodeQuantities, freeQuantities, quantitiesFromHash } from './quantities.js';
import type { Quantities } from './quantities.js';
import {
  applyPodScript,
  confirmScript,
  getScript,
  indexDropScript,
  ledgerScript,
  rebuildNodeScript,
  renewScript,
  restoreLeaseScript,
  reserveScript,
  sweepScript,
  unreserveScript,
} from './scripts.js';
import { parseReply, stringArray } from './store.js';
import type { RedisStore, ScriptReply } from './store.js';

/** A lease as the ledger holds it. */
export interface LeaseView {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  /** What the lease holds (pods = 1). */
  readonly demand: Quantities;
  /** Monotonic per node. 0 for a bound pod whose lease is unknown. */
  readonly version: number;
  /** When a reserved lease lapses (ms since the epoch); undefined once confirmed. */
  readonly expireMs: number | undefined;
  readonly state: 'reserved' | 'confirmed';
  readonly holder: string;
  /** The gang ("namespace/name"), or "". */
  readonly group: string;
  /** Marked binding (record field `b`): no Reserve moves the pod off this node. */
  readonly binding: boolean;
}

/** The shortest lease a Reserve may ask for, in ms. */
export const MIN_TTL_MS = 1_000;
/** The longest lease, in ms: no longer than a pod may wait at Permit (the framework's 15 minutes). */
export const MAX_TTL_MS = MAX_PERMIT_WAIT_MS;

/** What Reserve asks for, validated. */
export interface ReserveInput {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  /** The pod's demand ({@link podDemand}). */
  readonly demand: Quantities;
  /** How long the lease lives unless confirmed: MIN_TTL_MS..MAX_TTL_MS. */
  readonly ttlMs: number;
  readonly holder: string;
  /** "namespace/name" of the pod's gang (the model's groupKey), or "". */
  readonly group: string;
  /**
   * The caller binds next without renewing: the lease is marked binding at
   * once (a grant's record carries `b`; an existing reserved lease is marked
   * and renewed), as {@link Ledger.renew} with `binding` would mark it.
   */
  readonly binding?: boolean;
}

/** One resource a node could not give. */
export interface Shortage {
  readonly resource: string;
  readonly requested: number;
  /** allocatable - bound - leased at the time of the refusal (may be negative). */
  readonly free: number;
}

/** The outcome of {@link Ledger.reserve}. */
export type ReserveResult =
  /** A lease: new (created) or the one the pod already held on this node with the same demand. */
  | { readonly kind: 'granted'; readonly lease: LeaseView; readonly created: boolean }
  /** The node cannot hold the pod. */
  | { readonly kind: 'conflict'; readonly shortages: readonly Shortage[] }
  /** The ledger has no such node. */
  | { readonly kind: 'unknown-node' }
  /** The pod holds a lease on this node with another demand. */
  | { readonly kind: 'mismatch'; readonly lease: LeaseView }
  /** The pod is already bound to this node. */
  | { readonly kind: 'bound' }
  /** The pod holds a confirmed lease on another node (it was bound there). */
  | { readonly kind: 'confirmed-elsewhere'; readonly lease: LeaseView }
  /** The pod holds a live reserved lease of another holder (another replica is scheduling it). */
  | { readonly kind: 'held'; readonly lease: LeaseView }
  /** The pod's lease on another node is binding: its Binding there may have landed. */
  | { readonly kind: 'binding'; readonly lease: LeaseView }
  /** Redis lost its data and not every replica has put its leases back yet: nothing is granted. */
  | { readonly kind: 'restoring' };

/** One Confirm of {@link Ledger.confirmMany}: the pod, the version its caller holds (0: whatever lease it holds). */
export interface ConfirmInput {
  readonly uid: string;
  readonly version: number;
  /** Where the stream says the pod is bound, for when the index entry is gone. */
  readonly boundNode?: string | undefined;
}

/** The outcome of {@link Ledger.confirm}. */
export type ConfirmResult =
  | { readonly kind: 'confirmed'; readonly lease: LeaseView }
  | { readonly kind: 'none' }
  | { readonly kind: 'stale'; readonly lease: LeaseView };

/** The outcome of {@link Ledger.renew}: renewed (or confirmed, with nothing to renew), stale (another version), or none. */
export type RenewResult =
  | { readonly kind: 'renewed'; readonly lease: LeaseView }
  | { readonly kind: 'none' }
  | { readonly kind: 'stale'; readonly lease: LeaseView };

/** Options of {@link Ledger.renew}. */
export interface RenewOptions {
  /** The version the caller holds (absent: whatever lease the pod holds on the node). */
  readonly version?: number;
  /** The caller binds the pod on this node next. */
  readonly binding?: boolean;
}

/** A node's ledger, read atomically (after sweeping lapsed leases). */
export interface LedgerView {
  readonly node: string;
  /** False when Redis has no such node. */
  readonly exists: boolean;
  readonly allocatable: Quantities;
  /** Bound pods and confirmed leases. */
  readonly bound: Quantities;
  /** Live reserved leases. */
  readonly leased: Quantities;
  /** allocatable - bound - leased. */
  readonly free: Quantities;
  readonly fencingVersion: number;
  /** Redis TIME of the read (ms). */
  readonly nowMs: number;
  /** Leases held (reserved and confirmed). */
  readonly leaseCount: number;
}

/** A bound pod as the rebuild hands it to Redis. */
export interface BoundPod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly demand: Quantities;
}

/** What {@link Ledger.applyPod} did: the script's status, and the node the pod's index entry named (where another lease of the pod would be). */
export interface PodApplied {
  readonly status: string;
  readonly indexedNode: string | undefined;
}

/** How long the pod index outlives a reserved lease, and how long it keeps a confirmed one. */
const INDEX_SLACK_MS = 60_000;
const INDEX_CONFIRMED_MS = 24 * 3_600_000;
/** The default of LedgerOptions.confirmedTtlMs. */
export const DEFAULT_CONFIRMED_TTL_MS = 10 * 60_000;

interface LeaseJson {
  v: string;
  e: string;
  s: string;
  q: string;
  h?: string;
  ns?: string;
  n?: string;
  g?: string;
  b?: string;
}

interface BoundJson {
  q: string;
  v: string;
  ns?: string;
  n?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Parses a stored JSON record; one that is not an object, or not well formed, is a TypeError naming the kind of record. */
function parseRecord<T>(raw: string, kind: string, wellFormed: (record: Record<string, unknown>) => boolean): T {
  const parsed: unknown = JSON.parse(raw);
  if (!isObject(parsed) || !wellFormed(parsed)) throw new TypeError(`malformed ${kind} record: ${raw}`);
  return parsed as unknown as T;
}

/** The view of a stored record: the pod and its demand as the record has them, the lease as given. */
function recordView(uid: string, node: string, rec: LeaseJson | BoundJson, lease: Pick<LeaseView, 'version' | 'expireMs' | 'state' | 'holder' | 'group' | 'binding'>): LeaseView {
  return { uid, namespace: rec.ns ?? '', name: rec.n ?? '', node, demand: decodeQuantities(rec.q), ...lease };
}

function parseLease(raw: string, uid: string, node: string): LeaseView {
  const rec = parseRecord<LeaseJson>(raw, 'lease', (r) => typeof r.v === 'string' && typeof r.q === 'string');
  return recordView(uid, node, rec, {
    version: Number(rec.v),
    expireMs: rec.s === 'R' && rec.e !== '' ? Number(rec.e) : undefined,
    state: rec.s === 'R' ? 'reserved' : 'confirmed',
    holder: rec.h ?? '',
    group: rec.g ?? '',
    binding: rec.b === '1',
  });
}

function parseBound(raw: string, uid: string, node: string): LeaseView {
  const rec = parseRecord<BoundJson>(raw, 'bound-pod', (r) => typeof r.q === 'string');
  return recordView(uid, node, rec, { version: rec.v ? Number(rec.v) : 0, expireMs: undefined, state: 'confirmed', holder: '', group: '', binding: false });
}

/** The pod index entry: "<node> <version>" (node names hold no spaces). */
function indexValue(node: string, version: number): string {
  return `${node} ${version}`;
}

function nodeOfIndex(value: string | null): string | undefined {
  if (value === null) return undefined;
  const space = value.indexOf(' ');
  return space < 0 ? value : value.slice(0, space);
}

/** The reserve script's ARGV for one pod. */
function reserveArgs(input: ReserveInput): (string | number)[] {
  const base = JSON.stringify({ h: input.holder, ns: input.namespace, n: input.name, g: input.group, ...(input.binding === true ? { b: '1' } : {}) });
  return [input.uid, encodeQuantities(input.demand), input.ttlMs, base];
}

function parseShortages(payload: string): Shortage[] {
  return payload
    .split(';')
    .filter((s) => s !== '')
    .map((entry) => {
      const [resource = '', requested = '0', free = '0'] = entry.split('=');
      return { resource, requested: Number(requested), free: Number(free) };
    });
}

/** Options of {@link Ledger}. */
export interface LedgerOptions {
  store: RedisStore;
  keys: KeyLayout;
  metrics?: ReservationMetrics;
  /** How long a confirmed lease holds its capacity unless a bound event settles it (default 10 min). */
  confirmedTtlMs?: number;
  /** Where the leases this replica hands out are remembered, to be restored after Redis loses them. */
  memory?: LeaseMemory;
}

/**
 * Reserve, Unreserve, Confirm and the stream's changes, each one atomic
 * script on one node's keys. The pod index (uid → node) is a hint that lets
 * uid-only calls find the node; the node's own keys always decide.
 */
export class Ledger {
  private readonly store: RedisStore;
  private readonly confirmedTtlMs: number;
  private readonly keys: KeyLayout;
  private readonly metrics: ReservationMetrics | undefined;
  private readonly memory: LeaseMemory | undefined;

  constructor(options: LedgerOptions) {
    this.store = options.store;
    this.keys = options.keys;
    this.metrics = options.metrics;
    this.memory = options.memory;
    this.confirmedTtlMs = options.confirmedTtlMs ?? DEFAULT_CONFIRMED_TTL_MS;
  }

  /**
   * Grants a lease, or says why not. A pod holding a reserved lease on another node moves here,
   * unless that live lease is another holder's: then nothing changes and the answer is held.
   */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    return (await this.reserveMany([input]))[0]!;
  }

  /**
   * {@link reserve} for several pods (distinct uids), each answered on its
   * own, in one round trip whatever their number: the reserve scripts
   * pipelined, each pointing the pod index at its grant. If Redis fails any
   * entry, the leases the batch granted are given back (one that cannot be
   * lapses at its TTL) and the error is thrown: no caller holds a lease it was
   * not told of.
   */
  async reserveMany(inputs: readonly ReserveInput[]): Promise<ReserveResult[]> {
    const raw = await this.store.runMany(
      reserveScript,
      inputs.map((input) => ({ keys: this.keys.reserve(input.node, input.uid), args: [...reserveArgs(input), INDEX_SLACK_MS] })),
    );
    const replies = raw.map((r) => (r instanceof Error ? r : this.counted(parseReply(r))));
    const failed = replies.find((r): r is Error => r instanceof Error);
    if (failed !== undefined) {
      const granted = inputs.flatMap((input, i) => {
        const reply = replies[i]!;
        return reply instanceof Error || reply.status !== 'granted' ? [] : [parseLease(reply.payload, input.uid, input.node)];
      });
      await Promise.all(granted.map((lease) => this.giveBack(lease)));
      throw failed;
    }
    const results: ReserveResult[] = [];
    for (const [i, input] of inputs.entries()) {
      const reply = replies[i] as ScriptReply;
      if (reply.status !== 'granted') {
        results.push(this.reserveResult(input, reply));
        continue;
      }
      const lease = parseLease(reply.payload, input.uid, input.node);
      const indexed = (raw[i] as unknown[])[5];
      const from = typeof indexed === 'string' && indexed !== '' ? indexed : undefined;
      // A new scheduling attempt abandoned the old node: release its lease there.
      const moved = from !== undefined && from !== input.node ? await this.moveFrom(from, input, lease) : undefined;
      if (moved !== undefined) {
        results.push(moved);
        continue;
      }
      this.memory?.remember(input.uid, input.node, reply.payload);
      results.push({ kind: 'granted', lease, created: true });
    }
    return results;
  }

  /** The outcome of a reserve script that granted nothing new. */
  private reserveResult(input: ReserveInput, reply: ScriptReply): ReserveResult {
    switch (reply.status) {
      case 'unknown':
        return { kind: 'unknown-node' };
      case 'restoring':
        return { kind: 'restoring' };
      case 'bound':
        return { kind: 'bound' };
      case 'mismatch':
        return { kind: 'mismatch', lease: parseLease(reply.payload, input.uid, input.node) };
      case 'held':
        return { kind: 'held', lease: parseLease(reply.payload, input.uid, input.node) };
      case 'conflict':
        return { kind: 'conflict', shortages: parseShortages(reply.payload) };
      case 'existing':
        this.memory?.remember(input.uid, input.node, reply.payload);
        return { kind: 'granted', lease: parseLease(reply.payload, input.uid, input.node), created: false };
      default:
        throw new TypeError(`reserve: unexpected status ${reply.status}`);
    }
  }

  /**
   * Release-and-move: releases the pod's lease on the node it held before,
   * unless the pod was confirmed (bound) there, which a Reserve cannot undo,
   * or that reserved lease is another holder's (that replica may be binding
   * the pod there), or binding (its Binding there may have landed). Then the new lease is given back and that answer returned.
   */
  private async moveFrom(previous: string, input: ReserveInput, lease: LeaseView): Promise<ReserveResult | undefined> {
    const moved = await this.runNode(unreserveScript, previous, [input.uid, '0', '1', input.holder]);
    // A binding lease stays too: its Binding may have landed, and the pod's room must stay taken.
    if (moved.status !== 'kept' && moved.status !== 'held' && moved.status !== 'binding') return undefined;
    const kept = parseLease(moved.payload, input.uid, previous);
    await this.runNode(unreserveScript, input.node, [input.uid, String(lease.version), '0']);
    const keepMs = kept.expireMs === undefined ? INDEX_CONFIRMED_MS : Math.max(1, kept.expireMs - Date.now()) + INDEX_SLACK_MS;
    await this.store.call(() => this.store.redis.set(this.keys.podIndex(input.uid), indexValue(previous, kept.version), 'PX', keepMs));
    return { kind: moved.status === 'kept' ? 'confirmed-elsewhere' : moved.status, lease: kept };
  }

  /** Gives back a lease of a batch that failed; if Redis is away too, it lapses at its TTL. */
  private async giveBack(lease: LeaseView): Promise<void> {
    await this.releaseAbandoned(lease.node, lease.uid, lease.version).catch(() => false);
  }

  /**
   * Releases the pod's lease if `version` is its version (0: whatever lease it
   * holds — the service's own releases; the RPC refuses 0). Idempotent;
   * returns whether this call released one.
   */
  async unreserve(uid: string, version: number): Promise<boolean> {
    return (await this.unreserveMany([{ uid, version }]))[0]!;
  }

  /**
   * {@link unreserve} for several leases in two round trips (the pod index,
   * then the scripts pipelined). Whether each was released, in order; if
   * Redis fails, the error is thrown after the releases that did happen are
   * accounted (a repeat finds them done).
   */
  async unreserveMany(leases: readonly { readonly uid: string; readonly version: number }[]): Promise<boolean[]> {
    const nodes = leases.length === 0 ? [] : await this.store.call(() => this.store.redis.mget(...leases.map((l) => this.keys.podIndex(l.uid))));
    const found = leases.flatMap((l, i) => {
      const node = nodeOfIndex(nodes[i] ?? null);
      return node === undefined ? [] : [{ i, node, ...l }];
    });
    const raw = await this.store.runMany(
      unreserveScript,
      found.map((f) => ({ keys: this.keys.node(f.node), args: [f.uid, String(f.version), '0'] })),
    );
    const released = leases.map(() => false);
    let failed: Error | undefined;
    for (const [j, f] of found.entries()) {
      const r = raw[j];
      if (r instanceof Error) {
        failed ??= r;
        continue;
      }
      released[f.i] = this.afterRelease(f.uid, f.node, this.counted(parseReply(r)));
    }
    if (failed !== undefined) throw failed;
    return released;
  }

  /** Releases the pod's lease on a given node. */
  async releaseOn(node: string, uid: string, version: number, onlyReserved: boolean): Promise<boolean> {
    return this.afterRelease(uid, node, await this.runNode(unreserveScript, node, [uid, String(version), onlyReserved ? '1' : '0']));
  }

  /** After an unreserve script: a released lease is forgotten and its index entry dropped. */
  private afterRelease(uid: string, node: string, reply: ScriptReply): boolean {
    if (reply.status !== 'released') return false;
    this.memory?.forget(uid);
    this.dropIndex(uid, node, parseLease(reply.payload, uid, node).version);
    return true;
  }

  /**
   * Gives back a lease that was granted to a caller who gave up before the
   * reply reached it, unless a later Reserve of the same pod (a retry, a
   * re-call after a deadline) has already returned that lease to someone.
   */
  async releaseAbandoned(node: string, uid: string, version: number): Promise<boolean> {
    return this.afterRelease(uid, node, await this.runNode(unreserveScript, node, [uid, String(version), '0', '', '1']));
  }

  /**
   * Gives the pod's live reserved lease on `node` its TTL again from now.
   * `version` (optional) must be the lease's: the holder's check that its
   * lease did not lapse and go to another attempt meanwhile. `binding`: the
   * holder binds next, so the lease is marked and no Reserve moves the pod
   * off this node until the lease is settled, released or lapses.
   */
  async renew(node: string, uid: string, options: RenewOptions = {}): Promise<RenewResult> {
    const { version, binding = false } = options;
    const reply = await this.runNode(renewScript, node, [uid, version === undefined ? '' : String(version), binding ? '1' : '0', INDEX_SLACK_MS], this.keys.nodeAndPod(node, uid));
    switch (reply.status) {
      case 'none':
        return { kind: 'none' };
      case 'stale':
        return { kind: 'stale', lease: parseLease(reply.payload, uid, node) };
      case 'settled': {
        // The pod's bound event got here first: it holds this node for real.
        const lease = parseBound(reply.payload, uid, node);
        if (version !== undefined && lease.version !== 0 && lease.version !== version) return { kind: 'stale', lease };
        return { kind: 'renewed', lease };
      }
      case 'confirmed':
        this.memory?.remember(uid, node, reply.payload);
        return { kind: 'renewed', lease: parseLease(reply.payload, uid, node) };
      case 'renewed':
        // The script kept the pod index alive past the lease, so uid-only calls (Confirm) find it.
        this.memory?.remember(uid, node, reply.payload);
        return { kind: 'renewed', lease: parseLease(reply.payload, uid, node) };
      default:
        throw new TypeError(`renew: unexpected status ${reply.status}`);
    }
  }

  /** Waits until this connection's writes reached the configured replicas (see RedisStore.replicated). */
  replicated(what: string): Promise<void> {
    return this.store.replicated(what);
  }

  /** Releases whatever lease the pod holds (the stream saw it deleted, or bound elsewhere). */
  async releaseAnywhere(uid: string, exceptNode?: string): Promise<boolean> {
    return this.releaseIndexed(uid, await this.nodeOf(uid), exceptNode);
  }

  /** Releases the pod's lease on the node its index entry named (read already, e.g. by {@link applyPod}), unless that is `exceptNode`. */
  async releaseIndexed(uid: string, indexedNode: string | undefined, exceptNode?: string): Promise<boolean> {
    if (indexedNode === undefined || indexedNode === exceptNode) return false;
    return this.releaseOn(indexedNode, uid, 0, false);
  }

  /**
   * Turns the pod's lease into bound capacity. `version` 0 confirms whatever
   * lease it holds (the RPC refuses 0: callers name their version). `boundNode`: where the stream says the pod is bound, for
   * when the index entry is gone.
   */
  async confirm(uid: string, version: number, boundNode?: string): Promise<ConfirmResult> {
    return (await this.confirmMany([{ uid, version, boundNode }]))[0]!;
  }

  /**
   * {@link confirm} for several pods (distinct uids), each answered on its
   * own. One round trip for the pods whose leases this replica handed out
   * (its lease memory names their nodes: the confirm scripts pipelined);
   * the others look their nodes up in the pod index (one MGET for all) and
   * run their scripts in a second pipeline. If Redis fails an entry, the
   * error is thrown after the others were applied (Confirm is idempotent: a
   * repeat finds them done).
   */
  async confirmMany(inputs: readonly ConfirmInput[]): Promise<ConfirmResult[]> {
    const remembered = inputs.map((input) => this.memory?.nodeOf(input.uid));
    const results: Array<ConfirmResult | Error | undefined> = inputs.map(() => undefined);
    // The lease this replica last handed out names the node without a lookup; if it is not there, the index decides.
    const known = inputs.flatMap((_, i) => (remembered[i] === undefined ? [] : [{ i, node: remembered[i] }]));
    (await this.confirmOn(inputs, known)).forEach((r, j) => {
      if (r instanceof Error || r.kind !== 'none') results[known[j]!.i] = r;
    });
    const unknown = inputs.flatMap((_, i) => (results[i] === undefined ? [i] : []));
    const indexed = unknown.length === 0 ? [] : await this.store.call(() => this.store.redis.mget(...unknown.map((i) => this.keys.podIndex(inputs[i]!.uid))));
    const looked = unknown.flatMap((i, j) => {
      const node = nodeOfIndex(indexed[j] ?? null) ?? inputs[i]!.boundNode;
      if (node !== undefined && node !== remembered[i]) return [{ i, node }];
      results[i] = { kind: 'none' };
      return [];
    });
    (await this.confirmOn(inputs, looked)).forEach((r, j) => (results[looked[j]!.i] = r));
    const failed = results.find((r): r is Error => r instanceof Error);
    if (failed !== undefined) throw failed;
    return results as ConfirmResult[];
  }

  /** The confirm scripts of the given entries on the given nodes, pipelined: each one's result, or the error Redis gave it. */
  private async confirmOn(inputs: readonly ConfirmInput[], calls: readonly { readonly i: number; readonly node: string }[]): Promise<Array<ConfirmResult | Error>> {
    const raw = await this.store.runMany(
      confirmScript,
      calls.map(({ i, node }) => ({ keys: this.keys.nodeAndPod(node, inputs[i]!.uid), args: [inputs[i]!.uid, String(inputs[i]!.version), this.confirmedTtlMs, INDEX_CONFIRMED_MS] })),
    );
    return raw.map((r, j) => (r instanceof Error ? r : this.confirmResult(inputs[calls[j]!.i]!, calls[j]!.node, this.counted(parseReply(r)))));
  }

  private confirmResult({ uid, version }: ConfirmInput, node: string, reply: ScriptReply): ConfirmResult {
    switch (reply.status) {
      case 'none':
        return { kind: 'none' };
      case 'stale':
        return { kind: 'stale', lease: parseLease(reply.payload, uid, node) };
      case 'settled': {
        const lease = parseBound(reply.payload, uid, node);
        if (version !== 0 && lease.version !== 0 && lease.version !== version) return { kind: 'stale', lease };
        return { kind: 'confirmed', lease };
      }
      case 'confirmed':
        this.memory?.remember(uid, node, reply.payload);
        return { kind: 'confirmed', lease: parseLease(reply.payload, uid, node) };
      default:
        throw new TypeError(`confirm: unexpected status ${reply.status}`);
    }
  }

  /** The pod's live lease (or its bound record once the stream settled it); undefined if none. */
  async get(uid: string, boundNode?: string): Promise<LeaseView | undefined> {
    const node = await this.nodeOf(uid, boundNode);
    if (node === undefined) return undefined;
    return this.getOn(node, uid);
  }

  /** The pod's lease on one node. */
  async getOn(node: string, uid: string): Promise<LeaseView | undefined> {
    const reply = await this.runNode(getScript, node, [uid]);
    if (reply.status === 'lease') return parseLease(reply.payload, uid, node);
    if (reply.status === 'settled') return parseBound(reply.payload, uid, node);
    return undefined;
  }

  /** A node's ledger. */
  async ledger(node: string): Promise<LedgerView> {
    const raw = await this.store.run(ledgerScript, this.keys.node(node), []);
    if (!Array.isArray(raw) || raw.length < 9) throw new TypeError(`ledger: unexpected reply ${JSON.stringify(raw)}`);
    const parts = raw as unknown[];
    const allocatable = quantitiesFromHash(stringArray(parts[1]));
    const bound = quantitiesFromHash(stringArray(parts[2]));
    const leased = quantitiesFromHash(stringArray(parts[3]));
    const nowMs = Number(parts[5]);
    this.countExpiries(stringArray(parts[6]).length);
    return {
      node,
      exists: Number(parts[0]) === 1,
      allocatable,
      bound,
      leased,
      free: freeQuantities(allocatable, bound, leased),
      fencingVersion: Number(parts[4]),
      nowMs,
      leaseCount: Number(parts[8]),
    };
  }

  /**
   * Applies a pod event of the stream to its node (bind: bound capacity;
   * release: none), in one script that also reads the pod index: the answer
   * names where else the pod may hold a lease ({@link releaseIndexed}).
   */
  async applyPod(node: string, generation: number, pod: BoundPod, op: 'bind' | 'release'): Promise<PodApplied> {
    // The stream has the pod now (bound, or gone): a rebuild counts it from there.
    this.memory?.forget(pod.uid);
    const args = [generation, pod.uid, op, encodeQuantities(pod.demand), pod.namespace, pod.name];
    // A settled (bound) pod keeps its index entry until it lapses, so a Confirm racing the bound event still finds it;
    // a released one's entry is dropped by the script.
    const raw = await this.store.run(applyPodScript, this.keys.nodeAndPod(node, pod.uid), args);
    const reply = this.counted(parseReply(raw));
    const indexed = (raw as unknown[])[5];
    return { status: reply.status, indexedNode: typeof indexed === 'string' && indexed !== '' ? indexed : undefined };
  }

  /**
   * Replaces the node's allocatable and bound pods as of `generation`
   * (capacity undefined: the node was deleted). Skipped if Redis already
   * reflects that generation or a later one. Returns the script status.
   */
  async rebuildNode(node: string, generation: number, capacity: Quantities | undefined, pods: readonly BoundPod[], force = false): Promise<string> {
    const podsJson = JSON.stringify(pods.map((p) => ({ u: p.uid, q: encodeQuantities(p.demand), ns: p.namespace, n: p.name })));
    const reply = await this.runNode(rebuildNodeScript, node, [generation, capacity ? encodeQuantities(capacity) : '', podsJson, force ? '1' : '0']);
    return reply.status;
  }

  /**
   * Puts back the remembered leases that Redis lost (after a rebuild): each
   * one still live whose node holds neither it nor its pod's bound record.
   * Returns how many were restored.
   */
  async restoreLeases(): Promise<number> {
    let restored = 0;
    for (const lease of this.memory?.live(Date.now()) ?? []) {
      const reply = await this.runNode(restoreLeaseScript, lease.node, [lease.uid, lease.record]);
      if (reply.status !== 'restored') continue;
      restored++;
      const view = parseLease(lease.record, lease.uid, lease.node);
      const keepMs = view.expireMs === undefined ? INDEX_CONFIRMED_MS : Math.max(1, view.expireMs - (reply.nowMs ?? Date.now())) + INDEX_SLACK_MS;
      await this.store.call(() => this.store.redis.set(this.keys.podIndex(lease.uid), indexValue(lease.node, view.version), 'PX', keepMs));
    }
    return restored;
  }

  /** Sweeps one node now. Returns the uids whose leases lapsed. */
  async sweepNode(node: string): Promise<readonly string[]> {
    return (await this.runNode(sweepScript, node, [])).expired;
  }

  /**
   * Sweeps the nodes whose earliest lease expiry has passed (the due set).
   * Returns how many leases lapsed.
   */
  async sweepDue(limit = 256): Promise<number> {
    const [seconds, micros] = await this.store.call(() => this.store.redis.time());
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const nodes = await this.store.call(() => this.store.redis.zrangebyscore(this.keys.due, '-inf', now, 'LIMIT', 0, limit));
    let expired = 0;
    for (const node of nodes) expired += (await this.sweepNode(node)).length;
    return expired;
  }

  /** Leases held over the given nodes (one pipelined HLEN each). */
  async leaseCount(nodes: Iterable<string>): Promise<number> {
    const pipeline = this.store.redis.pipeline();
    let n = 0;
    for (const node of nodes) {
      pipeline.hlen(this.keys.node(node)[4]!);
      n++;
    }
    if (n === 0) return 0;
    const results = (await this.store.call(() => pipeline.exec())) ?? [];
    return results.reduce((sum, [err, value]) => sum + (err ? 0 : Number(value)), 0);
  }

  /** The node the pod index names for a uid (or the fallback). */
  async nodeOf(uid: string, fallback?: string): Promise<string | undefined> {
    return nodeOfIndex(await this.store.call(() => this.store.redis.get(this.keys.podIndex(uid)))) ?? fallback;
  }

  /**
   * Deletes the pod's index entry if it still names this lease (or, with no
   * version, any lease on this node). Off the reply path: a stale entry only
   * costs a lookup that finds no lease, and it lapses on its own.
   */
  private dropIndex(uid: string, node: string, version: number | undefined): void {
    void this.store.run(indexDropScript, [this.keys.podIndex(uid)], [node, version === undefined ? '' : String(version)]).catch(() => undefined);
  }

  /** Runs a node script (on the node's keys unless given). */
  private async runNode(
    script: typeof reserveScript,
    node: string,
    args: readonly (string | number)[],
    keys: readonly string[] = this.keys.node(node),
  ): Promise<ScriptReply> {
    return this.counted(parseReply(await this.store.run(script, keys, args)));
  }

  /** Counts the leases a node script found lapsed (the script itself kept the due set). */
  private counted(reply: ScriptReply): ScriptReply {
    this.countExpiries(reply.expired.length);
    return reply;
  }

  private countExpiries(n: number): void {
    if (n > 0) this.metrics?.expiries.inc(n);
  }
}
