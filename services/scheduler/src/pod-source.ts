/**
 * Feeds the scheduling queue from the cluster stream, in two ways at once:
 *
 * - the whole stream through a resilient ordered follower: the ClusterView
 *   (nodes, every pod's latest version), the generation gate, and the cluster
 *   events that move parked pods back (queueing hints). A pod bound by
 *   anyone, or deleted, leaves the queue here, whatever replica holds it.
 * - pending pods through a durable consumer shared by every scheduler
 *   replica: a pod enters this replica's queue when the consumer hands its
 *   event to this replica, and the event stays unacknowledged (kept alive
 *   with `working`) until the pod settles. A replica that dies leaves its
 *   events unacknowledged, and JetStream hands them to a live replica after
 *   ackWait: no pod is lost across a restart or a crash.
 *
 * A newer event of a pod another replica holds may reach this one (every
 * pod update is a new event): both then try it, and reservation plus the
 * Binding subresource make sure it binds once.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Context, Tracer } from '@opentelemetry/api';
import { jetstreamManager } from '@nats-io/jetstream';
import { isPodTerminal } from '@schedmesh/model';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { Pod } from '@schedmesh/proto/v1/types';
import { clusterKindFilter, consumeDurable, followClusterStreamResilient, GenerationGate, jetStreamClient, sleep } from '@schedmesh/runtime';
import type { DurableClusterEvent, Logger } from '@schedmesh/runtime';
import type { ClusterView } from './cluster-view.js';
import type { SchedulingQueue } from './queue/scheduling-queue.js';
import type { ProfileSet, ProfilesChange } from './served-profiles.js';

/** Options of {@link PodSource}. */
export interface PodSourceOptions {
  readonly nc: NatsConnection;
  readonly queue: SchedulingQueue;
  readonly view: ClusterView;
  readonly logger: Logger;
  /** Each event the view applies is an `apply <kind>` span linked to the informer's publish. */
  readonly tracer?: Tracer;
  /** The schedulerNames this scheduler serves (its profiles; they may change, see profilesChanged). */
  readonly profiles: ProfileSet;
  /** Stream name and subject prefix. */
  readonly stream: string;
  readonly subjectPrefix: string;
  /** The durable consumer's name, shared by every replica. */
  readonly durableName: string;
  /** How long a held event may go without a heartbeat before JetStream redelivers it, in ms. */
  readonly ackWaitMs: number;
  /** Most pending pods one replica holds at once. */
  readonly maxHeld: number;
  /** Server-side limit of minGeneration waits. */
  readonly maxWaitMs: number;
  /** Called on each received pod event that was handed to this replica (metrics). */
  readonly onHeld?: (count: number) => void;
  /** Called when the view sees a pod stop pending (bound by anyone, deleted, finished). */
  readonly onPodSettled?: (pod: Pod) => void;
  /** How many settled pods' uids are remembered, the most recent (default {@link SETTLED_MEMORY}). */
  readonly settledMemory?: number;
}

/** How many settled pods are remembered by default (about 80 bytes each). */
const SETTLED_MEMORY = 100_000;

/** Whether a pod is this scheduler's to schedule now. */
export function isPendingFor(pod: Pod, profiles: ProfileSet): boolean {
  return pod.nodeName === '' && !pod.terminating && profiles.has(pod.schedulerName) && pod.schedulingGates.length === 0 && !isPodTerminal(pod);
}

/** The pending-pod feed of one scheduler replica. */
export class PodSource {
  /** The generation of the whole stream applied to the view. */
  readonly gate: GenerationGate;
  private readonly held = new Map<string, DurableClusterEvent>();
  // Pods that settled (bound or gone). A uid never becomes pending again, but
  // an older event of it can still arrive (a PreBind patch made one before the
  // Binding); remembering the uid keeps it from a second, futile attempt.
  private readonly settled = new Set<string>();

  constructor(private readonly options: PodSourceOptions) {
    this.gate = new GenerationGate({ name: 'cluster view', maxWaitMs: options.maxWaitMs });
  }

  /** Nodes in the view. */
  viewNodes(): number {
    return this.options.view.nodeCount;
  }

  /** Pods whose events this replica holds. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Settled pods' uids remembered (at most `settledMemory`). */
  get settledCount(): number {
    return this.settled.size;
  }

  /**
   * The trace context of the pod's event this replica holds: the informer's
   * publish span, so the attempt's spans join the pod's trace.
   */
  traceContextOf(uid: string): Context | undefined {
    return this.held.get(uid)?.traceContext;
  }

  /** The generation a pod's latest event was seen at (0 when unknown). */
  generationOf(uid: string): number {
    return this.options.view.pod(uid)?.generation ?? 0;
  }

  /** The pod as the view has it (its latest event), if the cluster has it. */
  viewPod(uid: string): Pod | undefined {
    return this.options.view.pod(uid)?.pod;
  }

  /** Whether the pod is pending for one of this scheduler's profiles. */
  isPending(pod: Pod): boolean {
    return !this.settled.has(pod.uid) && isPendingFor(pod, this.options.profiles);
  }

  /** The pod settled (bound, bound elsewhere, deleted): its event is acknowledged and it leaves the queue. */
  settle(uid: string): void {
    this.options.queue.delete(uid);
    this.settled.add(uid);
    // Bounded: the oldest go first (a Set iterates in insertion order).
    if (this.settled.size > (this.options.settledMemory ?? SETTLED_MEMORY)) this.settled.delete(this.settled.values().next().value as string);
    const msg = this.held.get(uid);
    if (!msg) return;
    this.held.delete(uid);
    // A lost ack brings the event back after ackWait, and `settled` drops it then.
    msg.ack();
    this.options.onHeld?.(this.held.size);
  }

  /**
   * The served schedulerNames changed. The pending pods of an added one that
   * the consumer already passed over are in the view: they enter the queue
   * now (not held: if another replica also takes one, reservation and the
   * Binding make it bind once). Those of a removed one leave the queue and
   * their events are acknowledged; they come back from the view if the name
   * is served again.
   */
  profilesChanged(change: ProfilesChange): void {
    const { queue, view, profiles } = this.options;
    if (change.removed.length > 0) {
      const removed = new Set(change.removed);
      for (const { pod } of view.pods()) {
        if (!removed.has(pod.schedulerName)) continue;
        queue.delete(pod.uid);
        const msg = this.held.get(pod.uid);
        if (!msg) continue;
        this.held.delete(pod.uid);
        msg.ack();
      }
      this.options.onHeld?.(this.held.size);
    }
    if (change.added.length === 0) return;
    const added = new Set(change.added);
    for (const { pod } of view.pods()) {
      if (added.has(pod.schedulerName) && !this.settled.has(pod.uid) && !this.held.has(pod.uid) && isPendingFor(pod, profiles)) queue.add(pod);
    }
  }

  /** Runs the follower, the durable consumer and the heartbeat until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.follow(signal), this.consume(signal), this.heartbeat(signal)]);
  }

  private async follow(signal: AbortSignal): Promise<void> {
    const { view, queue, logger } = this.options;
    await followClusterStreamResilient({
      nc: this.options.nc,
      logger,
      stream: this.options.stream,
      gate: this.gate,
      signal,
      ...(this.options.tracer ? { tracer: this.options.tracer } : {}),
      apply: ({ event }) => {
        const change = view.apply(event);
        if (change.settledPod) {
          this.settle(change.settledPod.uid);
          this.options.onPodSettled?.(change.settledPod);
        }
        for (const kind of change.events) queue.moveOnEvent({ kind });
      },
      onReset: () => {
        logger.warn('the cluster stream was recreated: the scheduler rebuilds its view');
        view.reset();
      },
    });
  }

  private async consume(signal: AbortSignal): Promise<void> {
    const { logger } = this.options;
    const js = jetStreamClient(this.options.nc);
    const jsm = await jetstreamManager(this.options.nc);
    while (!signal.aborted) {
      try {
        for await (const received of consumeDurable({
          js,
          jsm,
          logger,
          stream: this.options.stream,
          name: this.options.durableName,
          filterSubject: clusterKindFilter('pod', this.options.subjectPrefix),
          ackWaitMs: this.options.ackWaitMs,
          maxDeliver: -1,
          maxAckPending: this.options.maxHeld,
          signal,
        })) {
          this.take(received);
        }
      } catch (err) {
        if (signal.aborted) break;
        logger.warn({ err: (err as Error).message }, 'the pending-pod consumer failed; retrying');
        await sleep(signal, 1_000).catch(() => undefined);
      }
    }
  }

  private take(received: DurableClusterEvent): void {
    const { queue, view, profiles } = this.options;
    const event = received.event;
    if (event.object?.$case !== 'pod') {
      received.ack();
      return;
    }
    const pod = event.object.value;
    const previous = this.held.get(pod.uid);
    // The view may already know a later state of the pod (the consumer lags the follower).
    const latest = view.pod(pod.uid);
    const superseded = latest !== undefined && latest.generation > event.generation && !isPendingFor(latest.pod, profiles);
    const deleted = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    if (this.settled.has(pod.uid)) {
      received.ack();
      return;
    }
    if (deleted || superseded || !isPendingFor(pod, profiles)) {
      received.ack();
      if (previous && (deleted || superseded || pod.nodeName !== '')) this.settle(pod.uid);
      return;
    }
    if (previous && previous.event.generation >= event.generation) {
      received.ack();
      return;
    }
    if (previous) previous.ack();
    this.held.set(pod.uid, received);
    this.options.onHeld?.(this.held.size);
    queue.add(pod);
  }

  // Held events are kept alive well inside ackWait; a replica that stops beating loses them to another.
  private async heartbeat(signal: AbortSignal): Promise<void> {
    const every = Math.max(100, Math.floor(this.options.ackWaitMs / 3));
    while (!signal.aborted) {
      try {
        await sleep(signal, every);
      } catch {
        return;
      }
      for (const msg of this.held.values()) msg.working();
    }
  }
}
