import type { JetStreamClient, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';

/**
 * The cluster stream's anchor: one message of the stream's own (not a
 * ClusterEvent) that the informer writes once the stream holds the whole
 * cluster, and rewrites only to raise the tombstone horizon. It lets every
 * follower tell a loss of data from the stream's ordinary compaction:
 *
 * - With one message per subject, a message can vanish because a newer one
 *   of its subject replaced it — nothing is lost — or because the stream was
 *   purged. Sequence numbers do not tell them apart (a purge keeps them, and
 *   `first_seq` jumps in both cases); the anchor does: nothing replaces it
 *   but its writer, so a stream without the anchor it had was purged.
 * - `epoch` names one unbroken history: the informer picks a new one when it
 *   republishes the cluster after a loss. A follower that sees another epoch
 *   rebuilds from the stream.
 * - `tombstonesExpiredThrough`: the informer deletes old tombstones (deleted
 *   objects' last messages); it raises this horizon first, then deletes. A
 *   follower that had not reached the horizon may have missed a deletion and
 *   rebuilds.
 */
export interface StreamAnchor {
  /** The anchor message's stream sequence. */
  readonly seq: number;
  readonly epoch: string;
  /** Tombstones up to this stream sequence may have been deleted. */
  readonly tombstonesExpiredThrough: number;
}

/** The header that marks the stream's own messages (the anchor, no ClusterEvent; followers know it by its subject). */
export const STREAM_META_HEADER = 'Schedmesh-Meta';

/** The anchor's subject under a stream's subject prefix. */
export function anchorSubject(prefix: string): string {
  return `${prefix}.meta.anchor`;
}

/** The subject prefix of a cluster stream (its one subject filter is `<prefix>.>`, see ensureClusterStream). */
export function streamPrefixOf(info: StreamInfo): string {
  const filter = info.config.subjects?.[0] ?? '';
  return filter.endsWith('.>') ? filter.slice(0, -2) : filter;
}

/** The stream's anchor, or undefined when the stream holds none (never written, or purged). */
export async function readStreamAnchor(jsm: JetStreamManager, stream: string, prefix: string): Promise<StreamAnchor | undefined> {
  let msg;
  try {
    msg = await jsm.streams.getMessage(stream, { last_by_subj: anchorSubject(prefix) });
  } catch (err) {
    if (/no message found/i.test((err as Error).message)) return undefined;
    throw err;
  }
  if (!msg) return undefined;
  const body = msg.json<{ epoch?: unknown; tombstonesExpiredThrough?: unknown }>();
  return {
    seq: msg.seq,
    epoch: typeof body.epoch === 'string' ? body.epoch : '',
    tombstonesExpiredThrough: typeof body.tombstonesExpiredThrough === 'number' ? body.tombstonesExpiredThrough : 0,
  };
}

/**
 * Writes the anchor. `expectSeq` is the anchor the writer last wrote (0: none
 * may exist): the write fails if another writer changed it meanwhile.
 * Resolves with the new anchor.
 */
export async function writeStreamAnchor(
  js: JetStreamClient,
  prefix: string,
  anchor: { epoch: string; tombstonesExpiredThrough: number },
  expectSeq: number,
): Promise<StreamAnchor> {
  const hdrs = natsHeaders();
  hdrs.set(STREAM_META_HEADER, 'anchor');
  const ack = await js.publish(anchorSubject(prefix), JSON.stringify(anchor), { headers: hdrs, expect: { lastSubjectSequence: expectSeq } });
  return { seq: ack.seq, ...anchor };
}

/** What a follower does after looking at the anchor. */
export type AnchorVerdict =
  /** Nothing was lost. */
  | 'ok'
  /** Data was lost and the stream was rebuilt (another epoch), or deletions may have been missed: rebuild from the stream. */
  | 'reset'
  /** The anchor the follower knew is gone: the stream was purged and is not rebuilt yet. Serve nothing; look again. */
  | 'lost';

/**
 * A follower's memory of the anchor, and the rules above: pure, so that the
 * follower's loop only fetches and acts.
 */
export class AnchorTracker {
  private known: { epoch: string; expiredThrough: number; checkedAt: number } | undefined;

  /**
   * The verdict on `anchor` for a follower at `position` (the stream
   * sequence up to which it has every message of its filter). Changes
   * nothing: {@link accept} records the anchor once acted on.
   */
  verdict(anchor: StreamAnchor | undefined, position: number): AnchorVerdict {
    const known = this.known;
    if (anchor === undefined) return known === undefined ? 'ok' : 'lost';
    // A first look: a state carried over from before (a ledger in Redis) must not predate the horizon.
    if (known === undefined) return position > 0 && anchor.tombstonesExpiredThrough > position ? 'reset' : 'ok';
    if (anchor.epoch !== known.epoch) return 'reset';
    // Tombstones past what the follower had at its last look may have been deleted before it read them.
    if (anchor.tombstonesExpiredThrough > known.expiredThrough && anchor.tombstonesExpiredThrough > known.checkedAt) return 'reset';
    return 'ok';
  }

  /** The epoch of the anchor last accepted (undefined before the first). */
  get epoch(): string | undefined {
    return this.known?.epoch;
  }

  /** Records the anchor seen by a follower at `position` (0 after a reset: the replay starts from nothing). */
  accept(anchor: StreamAnchor | undefined, position: number): void {
    if (anchor === undefined) return;
    this.known = { epoch: anchor.epoch, expiredThrough: anchor.tombstonesExpiredThrough, checkedAt: position };
  }

  /** Forgets the anchor (the stream was recreated: its anchor is a first sight). */
  forget(): void {
    this.known = undefined;
  }
}
