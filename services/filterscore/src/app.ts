import { inTreeRegistry } from '@schedmesh/plugins';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import { connectClient, gauge, startService } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { Counter } from 'prom-client';
import type { FilterScoreConfig } from './config.js';
import { FilterScoreEngine } from './engine.js';
import { loadProfiles } from './profiles.js';
import { SnapshotReplica } from './replica.js';
import { filterScoreServer } from './server.js';
import { followSnapshot } from './watch-sync.js';

/** A running filterscore service. */
export interface FilterScoreApp extends ServiceApp {
  readonly replica: SnapshotReplica;
  readonly engine: FilterScoreEngine;
}

/**
 * Wires the filterscore service: profiles (a bad one fails start-up), runtime,
 * the replica and its Watch loop, the engine and the gRPC server. main.ts
 * calls it; tests call it in-process.
 */
export async function startFilterScoreApp(config: FilterScoreConfig, options: AppOptions = {}): Promise<FilterScoreApp> {
  const registry = inTreeRegistry();
  const profiles = loadProfiles(config.profiles.file, registry);

  const runtime = startService({ name: 'schedmesh-filterscore', config, handleSignals: options.handleSignals ?? true });
  const { logger, metrics } = runtime;
  const replica = new SnapshotReplica({ maxWaitMs: config.minGeneration.maxWait });
  const engine = new FilterScoreEngine({ config: profiles, registry, replica, defaultMaxCandidates: config.preemption.defaultMaxCandidates });

  gauge(metrics, 'schedmesh_filterscore_generation', 'Snapshot generation of the local replica.', () => replica.generation);
  gauge(metrics, 'schedmesh_filterscore_nodes', 'Nodes in the local replica.', () => replica.current.nodeCount);
  gauge(metrics, 'schedmesh_filterscore_synced', '1 while the replica is in step with the snapshot service.', () => (replica.gate.synced ? 1 : 0));
  const watches = new Counter({ name: 'schedmesh_filterscore_watch_connects_total', help: 'Snapshot Watch streams opened, by kind.', labelNames: ['kind'], registers: [metrics] });

  replica.gate.onSyncChange((synced) => runtime.setReady(synced));
  runtime.grpc.add(FilterScoreServiceDefinition, filterScoreServer(engine));
  const { grpcPort, httpPort } = await runtime.listen();
  logger.info({ profiles: engine.profiles, snapshot: config.snapshot.address }, 'filterscore profiles loaded');

  const { client, close } = connectClient(SnapshotServiceDefinition, config.snapshot);
  const stopFollowing = new AbortController();
  const following = followSnapshot({
    client,
    replica,
    logger,
    maxBatch: config.snapshot.maxBatch,
    initialBackoffMs: config.snapshot.initialBackoff,
    maxBackoffMs: config.snapshot.maxBackoff,
    onConnect: (resumed) => watches.inc({ kind: resumed ? 'resume' : 'full' }),
    signal: stopFollowing.signal,
  });

  runtime.onShutdown(async () => {
    stopFollowing.abort();
    await following;
    close();
  });
  return { runtime, replica, engine, grpcPort, httpPort, stop: () => runtime.stop() };
}
