import { DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { ConsumerNotification, JetStreamClient, JetStreamManager, JsMsg, PubAck, StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { context, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import type { Attributes, Context, Tracer } from '@opentelemetry/api';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { delay } from 'abort-controller-x';
import { Backoff, sleep } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { GenerationGate } from './generation-gate.js';
import type { Logger } from './logger.js';
import { jetStreamClient, messageTraceContext, publishTraced } from './nats.js';
import { anchorSubject, AnchorTracker, readStreamAnchor, streamPrefixOf } from './stream-anchor.js';
import type { StreamAnchor } from './stream-anchor.js';
import { linkTo, withSpan } from './telemetry.js';

/**
 * The cluster stream: every Kubernetes object the mesh reads, as ClusterEvent
 * protobuf messages on JetStream.
 *
 * Subjects are one per object — `schedmesh.cluster.<kind>.<key tokens>` — and
 * the stream keeps one message per subject, so it always holds the latest
 * state of every object (deletes stay as the object's last message). A new
 * consumer replays the stream and has the whole cluster without a relist; the
 * stream sequence of a message is the snapshot generation it produces.
 */
export const clusterStream = {
  /** Default stream name. */
  name: 'SCHEDMESH_CLUSTER',
  /** Subject prefix. */
  prefix: 'schedmesh.cluster',
} as const;

/** The kinds of object on the stream, by the ClusterEvent oneof case. */
export type ClusterObjectKind = NonNullable<ClusterEvent['object']>['$case'];

const kindTokens: Record<ClusterObjectKind, string> = {
  node: 'node',
  pod: 'pod',
  namespace: 'namespace',
  admissionPolicy: 'admissionpolicy',
  configMap: 'configmap',
  podDisruptionBudget: 'pdb',
  podGroup: 'podgroup',
  service: 'service',
  replicaSet: 'replicaset',
  statefulSet: 'statefulset',
  replicationController: 'replicationcontroller',
};

/**
 * Escapes a string into one NATS subject token: '.', '*', '>', '%' and
 * white space are percent-encoded (node names contain dots).
 */
export function subjectToken(value: string): string {
  if (value === '') return '%00';
  return value.replace(/[.*>%\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The key of the object an event carries: "name" or "namespace/name". */
export function clusterObjectKey(event: ClusterEvent): string {
  const o = event.object;
  switch (o?.$case) {
    case 'node':
      return o.value.name;
    case 'namespace':
      return o.value.name;
    case 'pod':
      return `${o.value.namespace}/${o.value.name}`;
    case 'admissionPolicy':
      return o.value.namespace ? `${o.value.namespace}/${o.value.name}` : o.value.name;
    case 'configMap':
    case 'podDisruptionBudget':
    case 'podGroup':
    case 'service':
    case 'replicaSet':
    case 'statefulSet':
    case 'replicationController':
      return `${o.value.namespace}/${o.value.name}`;
    default:
      throw new TypeError('cluster event carries no object');
  }
}

/**
 * The OpenTelemetry attributes of an event's object, by the Kubernetes
 * semantic conventions: `k8s.pod.name`, `k8s.pod.uid` and
 * `k8s.namespace.name` for a pod, `k8s.node.name` for a node,
 * `k8s.namespace.name` for a namespace, and for any object
 * `schedmesh.object.kind` and `schedmesh.object.key` ("namespace/name").
 * Jaeger finds a pod's publish and applies by its UID.
 */
export function clusterObjectAttributes(event: ClusterEvent): Attributes {
  const o = event.object;
  if (!o) return {};
  const common = { 'schedmesh.object.kind': o.$case, 'schedmesh.object.key': clusterObjectKey(event) };
  switch (o.$case) {
    case 'pod':
      return { ...common, 'k8s.namespace.name': o.value.namespace, 'k8s.pod.name': o.value.name, 'k8s.pod.uid': o.value.uid };
    case 'node':
      return { ...common, 'k8s.node.name': o.value.name };
    case 'namespace':
      return { ...common, 'k8s.namespace.name': o.value.name };
    default:
      return common;
  }
}

/** The subject of an event's object. */
export function clusterEventSubject(event: ClusterEvent, prefix: string = clusterStream.prefix): string {
  const kind = event.object?.$case;
  if (!kind) throw new TypeError('cluster event carries no object');
  const key = clusterObjectKey(event).split('/').map(subjectToken).join('.');
  return `${prefix}.${kindTokens[kind]}.${key}`;
}

/** The subject filter of every object of one kind ("schedmesh.cluster.pod.>"). */
export function clusterKindFilter(kind: ClusterObjectKind, prefix: string = clusterStream.prefix): string {
  return `${prefix}.${kindTokens[kind]}.>`;
}

/** The resourceVersion of the object an event carries ("" for kinds the model keeps none of: Namespace). */
export function clusterEventVersion(event: ClusterEvent): string {
  const o = event.object;
  if (!o) return '';
  return 'resourceVersion' in o.value ? o.value.resourceVersion : '';
}

/** Options of {@link ensureClusterStream}. */
export interface ClusterStreamOptions {
  /** Stream name (default SCHEDMESH_CLUSTER). */
  name?: string;
  /** Subject prefix (default schedmesh.cluster). */
  prefix?: string;
  /** Replicas in a NATS cluster (default 1). */
  replicas?: number;
  /** Keep JetStream data in memory instead of files (tests, demo). */
  memory?: boolean;
}

/** True for the JetStream error of a stream that does not exist. */
export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError ? err.code === JetStreamApiCodes.StreamNotFound : /stream not found/i.test((err as Error)?.message ?? '');
}

/**
 * Creates the cluster stream if it does not exist (idempotent; an existing
 * stream is left as it is). Returns its info.
 *
 * Only the informer calls it: the stream's owner decides its storage and
 * replicas. Every other service waits for it ({@link waitForClusterStream}).
 */
export async function ensureClusterStream(jsm: JetStreamManager, options: ClusterStreamOptions = {}): Promise<StreamInfo> {
  const name = options.name ?? clusterStream.name;
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
  }
  return jsm.streams.add({
    name,
    subjects: [`${options.prefix ?? clusterStream.prefix}.>`],
    retention: RetentionPolicy.Limits,
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.Old,
    storage: options.memory ? StorageType.Memory : StorageType.File,
    num_replicas: options.replicas ?? 1,
    duplicate_window: 2 * 60 * 1_000_000_000,
  });
}

/**
 * Publishes one event with the active trace context in its headers and a
 * message id (kind/key/resourceVersion/type) so a re-published watch event
 * (after a relist or a reconnect) is de-duplicated by the server.
 *
 * With `expectLastSubjectSequence` the publish is optimistic: the server
 * refuses it ({@link isWrongLastSequence}) unless the subject's last message
 * is that one (0: none). The caller then orders and de-duplicates by
 * resourceVersion itself, so no message id is sent: one would also drop,
 * within the de-duplication window, the republication of a purged stream.
 */
export async function publishClusterEvent(
  js: JetStreamClient,
  event: ClusterEvent,
  prefix: string = clusterStream.prefix,
  options: { expectLastSubjectSequence?: number } = {},
): Promise<PubAck> {
  const subject = clusterEventSubject(event, prefix);
  const rv = clusterEventVersion(event);
  const type = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE ? 'delete' : 'upsert';
  const bytes = ClusterEvent.encode({ ...event, generation: 0 }).finish();
  if (options.expectLastSubjectSequence !== undefined) return publishTraced(js, subject, bytes, { expectLastSubjectSequence: options.expectLastSubjectSequence });
  return publishTraced(js, subject, bytes, rv ? { msgId: `${subject}/${rv}/${type}` } : {});
}

/** JetStream's API error code for a publish whose expected last subject sequence is not the subject's. */
const wrongLastSequence = 10071;

/** True for the JetStream error of an optimistic publish that lost (`expectLastSubjectSequence` is stale). */
export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError ? err.code === wrongLastSequence : /wrong last sequence/i.test((err as Error)?.message ?? '');
}

/** A decoded stream message: the event (generation = stream sequence) and its trace context. */
export interface ReceivedClusterEvent {
  readonly event: ClusterEvent;
  /** The message's subject (one per object: see {@link clusterEventSubject}). */
  readonly subject: string;
  /** The producer's trace context: consumer spans link to it (or are parented by it). */
  readonly traceContext: Context;
  /** Messages left in the stream after this one when it was delivered (0 = caught up). */
  readonly pending: number;
  /** When the stream stored it, in ms since the epoch. */
  readonly storedAtMs: number;
}

/** Decodes a stream message. Throws on a payload that is not a ClusterEvent. */
export function decodeClusterEvent(msg: JsMsg): ReceivedClusterEvent {
  const event = ClusterEvent.decode(msg.data);
  event.generation = msg.seq;
  let traceContext: Context | undefined;
  return {
    event,
    subject: msg.subject,
    pending: msg.info.pending,
    storedAtMs: Math.floor(msg.info.timestampNanos / 1e6),
    // Read from the headers only when asked for: most events are applied
    // untraced (no tracer, or catching up), and parsing the headers is a good
    // part of what an event costs a follower.
    get traceContext(): Context {
      traceContext ??= msg.headers ? messageTraceContext(msg.headers) : context.active();
      return traceContext;
    },
  };
}

/**
 * Tells from a message's subject alone whether it carries one of `kinds`
 * (all kinds when undefined): a follower then skips the others without
 * decoding them.
 */
function clusterKindMatcher(kinds: readonly ClusterObjectKind[] | undefined, prefix: string = clusterStream.prefix): (subject: string) => boolean {
  if (kinds === undefined) return () => true;
  const starts = kinds.map((kind) => `${prefix}.${kindTokens[kind]}.`);
  return (subject) => starts.some((start) => subject.startsWith(start));
}

/**
 * Runs `apply` for one received event inside a CONSUMER span `apply <kind>`
 * that starts a trace of its own and links to the producer's span (the
 * informer's publish): applying an event to a state is not part of the
 * publisher's work, but Jaeger shows where it came from. Attributes follow
 * the messaging conventions (`messaging.system` nats, the subject as
 * `messaging.destination.name`), plus `schedmesh.generation` and the
 * object's ({@link clusterObjectAttributes}).
 */
export function applyTraced<T>(tracer: Tracer, received: ReceivedClusterEvent, apply: () => T | Promise<T>): Promise<T> {
  const kind = received.event.object?.$case ?? 'unknown';
  return withSpan(
    tracer,
    `apply ${kind}`,
    {
      kind: SpanKind.CONSUMER,
      parent: ROOT_CONTEXT,
      links: linkTo(received.traceContext),
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.destination.name': received.subject,
        'schedmesh.generation': received.event.generation,
        ...clusterObjectAttributes(received.event),
      },
    },
    async () => apply(),
  );
}

/** Who hears of a stream message that is not a ClusterEvent: `onInvalid`, or else a warning in the log. */
interface InvalidMessageReport {
  logger: Logger;
  onInvalid?(msg: JsMsg, err: Error): void;
}

/**
 * Decodes a stream message. One that is not a ClusterEvent goes to
 * `report.onInvalid`, or without one is logged as `warning` (which says what
 * the caller does with it), and yields undefined.
 */
export function decodeOrReportInvalid(msg: JsMsg, report: InvalidMessageReport, warning: string): ReceivedClusterEvent | undefined {
  try {
    return decodeClusterEvent(msg);
  } catch (err) {
    reportInvalid(msg, err as Error, report, warning);
    return undefined;
  }
}

function reportInvalid(msg: JsMsg, err: Error, report: InvalidMessageReport, warning: string): void {
  if (report.onInvalid) report.onInvalid(msg, err);
  else report.logger.warn({ subject: msg.subject, seq: msg.seq, err: err.message }, warning);
}

/** Options of {@link followClusterStream}. */
export interface FollowOptions {
  js: JetStreamClient;
  logger: Logger;
  /** Stream name (default SCHEDMESH_CLUSTER). */
  stream?: string;
  /** Deliver events after this generation (0 = from the start). */
  afterGeneration: number;
  /** The stream's subject prefix (default schedmesh.cluster): its anchor's subject, and the kinds' subjects. */
  prefix?: string;
  /** Only this subject filter (e.g. clusterKindFilter('pod')); default every object. */
  filterSubject?: string;
  /**
   * Only events of these kinds reach `onEvent`; the others go to `onSkipped`
   * undecoded (default: every kind). Unlike a subject filter, the follower
   * still sees every sequence, so its generation stays the stream's.
   */
  kinds?: readonly ClusterObjectKind[];
  /** A message of a kind not in `kinds`, not decoded. */
  onSkipped?(msg: JsMsg): void;
  /** Called for each event, in stream order; awaited before the next. */
  onEvent(received: ReceivedClusterEvent): void | Promise<void>;
  /** A message that is not a ClusterEvent (logged and skipped by default). */
  onInvalid?(msg: JsMsg, err: Error): void;
  /** One of the stream's own messages (the anchor, see stream-anchor.ts): skipped, no ClusterEvent. */
  onMeta?(msg: JsMsg): void;
  /** The consumer's notifications (recreated, consumer deleted, stream not found…). */
  onStatus?(notification: ConsumerNotification): void;
  /** Stops following. */
  signal: AbortSignal;
}

/**
 * Follows the stream with an ordered consumer: messages arrive in order, and
 * after a NATS reconnect or a gap the consumer is recreated at the next
 * sequence by the client, so nothing is missed or repeated. Resolves when
 * `signal` aborts.
 */
export async function followClusterStream(options: FollowOptions): Promise<void> {
  const consumer = await options.js.consumers.get(options.stream ?? clusterStream.name, {
    ...(options.afterGeneration > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: options.afterGeneration + 1 }
      : { deliver_policy: DeliverPolicy.All }),
    ...(options.filterSubject ? { filter_subjects: options.filterSubject } : {}),
  });
  const messages = await consumer.consume({ max_messages: 512 });
  const prefix = options.prefix ?? clusterStream.prefix;
  const anchor = anchorSubject(prefix);
  const wanted = clusterKindMatcher(options.kinds, prefix);
  const stop = (): void => {
    void messages.close();
  };
  if (options.onStatus) {
    void (async () => {
      for await (const notification of messages.status()) options.onStatus?.(notification);
    })().catch((err: unknown) => options.logger.debug({ err: (err as Error).message }, 'consumer status loop ended'));
  }
  // An abort while the consumer was being set up would otherwise be missed.
  if (options.signal.aborted) stop();
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const msg of messages) {
      // By subject, not by the meta header: reading headers costs every event a parse.
      if (msg.subject === anchor) {
        options.onMeta?.(msg);
        continue;
      }
      if (!wanted(msg.subject)) {
        options.onSkipped?.(msg);
        continue;
      }
      const received = decodeOrReportInvalid(msg, options, 'skipping a message that is not a ClusterEvent');
      if (received) await options.onEvent(received);
    }
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
}

/** Options of {@link waitForClusterStream}. */
export interface WaitForStreamOptions {
  /** Stream name (default SCHEDMESH_CLUSTER). */
  stream?: string;
  logger: Logger;
  /** Stops waiting (the wait then rejects with an AbortError). */
  signal: AbortSignal;
  /** Delays between looks (default 250 ms doubling to 5 s). */
  retry?: BackoffOptions;
  /** How often to log that the stream is still missing, in ms (default 30 s). */
  logEveryMs?: number;
}

/**
 * Resolves with the cluster stream's info once it exists. The informer owns
 * the stream; every other service waits for it here, logging while it waits
 * (and stays NOT_SERVING meanwhile: nothing is in sync yet). Errors other
 * than "stream not found" are thrown; an abort rejects with an AbortError.
 */
export async function waitForClusterStream(jsm: JetStreamManager, options: WaitForStreamOptions): Promise<StreamInfo> {
  const stream = options.stream ?? clusterStream.name;
  const backoff = new Backoff(options.retry);
  const logEveryMs = options.logEveryMs ?? 30_000;
  const started = Date.now();
  let loggedAt: number | undefined;
  for (;;) {
    try {
      const info = await jsm.streams.info(stream);
      if (loggedAt !== undefined) options.logger.info({ stream, waitedMs: Date.now() - started }, 'the cluster stream exists now');
      return info;
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
    }
    if (loggedAt === undefined) {
      options.logger.info({ stream }, 'waiting for the cluster stream (the informer creates it); not ready meanwhile');
      loggedAt = Date.now();
    } else if (Date.now() - loggedAt >= logEveryMs) {
      options.logger.warn({ stream, waitedMs: Date.now() - started }, 'still waiting for the cluster stream: is the informer running?');
      loggedAt = Date.now();
    }
    await delay(options.signal, backoff.next());
  }
}

/** Options of {@link followClusterStreamResilient}. */
export interface ResilientFollowOptions {
  /** The connection: its disconnects and reconnects drive the sync flag and the re-follow. */
  nc: NatsConnection;
  logger: Logger;
  /** Stream name (default SCHEDMESH_CLUSTER). */
  stream?: string;
  /**
   * The state's gate: following resumes after its generation; it advances
   * after each event and is in sync while the state has what the stream holds.
   */
  gate: GenerationGate;
  /** Only this subject filter (e.g. the plugin ConfigMap's subject); default every object. */
  filterSubject?: string;
  /**
   * The kinds `apply` reads (default every kind). A message of another kind
   * is not decoded, traced or applied: it only advances the gate, so the
   * state's generation stays the stream sequence (a `minGeneration` of any
   * event is still reached), at a fraction of an event's cost.
   */
  kinds?: readonly ClusterObjectKind[];
  /**
   * Applies one event to the state, in stream order; awaited before the next
   * and before the gate advances. A failure is logged and the event retried
   * after the backoff.
   */
  apply(received: ReceivedClusterEvent): void | Promise<void>;
  /**
   * The stream was recreated (its sequence went backwards, or it came back
   * with another creation time after it was missing): drop the state. The
   * gate is then reset and the new stream replayed from its start.
   */
  onReset?(): void | Promise<void>;
  /** A message that is not a ClusterEvent (logged by default); it is skipped and counts as handled. */
  onInvalid?(msg: JsMsg, err: Error): void;
  /** Delays between attempts after a failure (default 250 ms doubling to 5 s). */
  retry?: BackoffOptions;
  /**
   * The follower's tracer: each live event (one applied while the gate is in
   * sync) is applied inside an `apply <kind>` span linked to its producer's
   * span ({@link applyTraced}). Events applied while catching up — the replay
   * at start, after a reconnect or a recreated stream — are not traced: a
   * span costs tens of µs, several times the apply itself
   * (bench/trace-apply.bench.ts), and a replay's thousands of spans would
   * overflow the export queue. Without a tracer, nothing is traced.
   */
  tracer?: Tracer;
  /** How often the stream's anchor is looked at while following, in ms (default 5 s): a purge is noticed within it. */
  anchorCheckMs?: number;
  /** Stops following; the returned promise then resolves. */
  signal: AbortSignal;
}

/**
 * Keeps a state in step with the cluster stream for as long as `signal`
 * lasts, through everything the stream and NATS do:
 *
 * - waits for the stream to exist (the informer creates it);
 * - head check: the gate is in sync once the state has applied the stream's
 *   last sequence (of `filterSubject`, when given) — at once if it already
 *   has, otherwise when the event that reaches it is applied;
 * - a NATS disconnect takes the gate out of sync (NOT_SERVING); the
 *   reconnect starts a new round (head check, then follow from the gate's
 *   generation), so the gate is in sync again only once caught up;
 * - a recreated stream (sequence behind the gate, or a new creation time)
 *   resets the state through `onReset` and replays the new stream;
 * - data loss in a stream that stays (see stream-anchor.ts), looked for at
 *   every round and every `anchorCheckMs`: a purged stream (its anchor gone)
 *   takes the gate out of sync until the informer has republished the
 *   cluster under a new anchor, then resets the state and replays it; so
 *   does a tombstone horizon past what the state had (deletions it may have
 *   missed);
 * - any other failure takes the gate out of sync and is retried after an
 *   abortable backoff, from the gate's generation.
 *
 * The gate is out of sync when this returns.
 */
export async function followClusterStreamResilient(options: ResilientFollowOptions): Promise<void> {
  const { nc, gate, logger, signal, tracer } = options;
  const stream = options.stream ?? clusterStream.name;
  const js = jetStreamClient(nc);
  const backoff = new Backoff(options.retry);
  const anchorCheckMs = options.anchorCheckMs ?? 5_000;
  // The creation time of the stream the state was built from: a different one means it was recreated.
  let streamCreated: string | undefined;
  const anchors = new AnchorTracker();
  let lostLogged = false;
  /** Accepts the anchor looked at, and says when the follower takes up a new epoch. */
  const acceptAnchor = (anchor: StreamAnchor | undefined, position: number): void => {
    const before = anchors.epoch;
    anchors.accept(anchor, position);
    if (anchor && anchor.epoch !== before) logger.info({ stream, epoch: anchor.epoch, seq: anchor.seq }, 'following the cluster stream anchor');
  };
  /**
   * The stream sequence up to which the state has every message of its
   * filter: the stream's last when the gate has reached the filter's last,
   * else the gate's. Read before the anchor, so that deletions announced by
   * an anchor it did not see come after it.
   */
  const positionOf = async (jsm: JetStreamManager, info: StreamInfo): Promise<number> => {
    const last = info.state.last_seq;
    const head = options.filterSubject ? ((await jsm.streams.getMessage(stream, { last_by_subj: options.filterSubject }).catch(() => undefined))?.seq ?? 0) : last;
    return gate.generation >= head ? last : gate.generation;
  };
  let round = new AbortController();
  const restart = (): void => round.abort();

  /** Looks at the anchor every anchorCheckMs while a round follows; data loss restarts the round, whose start acts on it. */
  const watchAnchor = async (jsm: JetStreamManager, prefix: string, stop: AbortSignal): Promise<void> => {
    while (!stop.aborted) {
      await sleep(stop, anchorCheckMs);
      if (stop.aborted) return;
      try {
        const position = await positionOf(jsm, await jsm.streams.info(stream));
        const anchor = await readStreamAnchor(jsm, stream, prefix);
        if (anchors.verdict(anchor, position) === 'ok') {
          acceptAnchor(anchor, position);
          continue;
        }
        restart();
        return;
      } catch (err) {
        // NATS trouble: the round itself notices and retries.
        logger.debug({ stream, err: (err as Error).message }, 'could not look at the cluster stream anchor');
      }
    }
  };

  const statuses = nc.status();
  const watchingStatus = (async () => {
    for await (const status of statuses) {
      if (status.type === 'disconnect') gate.setSynced(false);
      // The consumer would resume by itself, but only a new round checks whether the stream is still the same.
      else if (status.type === 'reconnect') restart();
    }
  })().catch((err: unknown) => logger.debug({ err: (err as Error).message }, 'nats status loop ended'));
  const stopStatus = (): void => (statuses as { stop?: () => void }).stop?.();
  signal.addEventListener('abort', stopStatus, { once: true });

  try {
    while (!signal.aborted) {
      round = new AbortController();
      const stop = AbortSignal.any([signal, round.signal]);
      try {
        const jsm = await jetstreamManager(nc);
        const info = await waitForClusterStream(jsm, { stream, logger, signal: stop, ...(options.retry ? { retry: options.retry } : {}) });
        const recreated = streamCreated !== undefined && info.created !== streamCreated;
        if (recreated || info.state.last_seq < gate.generation) {
          logger.warn(
            { stream, head: info.state.last_seq, generation: gate.generation, recreated },
            'the cluster stream was recreated: dropping the state and replaying the new stream',
          );
          await options.onReset?.();
          gate.reset();
          anchors.forget();
        }
        streamCreated = info.created;
        const prefix = streamPrefixOf(info);
        const position = await positionOf(jsm, info);
        const anchor = await readStreamAnchor(jsm, stream, prefix);
        const verdict = anchors.verdict(anchor, position);
        if (verdict === 'lost') {
          gate.setSynced(false);
          if (!lostLogged) logger.error({ stream, generation: gate.generation }, 'the cluster stream lost its anchor (purged): data loss; not ready until the informer has republished the cluster');
          lostLogged = true;
          await sleep(stop, backoff.next());
          continue;
        }
        lostLogged = false;
        if (verdict === 'reset') {
          logger.warn(
            { stream, generation: gate.generation, epoch: anchor?.epoch, tombstonesExpiredThrough: anchor?.tombstonesExpiredThrough },
            'the cluster stream lost data (purged and republished, or tombstones expired past this state): dropping the state and replaying the stream',
          );
          await options.onReset?.();
          gate.reset();
        }
        acceptAnchor(anchor, verdict === 'reset' ? 0 : position);
        const head = options.filterSubject ? ((await jsm.streams.getMessage(stream, { last_by_subj: options.filterSubject }))?.seq ?? 0) : info.state.last_seq;
        const caughtUp = (): void => {
          if (!gate.synced) logger.info({ stream, generation: gate.generation }, 'in sync with the cluster stream');
          gate.setSynced(true);
          backoff.reset();
        };
        if (head <= gate.generation) caughtUp();
        // A message that is no event counts as handled.
        const skipped = (msg: JsMsg): void => {
          gate.advance(msg.seq);
          if (msg.info.pending === 0 || msg.seq >= head) caughtUp();
        };
        const following = followClusterStream({
          js,
          logger,
          stream,
          prefix,
          afterGeneration: gate.generation,
          ...(options.filterSubject ? { filterSubject: options.filterSubject } : {}),
          ...(options.kinds
            ? {
                kinds: options.kinds,
                onSkipped: (msg) => {
                  if (!stop.aborted) skipped(msg);
                },
              }
            : {}),
          signal: stop,
          onStatus: (n) => {
            // The consumer or the stream went away under us: start over with a head check.
            if (n.type === 'consumer_deleted' || n.type === 'stream_not_found') restart();
          },
          onInvalid: (msg, err) => {
            if (stop.aborted) return;
            reportInvalid(msg, err, options, 'skipping a stream message that is not a ClusterEvent');
            skipped(msg);
          },
          // The stream's own messages are no generation of the state: a gate
          // advanced over the anchor would ask other services (whose states
          // only advance with events) for a generation they never reach while
          // the anchor is the stream's last message.
          onMeta: (msg) => {
            if (!stop.aborted && (msg.info.pending === 0 || msg.seq >= head)) caughtUp();
          },
          onEvent: async (received) => {
            // A follower told to stop while it was being set up may still deliver: it must not apply anything.
            if (stop.aborted) throw new FollowerStopped();
            await (tracer && gate.synced ? applyTraced(tracer, received, () => options.apply(received)) : options.apply(received));
            gate.advance(received.event.generation);
            if (received.pending === 0 || received.event.generation >= head) caughtUp();
          },
        });
        // A follower abandoned on abort ends with the connection; nobody waits for it.
        following.catch(() => undefined);
        void watchAnchor(jsm, prefix, stop);
        await untilSettledOrAborted(following, stop);
        if (!stop.aborted) throw new Error('the stream consumer stopped');
      } catch (err) {
        if (signal.aborted) break;
        if (round.signal.aborted || err instanceof FollowerStopped) continue;
        gate.setSynced(false);
        const retryInMs = backoff.next();
        logger.warn({ stream, err: (err as Error).message, generation: gate.generation, retryInMs }, 'following the cluster stream failed; retrying');
        // A reconnect meanwhile cuts the pause short.
        await sleep(AbortSignal.any([signal, round.signal]), retryInMs);
      }
    }
  } finally {
    signal.removeEventListener('abort', stopStatus);
    stopStatus();
    await watchingStatus;
    gate.setSynced(false);
  }
}

/** A state built from the whole cluster stream, as {@link followClusterStreamInto} keeps it. */
export interface ClusterStreamState<C> {
  /** Its gate (see ResilientFollowOptions.gate); `apply` advances it. */
  readonly gate: GenerationGate;
  /** Applies one event; what it returns is handed to `onChange`. */
  apply(event: ClusterEvent): C;
  /** Drops everything: the stream was recreated. */
  reset(): void;
}

/** Options of {@link followClusterStreamInto}. */
export interface FollowIntoOptions<C> extends Omit<ResilientFollowOptions, 'gate' | 'apply' | 'onReset' | 'onInvalid'> {
  state: ClusterStreamState<C>;
  /** Called with what each event changed, after it is applied and before the next (and before the gate counts as synced). */
  onChange?: (change: C) => void | Promise<void>;
  /** Called for each message that is not a ClusterEvent (a metric counts them); it is logged and skipped either way. */
  onInvalid?: () => void;
}

/**
 * followClusterStreamResilient for a state that has its own gate, apply and
 * reset (a store): it follows the stream into the state, resets the state
 * when the stream is recreated, and logs (and counts) the messages that are
 * not ClusterEvents.
 */
export function followClusterStreamInto<C>(options: FollowIntoOptions<C>): Promise<void> {
  const { state, onChange, onInvalid, ...follow } = options;
  return followClusterStreamResilient({
    ...follow,
    gate: state.gate,
    apply: async ({ event }) => {
      const change = state.apply(event);
      await onChange?.(change);
    },
    onReset: () => state.reset(),
    onInvalid: (msg, err) => {
      onInvalid?.();
      reportInvalid(msg, err, { logger: follow.logger }, 'skipping a stream message that is not a ClusterEvent');
    },
  });
}

class FollowerStopped extends Error {}

/** Resolves when `promise` settles (rethrowing its failure) or when `signal` aborts, whichever is first. */
export async function untilSettledOrAborted(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
