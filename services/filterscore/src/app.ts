import { inTreeRegistry } from '@schedmesh/plugins';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import { connectClient, connectNatsFrom, followConfigMap, gauge, GenerationGate, startService } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { Counter } from 'prom-client';
import type { FilterScoreConfig } from './config.js';
import { FilterScoreEngine } from './engine.js';
import { ProfileReloader } from './profile-reload.js';
import { loadProfiles } from './profiles.js';
import { SnapshotReplica } from './replica.js';
import { filterScoreServer } from './server.js';
import { followSnapshot } from './watch-sync.js';

/** A running filterscore service. */
export interface FilterScoreApp extends ServiceApp {
  readonly replica: SnapshotReplica;
  readonly engine: FilterScoreEngine;
  /** With a `nats` block: in sync once the profiles ConfigMap's latest version was read. */
  readonly profilesGate: GenerationGate | undefined;
}

/**
 * Wires the filterscore service: profiles (a bad file fails start-up), runtime,
 * the replica and its Watch loop, the engine, the profiles ConfigMap (with a
 * `nats` block) and the gRPC server. Ready while the replica is in sync and,
 * with the ConfigMap, once its latest version was read. main.ts calls it;
 * tests call it in-process.
 */
export async function startFilterScoreApp(config: FilterScoreConfig, options: AppOptions = {}): Promise<FilterScoreApp> {
  const registry = inTreeRegistry();
  const profiles = loadProfiles(config.profiles.file, registry);

  const runtime = startService({ name: 'schedmesh-filterscore', config, handleSignals: options.handleSignals ?? true });
  const { logger, metrics } = runtime;
  const replica = new SnapshotReplica({ maxWaitMs: config.minGeneration.maxWait, maxQueuedEvents: config.snapshot.maxQueuedEvents });
  const engine = new FilterScoreEngine({ config: profiles, registry, replica, defaultMaxCandidates: config.preemption.defaultMaxCandidates, tracer: runtime.tracer });

  gauge(metrics, 'schedmesh_filterscore_generation', 'Snapshot generation of the local replica.', () => replica.generation);
  gauge(metrics, 'schedmesh_filterscore_nodes', 'Nodes in the local replica.', () => replica.current.nodeCount);
  gauge(metrics, 'schedmesh_filterscore_synced', '1 while the replica is in step with the snapshot service.', () => (replica.gate.synced ? 1 : 0));
  const watches = new Counter({ name: 'schedmesh_filterscore_watch_connects_total', help: 'Snapshot Watch streams opened, by kind.', labelNames: ['kind'], registers: [metrics] });

  const reloads = new Counter({ name: 'schedmesh_filterscore_profile_reloads_total', help: 'Profile versions from the ConfigMap, by result (applied, rejected).', labelNames: ['result'], registers: [metrics] });
  for (const result of ['applied', 'rejected']) reloads.inc({ result }, 0);

  const stopFollowing = new AbortController();
  const profilesGate = config.nats ? new GenerationGate({ name: 'the profiles ConfigMap' }) : undefined;
  const updateReady = (): void => runtime.setReady(replica.gate.synced && (profilesGate?.synced ?? true));
  replica.gate.onSyncChange(updateReady);
  profilesGate?.onSyncChange(updateReady);
  runtime.grpc.add(FilterScoreServiceDefinition, filterScoreServer(engine));
  const { grpcPort, httpPort } = await runtime.listen();
  logger.info({ profiles: engine.profiles, snapshot: config.snapshot.address }, 'filterscore profiles loaded');

  const { client, close } = connectClient(SnapshotServiceDefinition, config.snapshot, { logger });
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

  if (config.nats && profilesGate) {
    const nc = await connectNatsFrom(config.nats, 'schedmesh-filterscore', logger);
    const reloader = new ProfileReloader({ target: engine, registry, logger, onResult: (result) => reloads.inc({ result }) });
    const followingProfiles = followConfigMap({
      nc,
      logger,
      gate: profilesGate,
      name: config.profiles.configMap,
      key: config.profiles.configMapKey,
      what: 'profiles',
      stream: config.nats.stream,
      subjectPrefix: config.nats.subjectPrefix,
      signal: stopFollowing.signal,
      apply: (version) => void reloader.apply(version),
    });
    runtime.onShutdown(async () => {
      stopFollowing.abort();
      await followingProfiles;
      await nc.drain().catch(() => undefined);
    });
  }

  runtime.onShutdown(async () => {
    stopFollowing.abort();
    await following;
    close();
  });
  return { runtime, replica, engine, profilesGate, grpcPort, httpPort, stop: () => runtime.stop() };
}
