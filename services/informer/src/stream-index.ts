import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { compareResourceVersions } from '@schedmesh/model';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { clusterEventSubject, clusterEventVersion, clusterObjectKey, followClusterStream, isWrongLastSequence, publishClusterEvent } from '@schedmesh/runtime';
import type { ClusterObjectKind, Logger } from '@schedmesh/runtime';

/** What the stream holds for one subject: its last message. */
export interface SubjectHead {
  readonly kind: ClusterObjectKind;
  /** The object's key ("name" or "namespace/name"). */
  readonly key: string;
  readonly seq: number;
  /** The resourceVersion it carries ("" if none). */
  readonly version: string;
  /** A tombstone: the object's deletion. */
  readonly deleted: boolean;
  /** When the stream stored it, ms since the epoch. */
  readonly storedAtMs: number;
}

/** What {@link StreamIndex.publish} did. */
export type OrderedPublish =
  | { readonly kind: 'published'; readonly ack: PubAck }
  /** The stream already holds this version or a later one of the object: nothing was published. */
  | { readonly kind: 'stale'; readonly held: SubjectHead };

/** Options of {@link StreamIndex.load}. */
export interface StreamIndexOptions {
  js: JetStreamClient;
  logger: Logger;
  stream: string;
  prefix: string;
}

/** Optimistic publishes that lose this many times in a row give up (the caller retries later). */
const MAX_ATTEMPTS = 5;

/**
 * The informer's view of the cluster stream, one entry per subject, and the
 * ordered publish that keeps the stream's newest version of every object
 * last, whoever else writes (a second informer during a rollout, an old
 * leader that has not noticed it lost its lease):
 *
 * - each publish names the subject's last sequence it expects (JetStream's
 *   optimistic concurrency); a publish that loses re-reads the subject,
 * - and publishes only a version later than the one the stream holds
 *   (resourceVersions compared as the API server's revisions): an older
 *   update, or an update of an object whose tombstone is later, is dropped.
 *
 * Objects without a comparable version (a Namespace, a fixture) are published
 * last-writer-wins, still in sequence. The index also knows the tombstones
 * (deleted objects' last messages) and their age, for their expiry.
 */
export class StreamIndex {
  private readonly heads = new Map<string, SubjectHead>();

  private constructor(private readonly o: StreamIndexOptions) {}

  /** Reads the whole stream once (its last message per subject). */
  static async load(options: StreamIndexOptions): Promise<StreamIndex> {
    const index = new StreamIndex(options);
    const { state } = await (await options.js.jetstreamManager()).streams.info(options.stream);
    // Empty (new, or purged: the sequence goes on, the messages are gone): nothing would arrive to end the read.
    if (state.messages === 0) return index;
    const head = state.last_seq;
    const ac = new AbortController();
    await followClusterStream({
      js: options.js,
      logger: options.logger,
      stream: options.stream,
      prefix: options.prefix,
      afterGeneration: 0,
      signal: ac.signal,
      onEvent: ({ event, subject, storedAtMs, pending }) => {
        index.record(subject, event, event.generation, storedAtMs);
        if (pending === 0 || event.generation >= head) ac.abort();
      },
      onMeta: (msg) => {
        if (msg.info.pending === 0 || msg.seq >= head) ac.abort();
      },
      onInvalid: (msg) => {
        if (msg.info.pending === 0 || msg.seq >= head) ac.abort();
      },
    });
    return index;
  }

  /** Subjects known. */
  get size(): number {
    return this.heads.size;
  }

  /** The keys of one kind's objects that the stream holds as live (last message an upsert). */
  liveKeys(kind: ClusterObjectKind): Set<string> {
    const keys = new Set<string>();
    for (const head of this.heads.values()) if (head.kind === kind && !head.deleted) keys.add(head.key);
    return keys;
  }

  /** The tombstones, oldest first. */
  tombstones(): { subject: string; head: SubjectHead }[] {
    const out: { subject: string; head: SubjectHead }[] = [];
    for (const [subject, head] of this.heads) if (head.deleted) out.push({ subject, head });
    return out.sort((a, b) => a.head.seq - b.head.seq);
  }

  /** Forgets a subject whose message at `seq` was deleted (a later message of it stays known). */
  forget(subject: string, seq: number): void {
    if (this.heads.get(subject)?.seq === seq) this.heads.delete(subject);
  }

  /** Publishes `event` unless the stream holds the same or a later version of its object (see the class comment). */
  async publish(event: ClusterEvent): Promise<OrderedPublish> {
    const subject = clusterEventSubject(event, this.o.prefix);
    let known = this.heads.get(subject);
    for (let attempt = 1; ; attempt++) {
      if (known !== undefined && supersedes(known, event)) return { kind: 'stale', held: known };
      try {
        const ack = await publishClusterEvent(this.o.js, event, this.o.prefix, { expectLastSubjectSequence: known?.seq ?? 0 });
        this.record(subject, event, ack.seq, Date.now());
        return { kind: 'published', ack };
      } catch (err) {
        if (!isWrongLastSequence(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
      // Someone else wrote the subject: look at what it holds now.
      known = await this.read(subject);
    }
  }

  private async read(subject: string): Promise<SubjectHead | undefined> {
    const jsm = await this.o.js.jetstreamManager();
    let msg;
    try {
      msg = await jsm.streams.getMessage(this.o.stream, { last_by_subj: subject });
    } catch (err) {
      if (/no message found/i.test((err as Error).message)) {
        this.heads.delete(subject);
        return undefined;
      }
      throw err;
    }
    if (!msg) return undefined;
    this.record(subject, ClusterEvent.decode(msg.data), msg.seq, msg.time.getTime());
    return this.heads.get(subject);
  }

  private record(subject: string, event: ClusterEvent, seq: number, storedAtMs: number): void {
    const kind = event.object?.$case;
    if (kind === undefined) return;
    this.heads.set(subject, {
      kind,
      key: clusterObjectKey(event),
      seq,
      version: clusterEventVersion(event),
      deleted: event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE,
      storedAtMs,
    });
  }
}

/** True when the stream's `held` message makes `event` pointless or harmful to publish. */
function supersedes(held: SubjectHead, event: ClusterEvent): boolean {
  const order = compareResourceVersions(held.version, clusterEventVersion(event));
  if (order === undefined) return false;
  if (order !== 0) return order > 0;
  // The same version again is a repeat; only its deletion may follow an upsert.
  return held.deleted || event.type !== ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
}
