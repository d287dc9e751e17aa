import { DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, JsMsg, PubAck, StreamInfo } from '@nats-io/jetstream';
import { context } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import type { Logger } from './logger.js';
import { messageTraceContext, publishTraced } from './nats.js';

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
      return `${o.value.namespace}/${o.value.name}`;
    default:
      throw new TypeError('cluster event carries no object');
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

function resourceVersion(event: ClusterEvent): string {
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

/**
 * Creates the cluster stream if it does not exist (idempotent; an existing
 * stream is left as it is). Returns its info.
 */
export async function ensureClusterStream(jsm: JetStreamManager, options: ClusterStreamOptions = {}): Promise<StreamInfo> {
  const name = options.name ?? clusterStream.name;
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (!/not found/i.test((err as Error).message)) throw err;
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
 */
export async function publishClusterEvent(js: JetStreamClient, event: ClusterEvent, prefix: string = clusterStream.prefix): Promise<PubAck> {
  const subject = clusterEventSubject(event, prefix);
  const rv = resourceVersion(event);
  const type = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE ? 'delete' : 'upsert';
  const bytes = ClusterEvent.encode({ ...event, generation: 0 }).finish();
  return publishTraced(js, subject, bytes, rv ? { msgId: `${subject}/${rv}/${type}` } : {});
}

/** A decoded stream message: the event (generation = stream sequence) and its trace context. */
export interface ReceivedClusterEvent {
  readonly event: ClusterEvent;
  /** The producer's trace context; parent consumer spans with it. */
  readonly traceContext: Context;
  /** Messages left in the stream after this one when it was delivered (0 = caught up). */
  readonly pending: number;
}

/** Decodes a stream message. Throws on a payload that is not a ClusterEvent. */
export function decodeClusterEvent(msg: JsMsg): ReceivedClusterEvent {
  const event = ClusterEvent.decode(msg.data);
  event.generation = msg.seq;
  return { event, traceContext: msg.headers ? messageTraceContext(msg.headers) : context.active(), pending: msg.info.pending };
}

/** Options of {@link followClusterStream}. */
export interface FollowOptions {
  js: JetStreamClient;
  logger: Logger;
  /** Stream name (default SCHEDMESH_CLUSTER). */
  stream?: string;
  /** Deliver events after this generation (0 = from the start). */
  afterGeneration: number;
  /** Only this subject filter (e.g. clusterKindFilter('pod')); default every object. */
  filterSubject?: string;
  /** Called for each event, in stream order; awaited before the next. */
  onEvent(received: ReceivedClusterEvent): void | Promise<void>;
  /** A message that is not a ClusterEvent (logged and skipped by default). */
  onInvalid?(msg: JsMsg, err: Error): void;
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
  const stop = (): void => {
    void messages.close();
  };
  // An abort while the consumer was being set up would otherwise be missed.
  if (options.signal.aborted) stop();
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const msg of messages) {
      let received: ReceivedClusterEvent;
      try {
        received = decodeClusterEvent(msg);
      } catch (err) {
        if (options.onInvalid) options.onInvalid(msg, err as Error);
        else options.logger.warn({ subject: msg.subject, seq: msg.seq, err: (err as Error).message }, 'skipping a message that is not a ClusterEvent');
        continue;
      }
      await options.onEvent(received);
    }
  } finally {
    options.signal.removeEventListener('abort', stop);
  }
}
