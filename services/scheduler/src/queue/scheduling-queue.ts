/**
 * The scheduling queue the scheduler uses (upstream PriorityQueue in
 * backend/queue/scheduling_queue.go): activeQ, backoffQ and the
 * unschedulable pool behind one facade, plus the pods in flight (popped and
 * not yet done) and the nominated pods.
 *
 * A pod is in at most one place at a time:
 *
 *   add ──► activeQ ──pop──► in flight ──done──► (gone: bound)
 *              ▲                 │
 *              │                 ├─ addUnschedulable, error ──────────────► backoffQ
 *              │                 ├─ addUnschedulable, unschedulable ──────► unschedulable pool
 *              │                 └─ … but an event arrived meanwhile ─────► backoffQ
 *              │
 *   backoffQ ──┘ flushBackoffCompleted (every second): backoff over
 *   pool ──► backoffQ / activeQ on a matching event, or after podMaxInUnschedulablePodsDuration
 *
 * A failed pod always backs off first: its backoff counts from when it came
 * back. "backoffQ / activeQ" means backoffQ while the pod still backs off,
 * else activeQ. delete takes a pod out of wherever it is.
 *
 * The queue is pure and synchronous apart from pop; time comes from the
 * injected clock.
 */
import type { Pod } from '@schedmesh/proto/v1/types';
import { ActiveQueue } from './active-queue.js';
import { BackoffQueue, DEFAULT_POD_INITIAL_BACKOFF_MS, DEFAULT_POD_MAX_BACKOFF_MS } from './backoff.js';
import { systemClock } from './clock.js';
import type { CancelTimer, QueueClock } from './clock.js';
import { IN_TREE_EVENTS_TO_REGISTER, podSchedulingPropertiesChanged } from './events.js';
import type { EventsToRegister, QueueingEvent, QueueingEventKind } from './events.js';
import { Nominator } from './nominator.js';
import { newQueuedPod } from './queued-pod.js';
import type { AttemptFailure, QueuedPod, QueueLess } from './queued-pod.js';
import { DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_MS, UnschedulablePool } from './unschedulable-pool.js';

/** Upstream flushes completed backoffs every second. */
export const DEFAULT_BACKOFF_FLUSH_INTERVAL_MS = 1_000;
/** Upstream looks for pods parked too long every 30 seconds. */
export const DEFAULT_UNSCHEDULABLE_FLUSH_INTERVAL_MS = 30_000;

/** The three sub-queues a waiting pod can be in. */
export type QueueName = 'active' | 'backoff' | 'unschedulable';

/** Where a pod is: a sub-queue, or in flight (popped, its attempt not finished). */
export type PodQueueState = QueueName | 'inFlight';

/** Why a pod entered a sub-queue, besides cluster events (upstream's event labels, for metrics). */
export const InternalQueueEvents = {
  /** A new pending pod. */
  PodAdd: 'PodAdd',
  /** A parked pod changed in a way that may make it fit. */
  PodUpdate: 'PodUpdate',
  /** An attempt failed. */
  ScheduleAttemptFailure: 'ScheduleAttemptFailure',
  /** A pod's backoff ended. */
  BackoffComplete: 'BackoffComplete',
  /** A pod was parked for podMaxInUnschedulablePodsDuration. */
  UnschedulableTimeout: 'UnschedulableTimeout',
  /** Someone asked for the pod now (a Schedule call; upstream ForceActivate). */
  ForceActivate: 'ForceActivate',
} as const;

/** Why a pod entered a sub-queue. */
export type IncomingEvent = QueueingEventKind | (typeof InternalQueueEvents)[keyof typeof InternalQueueEvents];

/** Metric hooks: plain callbacks, so the queue knows no metrics library. */
export interface QueueMetrics {
  /** A pod entered a sub-queue (upstream scheduler_queue_incoming_pods_total{queue, event}). */
  readonly incoming?: (queue: QueueName, event: IncomingEvent) => void;
}

/** How many pods are where (upstream scheduler_pending_pods{queue}); read it at scrape time. */
export interface QueueCounts {
  readonly active: number;
  readonly backoff: number;
  readonly unschedulable: number;
  readonly inFlight: number;
}

/** How a SchedulingQueue is built. Durations are in ms. */
export interface SchedulingQueueOptions {
  /** The ordering: the profile's QueueSort plugin's less (e.g. PrioritySort). */
  readonly less: QueueLess;
  /** Time and timers; the system clock by default. */
  readonly clock?: QueueClock;
  /** The backoff after the first failed attempt (1 s); doubles per further attempt. */
  readonly podInitialBackoffMs?: number;
  /** The cap of the backoff (10 s). */
  readonly podMaxBackoffMs?: number;
  /** The longest a pod stays in the unschedulable pool without a matching event (5 min). */
  readonly podMaxInUnschedulablePodsMs?: number;
  /** How often run() flushes completed backoffs (1 s). */
  readonly backoffFlushIntervalMs?: number;
  /** How often run() looks for pods parked too long (30 s). */
  readonly unschedulableFlushIntervalMs?: number;
  /** Which events each plugin registers; the in-tree plugins' table by default. Unlisted plugins take every event. */
  readonly eventsToRegister?: EventsToRegister;
  /** Metric hooks. */
  readonly metrics?: QueueMetrics;
}

/** An invalid SchedulingQueueOptions value; thrown by the constructor, so at start-up. */
export class QueueOptionsError extends Error {
  constructor(
    /** The option. */
    readonly field: string,
    /** Its value. */
    readonly value: unknown,
    reason: string,
  ) {
    super(`scheduling queue option ${field} = ${String(value)}: ${reason}`);
    this.name = 'QueueOptionsError';
  }
}

/** How an attempt failed, as the scheduler reports it to addUnschedulable. */
export interface AttemptOutcome {
  /**
   * True when plugins rejected the pod (Unschedulable,
   * UnschedulableAndUnresolvable): the pod is parked until an event those
   * plugins registered. False when the attempt failed with an error: the pod
   * backs off and is retried.
   */
  readonly unschedulable: boolean;
  /** The plugins that rejected the pod (unschedulable only). */
  readonly rejectorPlugins?: Iterable<string>;
  /** The explanation, kept for GetSchedulingStatus. */
  readonly message?: string;
}

/** One pod as pendingPods lists it (for GetSchedulingStatus). */
export interface PendingPod {
  /** The latest version of the pod. */
  readonly pod: Pod;
  /** Where the pod is. */
  readonly queue: PodQueueState;
  /** Attempts so far (counting the one in flight). */
  readonly attempts: number;
  /** When the pod last entered the queue (ms since the epoch). */
  readonly timestamp: number;
  /** When the pod was first added (ms since the epoch). */
  readonly initialAttemptTimestamp: number;
  /** When its backoff ends (ms since the epoch); only for pods in backoffQ. */
  readonly backoffUntil: number | undefined;
  /** The plugins that rejected its last attempt. */
  readonly unschedulablePlugins: readonly string[];
  /** Its last failed attempt. */
  readonly lastFailure: AttemptFailure | undefined;
  /** The node preemption nominated it to. */
  readonly nominatedNodeName: string | undefined;
}

/** A popped pod whose attempt is not finished. */
interface InFlight {
  /** The entry pop handed out. */
  readonly entry: QueuedPod;
  /** The scheduling cycle of the pop. */
  readonly cycle: number;
  /** The latest version of the pod: updates during the attempt land here. */
  pod: Pod;
  /** The pod was deleted (or bound elsewhere) during the attempt: it must not come back. */
  deleted: boolean;
}

function positiveMs(field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new QueueOptionsError(field, value, 'must be a positive number of milliseconds');
  return value;
}

/** The scheduling queue: activeQ, backoffQ, the unschedulable pool, pods in flight, nominations. */
export class SchedulingQueue {
  private readonly clock: QueueClock;
  private readonly active: ActiveQueue;
  private readonly backoff: BackoffQueue;
  private readonly pool: UnschedulablePool;
  private readonly nominator = new Nominator();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly less: QueueLess;
  private readonly metrics: QueueMetrics;
  private readonly maxInPoolMs: number;
  private readonly backoffFlushIntervalMs: number;
  private readonly unschedulableFlushIntervalMs: number;
  private timers: CancelTimer[] = [];
  /** Incremented by every pop: the cycle a popped pod was taken in. */
  private schedulingCycle = 0;
  /**
   * The scheduling cycle when the last cluster event arrived (upstream
   * moveRequestCycle). A pod popped in this cycle or before saw its attempt
   * overtaken by the event, so a rejection must not park it.
   */
  private moveRequestCycle = -1;

  constructor(options: SchedulingQueueOptions) {
    const initialMs = positiveMs('podInitialBackoffMs', options.podInitialBackoffMs ?? DEFAULT_POD_INITIAL_BACKOFF_MS);
    const maxMs = positiveMs('podMaxBackoffMs', options.podMaxBackoffMs ?? DEFAULT_POD_MAX_BACKOFF_MS);
    if (maxMs < initialMs) throw new QueueOptionsError('podMaxBackoffMs', maxMs, `must not be below podInitialBackoffMs (${initialMs})`);
    this.maxInPoolMs = positiveMs('podMaxInUnschedulablePodsMs', options.podMaxInUnschedulablePodsMs ?? DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_MS);
    this.backoffFlushIntervalMs = positiveMs('backoffFlushIntervalMs', options.backoffFlushIntervalMs ?? DEFAULT_BACKOFF_FLUSH_INTERVAL_MS);
    this.unschedulableFlushIntervalMs = positiveMs('unschedulableFlushIntervalMs', options.unschedulableFlushIntervalMs ?? DEFAULT_UNSCHEDULABLE_FLUSH_INTERVAL_MS);
    this.clock = options.clock ?? systemClock;
    this.less = options.less;
    this.metrics = options.metrics ?? {};
    this.active = new ActiveQueue({ less: options.less, onPop: (entry) => this.startAttempt(entry) });
    this.backoff = new BackoffQueue({ initialMs, maxMs });
    this.pool = new UnschedulablePool(options.eventsToRegister ?? IN_TREE_EVENTS_TO_REGISTER);
  }

  /**
   * Starts the periodic flushes: completed backoffs to activeQ, and pods
   * parked too long out of the pool. Without run, call the flush methods
   * yourself. Idempotent; close stops them.
   */
  run(): void {
    if (this.timers.length > 0 || this.active.closed) return;
    this.timers = [
      this.clock.every(this.backoffFlushIntervalMs, () => this.flushBackoffCompleted()),
      this.clock.every(this.unschedulableFlushIntervalMs, () => this.flushUnschedulableLeftover()),
    ];
  }

  /** Stops the flushes; waiting and later pops resolve with undefined. Idempotent. */
  close(): void {
    for (const cancel of this.timers) cancel();
    this.timers = [];
    this.active.close();
  }

  /**
   * A new pending pod: it goes to activeQ. A pod the queue already holds is
   * updated instead; a pod already bound to a node (nodeName set) is not
   * pending and leaves the queue.
   */
  add(pod: Pod): void {
    if (pod.nodeName !== '') {
      this.delete(pod.uid);
      return;
    }
    if (this.locate(pod.uid) !== undefined) {
      this.update(pod);
      return;
    }
    this.nominator.add(pod);
    this.toActive(newQueuedPod(pod, this.clock.now()), InternalQueueEvents.PodAdd);
  }

  /**
   * A new version of a pending pod (upstream Update). In activeQ it takes its
   * new place (a priority change); in backoffQ it keeps waiting; in the pool
   * it leaves if its scheduling properties changed; in flight it is kept for
   * when the attempt comes back. An unknown pod is added; a bound one leaves.
   */
  update(pod: Pod): void {
    if (pod.nodeName !== '') {
      this.delete(pod.uid);
      return;
    }
    const flying = this.inFlight.get(pod.uid);
    if (flying !== undefined) {
      if (flying.deleted) return;
      this.nominator.update(flying.pod, pod);
      flying.pod = pod;
      return;
    }
    const old = this.active.get(pod.uid) ?? this.backoff.get(pod.uid) ?? this.pool.get(pod.uid);
    if (old === undefined) {
      this.add(pod);
      return;
    }
    this.nominator.update(old.pod, pod);
    const next: QueuedPod = { ...old, pod };
    if (this.active.update(next) || this.backoff.update(next)) return;
    if (podSchedulingPropertiesChanged(old.pod, pod)) {
      this.pool.delete(pod.uid);
      this.requeue(next, InternalQueueEvents.PodUpdate);
    } else {
      this.pool.update(next);
    }
  }

  /**
   * The pod was deleted, or bound (by us or anyone): it leaves every
   * sub-queue and its nomination. A pod in flight is marked so that its
   * attempt cannot bring it back. Whether the queue knew the pod.
   */
  delete(uid: string): boolean {
    this.nominator.delete(uid);
    const flying = this.inFlight.get(uid);
    if (flying !== undefined) flying.deleted = true;
    const queued = this.active.delete(uid) ?? this.backoff.delete(uid) ?? this.pool.delete(uid);
    return queued !== undefined || flying !== undefined;
  }

  /**
   * Moves a pod waiting in backoffQ or the unschedulable pool to activeQ now
   * (upstream Activate). A pod in activeQ or in flight stays where it is.
   * Whether the queue holds the pod at all.
   */
  activate(uid: string): boolean {
    const waiting = this.backoff.delete(uid) ?? this.pool.delete(uid);
    if (waiting !== undefined) this.toActive(waiting, InternalQueueEvents.ForceActivate);
    return waiting !== undefined || this.active.get(uid) !== undefined || this.inFlight.has(uid);
  }

  /**
   * Takes the next pod to schedule, waiting while activeQ is empty. The entry
   * has its attempt counted, and the pod is in flight until done or
   * addUnschedulable. Resolves with undefined once the queue is closed;
   * rejects with the signal's reason if it aborts first.
   */
  pop(signal?: AbortSignal): Promise<QueuedPod | undefined> {
    return this.active.pop(signal);
  }

  /** The attempt for this pod is over and the pod does not come back (it was bound, or given up). */
  done(uid: string): void {
    this.inFlight.delete(uid);
  }

  /**
   * The attempt for a popped pod failed: it comes back (upstream
   * AddUnschedulableIfNotPresent), and is no longer in flight.
   * - an error goes to backoffQ (its backoff counts from now);
   * - an unschedulable pod is parked in the pool with its rejector plugins,
   *   unless a cluster event arrived since it was popped (moveRequestCycle)
   *   or no plugin is named: then it goes to backoffQ / activeQ, since the
   *   event may have made it fit.
   * The latest version of the pod (updates during the attempt) is the one
   * queued. Returns where it went, or undefined when it does not come back:
   * it was deleted during the attempt, or is already queued.
   */
  addUnschedulable(entry: QueuedPod, outcome: AttemptOutcome): QueueName | undefined {
    const uid = entry.pod.uid;
    const flying = this.inFlight.get(uid);
    this.inFlight.delete(uid);
    if (flying?.deleted === true || this.locate(uid) !== undefined) return undefined;
    const now = this.clock.now();
    const rejectors = outcome.unschedulable ? new Set(outcome.rejectorPlugins ?? []) : new Set<string>();
    const next: QueuedPod = {
      ...(flying?.entry ?? entry),
      pod: flying?.pod ?? entry.pod,
      timestamp: now,
      unschedulablePlugins: rejectors,
      lastFailure: { unschedulable: outcome.unschedulable, plugins: [...rejectors], message: outcome.message ?? '', at: now },
    };
    const cycle = flying?.cycle ?? this.schedulingCycle;
    if (rejectors.size > 0 && this.moveRequestCycle < cycle) {
      this.pool.add(next);
      this.metrics.incoming?.('unschedulable', InternalQueueEvents.ScheduleAttemptFailure);
      return 'unschedulable';
    }
    return this.requeue(next, InternalQueueEvents.ScheduleAttemptFailure);
  }

  /**
   * A cluster event: the parked pods whose rejector plugins registered its
   * kind go to backoffQ / activeQ, and pods in flight will not be parked when
   * they come back. Returns how many pods left the pool.
   */
  moveOnEvent(event: QueueingEvent): number {
    const moved = this.pool.takeMovedBy(event.kind);
    for (const entry of moved) this.requeue(entry, event.kind);
    this.moveRequestCycle = this.schedulingCycle;
    return moved.length;
  }

  /** Moves the pods whose backoff is over to activeQ; how many. run() calls it every second. */
  flushBackoffCompleted(): number {
    const expired = this.backoff.popExpired(this.clock.now());
    for (const entry of expired) this.toActive(entry, InternalQueueEvents.BackoffComplete);
    return expired.length;
  }

  /**
   * Moves the pods parked longer than podMaxInUnschedulablePodsDuration to
   * backoffQ / activeQ; how many. run() calls it every 30 seconds.
   */
  flushUnschedulableLeftover(): number {
    const leftovers = this.pool.takeLeftovers(this.clock.now(), this.maxInPoolMs);
    for (const entry of leftovers) this.requeue(entry, InternalQueueEvents.UnschedulableTimeout);
    return leftovers.length;
  }

  /**
   * Records that preemption nominated the pod to nodeName (an empty name
   * clears it). Ignored for a pod the queue does not hold or that was
   * deleted during its attempt.
   */
  nominate(uid: string, nodeName: string): void {
    const flying = this.inFlight.get(uid);
    const pod = flying?.deleted === false ? flying.pod : this.queued(uid)?.pod;
    if (pod !== undefined) this.nominator.add(pod, nodeName);
  }

  /** The node the pod is nominated to. */
  nominatedNodeName(uid: string): string | undefined {
    return this.nominator.nodeOf(uid);
  }

  /** The pods nominated to the node (latest versions), for the filters of a later attempt. */
  nominatedPodsForNode(nodeName: string): Pod[] {
    return this.nominator.podsFor(nodeName);
  }

  /** Where the pod is, if the queue holds it. */
  locate(uid: string): PodQueueState | undefined {
    if (this.inFlight.has(uid)) return 'inFlight';
    if (this.active.has(uid)) return 'active';
    if (this.backoff.has(uid)) return 'backoff';
    if (this.pool.has(uid)) return 'unschedulable';
    return undefined;
  }

  /** One pod's status, if the queue holds it. */
  status(uid: string): PendingPod | undefined {
    const flying = this.inFlight.get(uid);
    if (flying !== undefined) return this.describe({ ...flying.entry, pod: flying.pod }, 'inFlight');
    const state = this.locate(uid);
    const entry = this.queued(uid);
    return state === undefined || entry === undefined ? undefined : this.describe(entry, state);
  }

  /**
   * Every pod the queue holds: activeQ in pop order, then backoffQ by end of
   * backoff, then the pool, then the pods in flight. O(n log n): for status
   * and debugging, not for the scheduling path.
   */
  pendingPods(): PendingPod[] {
    const byQueueSort = (a: QueuedPod, b: QueuedPod): number => (this.less(a, b) ? -1 : this.less(b, a) ? 1 : 0);
    const byExpiry = (a: QueuedPod, b: QueuedPod): number => this.backoff.expiryOf(a) - this.backoff.expiryOf(b);
    return [
      ...this.active.list().sort(byQueueSort).map((e) => this.describe(e, 'active')),
      ...this.backoff.list().sort(byExpiry).map((e) => this.describe(e, 'backoff')),
      ...this.pool.list().map((e) => this.describe(e, 'unschedulable')),
      ...[...this.inFlight.values()].map((f) => this.describe({ ...f.entry, pod: f.pod }, 'inFlight')),
    ];
  }

  /** How many pods are where. */
  counts(): QueueCounts {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.pool.size, inFlight: this.inFlight.size };
  }

  private queued(uid: string): QueuedPod | undefined {
    return this.active.get(uid) ?? this.backoff.get(uid) ?? this.pool.get(uid);
  }

  /** Runs synchronously as pop hands out an entry: count the attempt, start the cycle. */
  private startAttempt(entry: QueuedPod): QueuedPod {
    const popped: QueuedPod = { ...entry, attempts: entry.attempts + 1 };
    this.schedulingCycle++;
    this.inFlight.set(popped.pod.uid, { entry: popped, cycle: this.schedulingCycle, pod: popped.pod, deleted: false });
    return popped;
  }

  /** backoffQ while the pod still backs off, else activeQ. */
  private requeue(entry: QueuedPod, event: IncomingEvent): QueueName {
    if (this.backoff.isBackingOff(entry, this.clock.now())) {
      this.backoff.add(entry);
      this.metrics.incoming?.('backoff', event);
      return 'backoff';
    }
    this.toActive(entry, event);
    return 'active';
  }

  private toActive(entry: QueuedPod, event: IncomingEvent): void {
    // Count before adding: a waiting pop takes the pod at once.
    this.metrics.incoming?.('active', event);
    this.active.add(entry);
  }

  private describe(entry: QueuedPod, queue: PodQueueState): PendingPod {
    return {
      pod: entry.pod,
      queue,
      attempts: entry.attempts,
      timestamp: entry.timestamp,
      initialAttemptTimestamp: entry.initialAttemptTimestamp,
      backoffUntil: queue === 'backoff' ? this.backoff.expiryOf(entry) : undefined,
      unschedulablePlugins: [...entry.unschedulablePlugins],
      lastFailure: entry.lastFailure,
      nominatedNodeName: this.nominator.nodeOf(entry.pod.uid),
    };
  }
}
