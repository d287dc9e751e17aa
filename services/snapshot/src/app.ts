import type { NatsConnection } from '@nats-io/transport-node';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import { connectNatsFrom, gauge, startService } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { Counter, Gauge } from 'prom-client';
import type { SnapshotConfig } from './config.js';
import { snapshotServer } from './server.js';
import { SnapshotStore } from './store.js';
import { syncFromStream } from './stream-sync.js';

/** A running snapshot service. */
export interface SnapshotApp extends ServiceApp {
  readonly store: SnapshotStore;
}

/**
 * Wires the snapshot service: runtime, the store and the gRPC server, NATS
 * and the stream follower. NOT_SERVING until the store is in sync with the
 * cluster stream (which the informer creates: until it exists, the service
 * waits). main.ts calls it; tests call it in-process.
 */
export async function startSnapshotApp(config: SnapshotConfig, options: AppOptions = {}): Promise<SnapshotApp> {
  const runtime = startService({ name: 'schedmesh-snapshot', config, handleSignals: options.handleSignals ?? true });
  const { logger, metrics } = runtime;

  const store = new SnapshotStore({
    watchRetain: config.watch.retain,
    watchMaxQueuedBytes: config.watch.maxQueuedBytes,
    healthDebounceMs: config.poolHealth.debounce,
    healthyThreshold: config.poolHealth.healthyThreshold,
    maxWaitMs: config.minGeneration.maxWait,
    onHealthReport: () => healthRecomputes.inc(),
  });
  gauge(metrics, 'schedmesh_snapshot_generation', 'Stream sequence of the last applied event.', () => store.generation);
  gauge(metrics, 'schedmesh_snapshot_nodes', 'Nodes in the snapshot.', () => store.state.nodeSize);
  gauge(metrics, 'schedmesh_snapshot_pods', 'Pods in the snapshot.', () => store.state.podSize);
  gauge(metrics, 'schedmesh_snapshot_synced', '1 while the snapshot is in sync with the cluster stream.', () => (store.gate.synced ? 1 : 0));
  const watchers = new Gauge({ name: 'schedmesh_snapshot_watchers', help: 'Connected Watch streams.', registers: [metrics] });
  const invalid = new Counter({ name: 'schedmesh_snapshot_invalid_messages_total', help: 'Stream messages that were not ClusterEvents.', registers: [metrics] });
  const healthRecomputes = new Counter({ name: 'schedmesh_snapshot_pool_health_recomputations_total', help: 'Debounced pool-health recomputations.', registers: [metrics] });

  store.gate.onSyncChange((inSync) => {
    runtime.setReady(inSync);
    if (inSync) logger.info({ generation: store.generation, nodes: store.state.nodeSize, pods: store.state.podSize }, 'snapshot in sync with the cluster stream');
    else logger.warn({ generation: store.generation }, 'snapshot out of sync with the cluster stream; NOT_SERVING until it catches up');
  });

  runtime.grpc.add(SnapshotServiceDefinition, snapshotServer(store, { onWatcher: (d) => watchers.inc(d) }));
  let nc: NatsConnection | undefined;
  const stopSync = new AbortController();
  let syncing: Promise<void> | undefined;
  runtime.onShutdown(async () => {
    stopSync.abort();
    store.health.stop();
    await syncing;
    await nc?.drain();
  });

  try {
    const { grpcPort, httpPort } = await runtime.listen();
    nc = await connectNatsFrom(config.nats, 'schedmesh-snapshot', logger);
    syncing = syncFromStream({ nc, store, logger, tracer: runtime.tracer, stream: config.nats.stream, invalidMessages: invalid, signal: stopSync.signal });
    return { runtime, store, grpcPort, httpPort, stop: () => runtime.stop() };
  } catch (err) {
    await runtime.stop();
    throw err;
  }
}
