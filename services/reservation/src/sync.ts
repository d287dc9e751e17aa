/**
 * Keeps the stream-derived side of the ledger in Redis (allocatable, bound
 * pods) in step with the cluster stream, and guards against Redis losing its
 * data.
 *
 * Every replica follows the stream and applies each event to Redis; a per-node
 * generation stored beside the node's ledger makes every application
 * idempotent and order-safe across replicas (an event, or a rebuild, at a
 * generation the node already reflects is skipped).
 *
 * Catching up: the stream follower drives {@link LedgerSync.gate}. While the
 * first replay runs, events only reach memory and the ledger does not serve;
 * once it caught up, the ledger is built from memory, and from then on every
 * event also goes to Redis as it comes. Redis is the arbiter: while NATS is
 * away (the gate out of sync) the ledger keeps serving, and the events missed
 * meanwhile are applied once the follower resumes.
 *
 * Redis loss: after a (re)build the service writes an epoch marker. A marker
 * that is missing (Redis restarted empty) or different from the one this
 * replica knows (another replica rebuilt after a loss) makes it report
 * NOT_SERVING, rebuild every node from memory, put back the leases this
 * replica remembers (LeaseMemory), and only then serve again. The
 * Redis run_id is compared around the rebuild, so a restart during the
 * rebuild is caught and the rebuild repeated. With several replicas, the
 * restore barrier (RestoreBarrier) holds every grant until all of them have
 * put their leases back.
 */
import { randomUUID } from 'node:crypto';
import { GenerationGate, UnavailableError } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import type { ClusterState, LedgerChange } from './cluster-state.js';
import type { KeyLayout } from './keys.js';
import type { Ledger, PodApplied } from './ledger.js';
import type { ReservationMetrics } from './metrics.js';
import type { RestoreBarrier } from './restore-barrier.js';
import type { RedisStore } from './store.js';

/** Why the ledger does not serve. */
export type NotServingReason = 'catching-up' | 'rebuilding' | 'redis-unreachable' | undefined;

/** Options of {@link LedgerSync}. */
export interface LedgerSyncOptions {
  store: RedisStore;
  keys: KeyLayout;
  ledger: Ledger;
  state: ClusterState;
  logger: Logger;
  metrics?: ReservationMetrics;
  /** How often the epoch marker is checked, in ms. */
  checkIntervalMs: number;
  /** Opened after a loss, acknowledged after each rebuild: no grants until every replica restored its leases. */
  barrier: RestoreBarrier;
}

const REBUILD_BATCH = 64;

/** See the module comment. */
export class LedgerSync {
  /**
   * The stream side: in sync while the state has everything the cluster
   * stream holds (the follower drives it); its generation is the last event
   * fully handled (memory and Redis).
   */
  readonly gate = new GenerationGate({ name: 'the reservation ledger', source: 'the cluster stream' });
  private readonly options: LedgerSyncOptions;
  /** The first replay caught up: the ledger is (being) built, and events go to Redis as they come. */
  private replayed = false;
  private knownEpoch: string | undefined;
  /**
   * The stream was recreated: its sequence started again, below the
   * generations Redis holds, so the next build overwrites them.
   */
  private streamRecreated = false;
  /**
   * After a recreated stream, the nodes whose ledger was already rebuilt
   * under the new stream's sequence: any other node's first change is a
   * forced rebuild from memory (its Redis generation is the old stream's).
   * Undefined while no stream was recreated.
   */
  private renumbered: Set<string> | undefined;
  /** The run_id of the Redis the ledger was built on: another one (a failover, a restart) is treated as a loss. */
  private knownRunId: string | undefined;
  private rebuilding = false;
  /** The run_id of a Redis this replica rebuilt and restored its leases into, but has not acknowledged the barrier of yet. */
  private unacknowledged: string | undefined;
  private beating: Promise<unknown> | undefined;
  private redisReachable = true;
  /** Nodes whose last change did not reach Redis: rebuilt from memory before any further incremental change. */
  private readonly dirty = new Set<string>();
  private checking: Promise<void> | undefined;
  private checkAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private lastReady = false;
  private readonly readyListeners = new Set<(ready: boolean) => void>();
  private readonly onRedisReady = (): void => void this.requestCheck();

  constructor(options: LedgerSyncOptions) {
    this.options = options;
    this.gate.onSyncChange((caughtUp) => {
      if (caughtUp && !this.replayed) {
        this.replayed = true;
        this.options.logger.info({ generation: this.options.state.generation, nodes: this.options.state.nodeCount }, 'caught up with the cluster stream');
        void this.requestCheck();
        this.publishReady();
      }
    });
  }

  /** Whether Reserve and friends may be served: the first replay caught up, and the ledger built. */
  get synced(): boolean {
    return this.replayed && !this.rebuilding && this.knownEpoch !== undefined;
  }

  /** In sync and Redis reachable: what health reports. */
  get ready(): boolean {
    return this.synced && this.redisReachable;
  }

  /** Why the ledger does not serve (undefined when it does). */
  get notServingReason(): NotServingReason {
    if (!this.replayed) return 'catching-up';
    if (this.rebuilding || this.knownEpoch === undefined) return 'rebuilding';
    if (!this.redisReachable) return 'redis-unreachable';
    return undefined;
  }

  /** Throws UNAVAILABLE unless the ledger may be served. */
  requireSynced(): void {
    if (this.synced) return;
    const why = this.replayed ? 'rebuilding the ledger after Redis lost its data' : 'catching up with the cluster stream';
    throw new UnavailableError(`reservation ledger not ready: ${why}; retry shortly`);
  }

  /** Subscribes to readiness ({@link ready}) changes: health follows them. Returns the unsubscribe function. */
  onSyncChange(listener: (ready: boolean) => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  /** Starts the periodic epoch check. */
  start(): void {
    this.options.store.redis.on('ready', this.onRedisReady);
    this.timer = setInterval(() => void this.requestCheck(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  /** Stops checking; waits for a check in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.options.store.redis.off('ready', this.onRedisReady);
    await this.checking;
    await this.beating;
  }

  /** One stream event: memory first, then Redis (once the first replay caught up). */
  async onEvent(event: ClusterEvent): Promise<void> {
    const changes = this.options.state.apply(event);
    if (this.replayed && changes.length > 0) await this.applyChanges(changes, event.generation);
  }

  /**
   * The cluster stream was recreated (or purged): memory is dropped and
   * replayed from the new stream, and once caught up every node of the Redis
   * ledger is rebuilt from it whatever generation Redis holds (the new
   * stream's sequence starts again below the old one); NOT serving until then.
   */
  reset(): void {
    this.options.logger.error(
      { generation: this.options.state.generation },
      'the cluster stream was recreated: NOT_SERVING until the ledger is rebuilt from the new stream',
    );
    this.options.state.clear();
    this.replayed = false;
    this.knownEpoch = undefined;
    this.streamRecreated = true;
    this.renumbered = new Set();
    this.publishReady();
  }

  /** A node memory knows is missing from Redis: Redis may have lost its data; check now. */
  suspectLoss(): void {
    void this.requestCheck();
  }

  /** Runs a check now unless one is running (then once more after it). Resolves when done. */
  requestCheck(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.checkAgain = false;
        await this.check();
      } while (this.checkAgain);
    })().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async check(): Promise<void> {
    if (!this.replayed) return;
    const { store, keys, logger } = this.options;
    try {
      const epoch = await store.call(() => store.redis.get(keys.epoch));
      const runId = await this.redisRunId();
      this.redisReachable = true;
      // A failover to a replica keeps the epoch marker but may lack the last
      // writes (and regress node generations): another server is a loss too.
      const replaced = this.knownRunId !== undefined && runId !== this.knownRunId;
      if (epoch === null || epoch !== this.knownEpoch || replaced) {
        const reason =
          this.knownEpoch === undefined ? (this.streamRecreated ? 'stream-recreated' : 'start') : epoch === null ? 'redis-lost' : replaced ? 'redis-replaced' : 'epoch-changed';
        if (reason !== 'start') {
          logger.warn({ reason, known: this.knownEpoch, found: epoch, runId, knownRunId: this.knownRunId }, 'redis ledger lost, replaced or rebuilt elsewhere: rebuilding from the stream state');
        }
        this.rebuilding = true;
        this.publishReady();
        await this.rebuild(reason);
        this.rebuilding = false;
      } else {
        this.rebuilding = false;
        if (this.unacknowledged !== undefined) await this.acknowledge(this.unacknowledged);
        if (this.dirty.size > 0) await this.repairDirty();
        this.heartbeat(this.knownEpoch);
      }
    } catch (err) {
      this.redisReachable = false;
      logger.warn({ err: (err as Error).message }, 'redis check failed');
    } finally {
      this.publishReady();
    }
  }

  private async rebuild(reason: string): Promise<void> {
    const { store, keys, ledger, state, logger, metrics } = this.options;
    for (;;) {
      const runId = await this.redisRunId();
      await store.loadScripts();
      // Before any node exists again: no replica grants from the rebuilt ledger until every one restored its leases.
      if (reason === 'redis-lost' || reason === 'redis-replaced') await this.options.barrier.open(runId);
      const nodes = state.nodeNames();
      const deleted = state.deletedNodeNames();
      const force = this.streamRecreated;
      const started = performance.now();
      for (let i = 0; i < nodes.length; i += REBUILD_BATCH) {
        await Promise.all(nodes.slice(i, i + REBUILD_BATCH).map((node) => this.rebuildNode(node, force)));
      }
      await Promise.all(deleted.map((node) => ledger.rebuildNode(node, state.generation, undefined, [], force)));
      // Leases Redis lost, whose pods the stream may not show bound yet (a Binding just before the loss).
      const restored = await ledger.restoreLeases();
      if (force) for (const node of [...nodes, ...deleted]) this.renumbered?.add(node);
      this.dirty.clear();
      // A fresh epoch per build: a replica that knew the previous one sees the change and rebuilds its own (maybe newer) state.
      const candidate = randomUUID();
      const claimed = await store.call(() => store.redis.set(keys.epoch, candidate, 'NX'));
      const epoch = claimed === 'OK' ? candidate : await store.call(() => store.redis.get(keys.epoch));
      if ((await this.redisRunId()) !== runId || epoch === null) {
        logger.warn('redis restarted during the rebuild: rebuilding again');
        continue;
      }
      this.knownEpoch = epoch;
      this.knownRunId = runId;
      if (force) this.streamRecreated = false;
      metrics?.rebuilds.inc({ reason });
      logger.info({ reason, nodes: nodes.length, restoredLeases: restored, generation: state.generation, ms: Math.round(performance.now() - started), epoch }, 'ledger rebuilt');
      this.unacknowledged = runId;
      await this.acknowledge(runId);
      return;
    }
  }

  /**
   * Writes the heartbeat off the check's path (a write that Redis holds, e.g.
   * under CLIENT PAUSE WRITE, must not delay noticing a loss), one at a time.
   * Only on the ledger this replica knows: the peers it reads are those that
   * must restore after a loss.
   */
  private heartbeat(epoch: string): void {
    if (this.beating) return;
    this.beating = this.options.barrier
      .heartbeat(epoch)
      .then((intact) => (intact ? undefined : this.requestCheck()))
      .catch((err: unknown) => this.options.logger.debug({ err: (err as Error).message }, 'heartbeat failed; the next check writes it again'))
      .finally(() => {
        this.beating = undefined;
      });
  }

  /** Tells the barrier this replica's leases are back (a failure is retried at the next check). */
  private async acknowledge(runId: string): Promise<void> {
    await this.options.barrier.acknowledge(runId);
    this.unacknowledged = undefined;
  }

  private async rebuildNode(node: string, force = false): Promise<void> {
    const { state, ledger } = this.options;
    // Capacity, pods and generation are read together, before any await: one consistent cut.
    const generation = state.generation;
    await ledger.rebuildNode(node, generation, state.capacity(node), state.boundPods(node), force);
  }

  private async repairDirty(): Promise<void> {
    for (const node of [...this.dirty]) {
      if (this.options.state.hasNode(node)) await this.rebuildNode(node);
      else await this.options.ledger.rebuildNode(node, this.options.state.generation, undefined, []);
      this.dirty.delete(node);
    }
  }

  private async applyChanges(changes: readonly LedgerChange[], generation: number): Promise<void> {
    const { ledger, state, logger } = this.options;
    for (const change of changes) {
      const node = change.node;
      // Set when the pod's own script ran: it read the pod index too, saving the lookup below.
      let applied: PodApplied | undefined;
      try {
        const renumber = node !== undefined && this.renumbered !== undefined && !this.renumbered.has(node);
        if (node !== undefined && (this.dirty.has(node) || renumber)) {
          // Memory has the change already: a rebuild from it applies it (forced when the node's Redis generation is an old stream's).
          if (state.hasNode(node)) await this.rebuildNode(node, renumber);
          else await ledger.rebuildNode(node, state.generation, undefined, [], renumber);
          this.dirty.delete(node);
          if (renumber) this.renumbered?.add(node);
        } else {
          switch (change.kind) {
            case 'node':
              await this.rebuildNode(change.node);
              break;
            case 'node-deleted':
              await ledger.rebuildNode(change.node, generation, undefined, []);
              break;
            case 'pod-bound':
              applied = await ledger.applyPod(change.node, generation, change.pod, 'bind');
              break;
            case 'pod-released':
              if (change.node !== undefined) applied = await ledger.applyPod(change.node, generation, change.pod, 'release');
              break;
          }
        }
        // A lease the pod holds on another node is released: bound elsewhere, or gone.
        if (change.kind === 'pod-bound' || change.kind === 'pod-released') {
          if (applied) await ledger.releaseIndexed(change.pod.uid, applied.indexedNode, change.node);
          else await ledger.releaseAnywhere(change.pod.uid, change.node);
        }
      } catch (err) {
        if (node !== undefined) this.dirty.add(node);
        logger.warn({ err: (err as Error).message, change: change.kind, node }, 'could not apply a cluster change to redis; the node will be rebuilt');
      }
    }
  }

  private async redisRunId(): Promise<string> {
    const { store } = this.options;
    const info = await store.call(() => store.redis.info('server'));
    return /run_id:(\w+)/.exec(info)?.[1] ?? '';
  }

  private publishReady(): void {
    const ready = this.ready;
    if (ready === this.lastReady) return;
    this.lastReady = ready;
    for (const listener of [...this.readyListeners]) listener(ready);
  }
}
