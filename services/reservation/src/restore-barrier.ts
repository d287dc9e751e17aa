/**
 * The restore barrier: after Redis loses its data, no replica grants from the
 * rebuilt ledger until every replica that was live before the loss has put
 * its leases back (LeaseMemory), or a bound has passed.
 *
 * Each replica keeps only the leases it granted, renewed or confirmed. The
 * first one to rebuild would otherwise serve grants while the others' leases
 * (pods in Permit, PreBind or Bind, or bound just before the loss) are still
 * missing: their room looks free and goes twice. So every replica writes a
 * heartbeat at each check and remembers the peers it saw; the replica that
 * notices the loss opens the barrier in the new Redis naming itself and those
 * peers, each replica acknowledges it after its rebuild and restore, and the
 * last acknowledgement lifts it. Meanwhile the reserve script answers
 * `restoring` (UNAVAILABLE: the caller retries). A peer that died with Redis
 * never acknowledges: the barrier then closes at its deadline, the longest a
 * lease lives, by when every lease that replica held has lapsed anyway.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@schedmesh/runtime';
import type { KeyLayout } from './keys.js';
import { heartbeatScript, restoreAckScript, restoreOpenScript } from './scripts.js';
import { stringArray } from './store.js';
import type { RedisStore } from './store.js';

/** Options of {@link RestoreBarrier}. */
export interface RestoreBarrierOptions {
  store: RedisStore;
  /**
   * The heartbeat's own connection: a heartbeat held by Redis (a write under
   * CLIENT PAUSE WRITE) must not hold the commands that notice a loss behind it.
   */
  heartbeatStore: RedisStore;
  keys: KeyLayout;
  logger: Logger;
  /** How often each replica checks Redis (and writes its heartbeat), in ms. */
  checkIntervalMs: number;
  /** How long the barrier stays open at most, in ms: the longest a lease lives. */
  waitMs: number;
}

/** A peer is live if its heartbeat is this many check intervals old at most (and at least LIVE_MIN_MS). */
const LIVE_CHECKS = 5;
const LIVE_MIN_MS = 5_000;
/** Heartbeats older than this are removed from the registry. */
const FORGET_MS = 10 * 60_000;

/** See the module comment. */
export class RestoreBarrier {
  /** This replica's name in the registry and the barrier. */
  readonly replicaId = randomUUID();
  private readonly o: RestoreBarrierOptions;
  private peers: readonly string[] = [];

  constructor(options: RestoreBarrierOptions) {
    this.o = options;
  }

  /** The other replicas this one saw live at its last heartbeat. */
  get livePeers(): readonly string[] {
    return this.peers;
  }

  /**
   * Writes this replica's heartbeat and reads which peers are live, if Redis
   * still holds the ledger of `epoch` (a Redis that restarted meanwhile says
   * nothing of the peers). Returns false if it does not.
   */
  async heartbeat(epoch: string): Promise<boolean> {
    const { heartbeatStore: store, keys } = this.o;
    const now = Date.now();
    const reply = await store.run(heartbeatScript, [keys.replicas, keys.epoch], [this.replicaId, now, epoch]);
    if (!Array.isArray(reply)) return false;
    const flat = stringArray(reply);
    const seen = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) seen.set(flat[i]!, Number(flat[i + 1]));
    const liveMs = Math.max(LIVE_MIN_MS, LIVE_CHECKS * this.o.checkIntervalMs);
    const gone = [...seen].filter(([, at]) => now - at > FORGET_MS).map(([id]) => id);
    if (gone.length > 0) await store.call(() => store.redis.hdel(keys.replicas, ...gone));
    this.peers = [...seen].filter(([id, at]) => id !== this.replicaId && now - at <= liveMs).map(([id]) => id);
    return true;
  }

  /** Opens the barrier for the Redis of `runId` (nothing if another replica did): no grants until {@link acknowledge}s lift it. */
  async open(runId: string): Promise<void> {
    const { store, keys, logger, waitMs } = this.o;
    const status = await store.run(restoreOpenScript, [keys.restore], [runId, waitMs, this.replicaId, ...this.peers]);
    if (status === 'opened') logger.warn({ runId, awaiting: [this.replicaId, ...this.peers], maxWaitMs: waitMs }, 'restore barrier opened: no grants until every replica put its leases back');
  }

  /** This replica put its leases back into the Redis of `runId`. Lifts the barrier if it was the last one awaited. */
  async acknowledge(runId: string): Promise<void> {
    const { store, keys, logger } = this.o;
    const reply = (await store.run(restoreAckScript, [keys.restore], [runId, this.replicaId])) as string[];
    if (reply[0] === '0') logger.info({ runId }, 'restore barrier lifted: every replica put its leases back');
    else if (reply[0] === '1') logger.info({ runId, awaiting: reply.slice(1) }, 'leases restored; the barrier waits for other replicas');
  }
}
