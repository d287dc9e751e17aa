import { randomUUID } from 'node:crypto';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { isWrongLastSequence, readStreamAnchor, sleep, writeStreamAnchor } from '@schedmesh/runtime';
import type { Logger, StreamAnchor } from '@schedmesh/runtime';
import type { Counter } from 'prom-client';
import type { StreamIndex } from './stream-index.js';

/** How long tombstones stay, and how many. */
export interface TombstoneLimits {
  /** A tombstone older than this is deleted, in ms. */
  readonly maxAgeMs: number;
  /** Past this many tombstones, the oldest are deleted. */
  readonly maxCount: number;
  /** How often tombstones are looked at, in ms. */
  readonly sweepIntervalMs: number;
}

/** Options of {@link StreamKeeper}. */
export interface StreamKeeperOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  prefix: string;
  logger: Logger;
  tombstones: TombstoneLimits;
  /** How often the anchor is looked at, in ms: a purge is noticed within it. */
  anchorCheckMs: number;
  /** Tombstones deleted. */
  expired?: Counter;
}

/** Why {@link StreamKeeper.keep} returned. */
export type KeepOutcome = 'stopped' | 'data-lost';

/**
 * The stream's lifecycle, the leader's part of it (stream-anchor.ts in
 * @schedmesh/runtime has the followers'):
 *
 * - the anchor: once the stream holds the whole cluster, the leader adopts
 *   the stream's anchor, or writes one with a new epoch when there is none
 *   (a new stream, or one purged: then every follower that knew the old
 *   anchor waited for this one and replays the stream);
 * - a purge: the anchor gone while leading is data loss; the caller
 *   republishes the cluster (a relist) and anchors it anew;
 * - tombstones: a deleted object's last message is kept for
 *   `tombstones.maxAgeMs` (so a late older update of it is still refused,
 *   see StreamIndex) and at most `tombstones.maxCount` of them; older ones
 *   are deleted, after the anchor's horizon is raised past them so that a
 *   follower that had not read them yet knows to replay.
 */
export class StreamKeeper {
  private anchor: StreamAnchor | undefined;

  constructor(private readonly o: StreamKeeperOptions) {}

  /** The anchor in force (after {@link anchorHistory}). */
  get current(): StreamAnchor | undefined {
    return this.anchor;
  }

  /** Called once the stream holds the whole cluster: adopts its anchor, or writes one with a new epoch. */
  async anchorHistory(): Promise<StreamAnchor> {
    const { js, jsm, stream, prefix, logger } = this.o;
    const existing = await readStreamAnchor(jsm, stream, prefix);
    if (existing) return (this.anchor = existing);
    try {
      this.anchor = await writeStreamAnchor(js, prefix, { epoch: randomUUID(), tombstonesExpiredThrough: 0 }, 0);
      logger.info({ stream, epoch: this.anchor.epoch, seq: this.anchor.seq }, 'anchored the cluster stream: a new epoch');
      return this.anchor;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      // Another writer anchored it meanwhile.
      const theirs = await readStreamAnchor(jsm, stream, prefix);
      if (!theirs) throw err;
      return (this.anchor = theirs);
    }
  }

  /**
   * Looks at the anchor every anchorCheckMs and expires tombstones every
   * sweepInterval until `signal` aborts ('stopped') or the anchor is gone or
   * replaced ('data-lost').
   */
  async keep(index: StreamIndex, signal: AbortSignal): Promise<KeepOutcome> {
    const { jsm, stream, prefix, logger, anchorCheckMs, tombstones } = this.o;
    let nextSweep = Date.now() + tombstones.sweepIntervalMs;
    while (!signal.aborted) {
      await sleep(signal, Math.min(anchorCheckMs, Math.max(nextSweep - Date.now(), 1)));
      if (signal.aborted) break;
      try {
        const anchor = await readStreamAnchor(jsm, stream, prefix);
        if (anchor === undefined || anchor.epoch !== this.anchor?.epoch) {
          logger.error({ stream, had: this.anchor?.epoch, has: anchor?.epoch }, 'the cluster stream lost its anchor (purged): data loss; republishing the cluster');
          this.anchor = undefined;
          return 'data-lost';
        }
        this.anchor = anchor;
        if (Date.now() >= nextSweep) {
          await this.sweep(index);
          nextSweep = Date.now() + tombstones.sweepIntervalMs;
        }
      } catch (err) {
        logger.warn({ stream, err: (err as Error).message }, 'could not look after the cluster stream; trying again');
      }
    }
    return 'stopped';
  }

  /** Deletes the tombstones past their age or count (oldest first); returns how many. */
  async sweep(index: StreamIndex, nowMs = Date.now()): Promise<number> {
    const { js, jsm, stream, prefix, logger, tombstones } = this.o;
    const anchor = this.anchor;
    if (anchor === undefined) return 0;
    const all = index.tombstones();
    const old = all.filter((t) => nowMs - t.head.storedAtMs >= tombstones.maxAgeMs).length;
    const due = all.slice(0, Math.max(old, all.length - tombstones.maxCount));
    if (due.length === 0) return 0;
    // Oldest first: the last is the latest.
    const horizon = Math.max(anchor.tombstonesExpiredThrough, due[due.length - 1]!.head.seq);
    // The horizon first: a follower that sees it before the deletions knows what it may miss.
    this.anchor = await writeStreamAnchor(js, prefix, { epoch: anchor.epoch, tombstonesExpiredThrough: horizon }, anchor.seq);
    let deleted = 0;
    for (const { subject, head } of due) {
      try {
        if (await jsm.streams.deleteMessage(stream, head.seq, false)) deleted++;
      } catch (err) {
        // Replaced meanwhile by a newer message of its subject: nothing to delete.
        if (!/no message found/i.test((err as Error).message)) throw err;
      }
      index.forget(subject, head.seq);
    }
    this.o.expired?.inc(deleted);
    logger.info({ stream, deleted, horizon, left: all.length - due.length }, 'expired tombstones of deleted objects');
    return deleted;
  }
}
