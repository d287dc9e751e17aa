import { jetstreamManager } from '@nats-io/jetstream';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import { connectNats, ensureClusterStream, startService } from '@schedmesh/runtime';
import type { ServiceRuntime } from '@schedmesh/runtime';
import { Counter, Gauge } from 'prom-client';
import type { SnapshotConfig } from './config.js';
import { snapshotServer } from './server.js';
import { SnapshotStore } from './store.js';
import { syncFromStream } from './stream-sync.js';

/** A running snapshot service. */
export interface SnapshotApp {
  readonly runtime: ServiceRuntime;
  readonly store: SnapshotStore;
  readonly grpcPort: number;
  readonly httpPort: number;
  stop(): Promise<void>;
}

/**
 * Wires the snapshot service: runtime, NATS, the stream follower, the store
 * and the gRPC server. main.ts calls it; tests call it in-process.
 */
export async function startSnapshotApp(config: SnapshotConfig, options: { handleSignals?: boolean } = {}): Promise<SnapshotApp> {
  const runtime = startService({ name: 'schedmesh-snapshot', config, handleSignals: options.handleSignals ?? true });
  const { logger, metrics } = runtime;

  // Gauges read the store at scrape time rather than being set per event (a hot path).
  const gauge = (name: string, help: string, read: () => number): Gauge =>
    new Gauge({ name, help, registers: [metrics], collect() { this.set(read()); } });
  gauge('schedmesh_snapshot_generation', 'Stream sequence of the last applied event.', () => store.generation);
  gauge('schedmesh_snapshot_nodes', 'Nodes in the snapshot.', () => store.state.nodeSize);
  gauge('schedmesh_snapshot_pods', 'Pods in the snapshot.', () => store.state.podSize);
  gauge('schedmesh_snapshot_synced', '1 while the snapshot is in sync with the cluster stream.', () => (store.isSynced ? 1 : 0));
  const watchers = new Gauge({ name: 'schedmesh_snapshot_watchers', help: 'Connected Watch streams.', registers: [metrics] });
  const invalid = new Counter({ name: 'schedmesh_snapshot_invalid_messages_total', help: 'Stream messages that were not ClusterEvents.', registers: [metrics] });
  const healthRecomputes = new Counter({ name: 'schedmesh_snapshot_pool_health_recomputations_total', help: 'Debounced pool-health recomputations.', registers: [metrics] });

  const store = new SnapshotStore({
    watchRetain: config.watch.retain,
    watchMaxQueued: config.watch.maxQueued,
    healthDebounceMs: config.poolHealth.debounce,
    healthyThreshold: config.poolHealth.healthyThreshold,
    onHealthReport: () => healthRecomputes.inc(),
  });

  store.onSyncChange((inSync) => {
    runtime.setReady(inSync);
    if (inSync) logger.info({ generation: store.generation, nodes: store.state.nodeSize, pods: store.state.podSize }, 'snapshot in sync with the cluster stream');
    else logger.warn({ generation: store.generation }, 'snapshot lost the cluster stream; serving NOT_SERVING until it catches up');
  });

  runtime.grpc.add(SnapshotServiceDefinition, snapshotServer(store, { onWatcher: (d) => watchers.inc(d) }));
  const { grpcPort, httpPort } = await runtime.listen();

  const nc = await connectNats({ servers: config.nats.url, name: 'schedmesh-snapshot', logger, ...(config.nats.token ? { token: config.nats.token } : {}) });
  await ensureClusterStream(await jetstreamManager(nc), { name: config.nats.stream, prefix: config.nats.subjectPrefix, memory: config.nats.memoryStorage });
  const stopSync = new AbortController();
  const syncing = syncFromStream({ nc, store, logger, stream: { name: config.nats.stream, prefix: config.nats.subjectPrefix, memory: config.nats.memoryStorage }, invalidMessages: invalid, signal: stopSync.signal });

  runtime.onShutdown(async () => {
    stopSync.abort();
    store.health.stop();
    await syncing;
    await nc.drain();
  });
  return { runtime, store, grpcPort, httpPort, stop: () => runtime.stop() };
}
