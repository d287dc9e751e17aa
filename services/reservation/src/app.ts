/**
 * Composes the reservation service: config → runtime (telemetry, logs,
 * metrics, gRPC) → Redis and NATS → domain → server → listen. Readiness
 * follows the ledger: NOT_SERVING until the stream replay caught up and the
 * ledger is built, and again while it is rebuilt after a Redis loss.
 */
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import { connectNatsFrom, connectRedis, startService } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { ClusterState } from './cluster-state.js';
import type { ReservationConfig } from './config.js';
import { GangCoordinator } from './gang.js';
import { KeyLayout } from './keys.js';
import { Ledger } from './ledger.js';
import { LeaseMemory } from './lease-memory.js';
import { ReservationMetrics } from './metrics.js';
import { Reservations } from './reservations.js';
import { RestoreBarrier } from './restore-barrier.js';
import { createReservationServer } from './server.js';
import { RedisStore } from './store.js';
import { StreamFollower } from './stream.js';
import { Sweeper } from './sweeper.js';
import { LedgerSync } from './sync.js';

/** The service name: service.name of spans, `service` of logs and metrics. */
export const SERVICE_NAME = 'schedmesh-reservation';

/** A running reservation service. */
export interface ReservationApp extends ServiceApp {
  /** The domain (tests drive it directly too). */
  readonly reservations: Reservations;
  readonly ledger: Ledger;
  readonly sync: LedgerSync;
  /** The restore barrier after a Redis loss (its replica id and the peers it saw). */
  readonly barrier: RestoreBarrier;
  readonly state: ClusterState;
  readonly sweeper: Sweeper;
}

/** Options of {@link startReservation}. */
export type StartOptions = AppOptions;

/** Starts the service; resolves once it listens (it reports ready later, see the module comment). */
export async function startReservation(config: ReservationConfig, options: StartOptions = {}): Promise<ReservationApp> {
  const runtime = startService({ name: SERVICE_NAME, config, handleSignals: options.handleSignals ?? true });
  const { logger } = runtime;
  try {
    const redis = await connectRedis({
      url: config.redis.url,
      name: SERVICE_NAME,
      logger,
      commandTimeoutMs: config.redis.commandTimeout,
      ...(config.redis.passwordFile ? { passwordFile: config.redis.passwordFile } : {}),
    });
    const subscriber = redis.duplicate();
    const heartbeats = redis.duplicate();
    const nc = await connectNatsFrom(config.nats, SERVICE_NAME, logger);
    const metrics = new ReservationMetrics(runtime.metrics);
    const keys = new KeyLayout(config.redis.keyPrefix);
    const store = new RedisStore(redis, { replicas: config.redis.waitReplicas, timeoutMs: config.redis.waitTimeout });
    await store.requireSupportedServer();
    await store.loadScripts();
    const state = new ClusterState();
    const ledger = new Ledger({ store, keys, metrics, confirmedTtlMs: config.reservation.confirmedTtl, memory: new LeaseMemory() });
    const barrier = new RestoreBarrier({
      store,
      heartbeatStore: new RedisStore(heartbeats),
      keys,
      logger,
      checkIntervalMs: config.redis.checkInterval,
      waitMs: config.redis.restoreWait,
    });
    const sync = new LedgerSync({
      store,
      keys,
      ledger,
      state,
      logger,
      metrics,
      checkIntervalMs: config.redis.checkInterval,
      barrier,
    });
    sync.onSyncChange((ready) => runtime.setReady(ready));
    const gangs = new GangCoordinator({ store, keys, ledger, state, subscriber, logger, metrics, pollMs: config.reservation.permitPollInterval });
    const reservations = new Reservations({ ledger, sync, state, gangs, logger, metrics, gangMemberWaitMs: config.reservation.gangMemberWait, nodeWaitMs: config.reservation.nodeWait });
    metrics.setLedgerSizeSource({ nodeCount: () => state.nodeCount, leaseCount: () => ledger.leaseCount(state.nodeNames()) });
    runtime.grpc.add(
      ReservationServiceDefinition,
      createReservationServer(reservations, {
        defaultTtlMs: config.reservation.defaultTtl,
        permitDefaultTimeoutMs: config.reservation.permitDefaultTimeout,
      }),
    );
    const follower = new StreamFollower({ nc, stream: config.nats.stream, sync, logger, tracer: runtime.tracer });
    const sweeper = new Sweeper({ ledger, gangs, sync, logger, intervalMs: config.reservation.sweepInterval });
    runtime.onShutdown(async () => {
      await follower.stop();
      await sweeper.stop();
      await sync.stop();
      await gangs.close();
      await redis.quit().catch(() => redis.disconnect());
      await heartbeats.quit().catch(() => heartbeats.disconnect());
      await nc.close();
    });
    const { grpcPort, httpPort } = await runtime.listen();
    sync.start();
    follower.start();
    sweeper.start();
    return { runtime, grpcPort, httpPort, reservations, ledger, sync, barrier, state, sweeper, stop: () => runtime.stop() };
  } catch (err) {
    await runtime.stop();
    throw err;
  }
}
