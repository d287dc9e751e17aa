import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApi, PodWriter } from '@schedmesh/mesh';
import { jetstreamManager } from '@nats-io/jetstream';
import { Backoff, clusterStreamOptions, connectNatsFrom, ensureClusterStream, jetStreamClient, sleep, startService, untilSettledOrAborted } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { Counter } from 'prom-client';
import type { InformerConfig } from './config.js';
import { publishFixture, readFixture } from './file-source.js';
import { standardWatches, watchKubernetes } from './kubernetes-source.js';
import type { KubernetesSource } from './kubernetes-source.js';
import { ClusterPublisher, streamKindOf } from './publisher.js';
import type { WatchedKind } from './publisher.js';
import { RejectedPodReporter } from './rejected-pods.js';
import { StreamIndex } from './stream-index.js';
import { StreamKeeper } from './stream-keeper.js';
import { leaderElector } from './leadership.js';

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** A running informer. */
export interface InformerApp extends ServiceApp {
  /** Resolves when the source has been published in full (and the stream reconciled). */
  readonly synced: Promise<void>;
  /** The Kubernetes source while this informer publishes one. */
  readonly kubernetes: KubernetesSource | undefined;
  /** True while this informer is the one that publishes (always, without leader election). */
  isLeader(): boolean;
}

/** Options that tests pass in-process instead of through configuration. */
export interface InformerAppOptions extends AppOptions {
  /** A kubeconfig to use instead of the configured or default one. */
  kubeConfig?: KubeConfig;
}

/**
 * Wires the informer: runtime, NATS and the stream, the edge publisher and
 * the source (Kubernetes watches or a fixture file). The informer owns the
 * cluster stream: it is the one service that creates it (every other
 * service waits for it). Watching Kubernetes, only the holder of the
 * leader-election Lease publishes; a standby is ready and waits. The leader
 * is ready once its first full publication is done.
 */
export async function startInformerApp(config: InformerConfig, options: InformerAppOptions = {}): Promise<InformerApp> {
  // Parse at the edge first: a bad fixture fails before anything starts.
  const fixture = config.source.fixture ? readFixture(config.source.fixture) : undefined;
  const runtime = startService({ name: 'schedmesh-informer', config, handleSignals: options.handleSignals ?? true });
  const { logger, metrics } = runtime;
  const rejected = new Counter({
    name: 'schedmesh_informer_rejected_objects_total',
    help: 'Objects rejected at the edge, by kind and field (field "size": too large for the cluster stream).',
    labelNames: ['kind', 'field'],
    registers: [metrics],
  });
  const published = new Counter({ name: 'schedmesh_informer_published_events_total', help: 'Events published, by kind and type.', labelNames: ['kind', 'type'], registers: [metrics] });
  const reconciled = new Counter({ name: 'schedmesh_informer_reconciled_deletions_total', help: 'Deletions published for objects gone while nobody watched.', labelNames: ['kind'], registers: [metrics] });
  const stale = new Counter({
    name: 'schedmesh_informer_stale_events_total',
    help: 'Events not published because the stream held the same or a later version of the object (another writer was ahead).',
    labelNames: ['kind'],
    registers: [metrics],
  });
  const expired = new Counter({ name: 'schedmesh_informer_expired_tombstones_total', help: 'Tombstones of deleted objects deleted from the stream past their age or count.', registers: [metrics] });

  const { grpcPort, httpPort } = await runtime.listen();
  const nc = await connectNatsFrom(config.nats, 'schedmesh-informer', logger);
  await ensureClusterStream(await jetstreamManager(nc), clusterStreamOptions(config.nats));
  const js = jetStreamClient(nc);
  const kc = fixture ? undefined : (options.kubeConfig ?? loadKubeConfig(config.source.kubeconfig));
  const api = kc && config.source.reportRejectedPods.length > 0 ? new KubeApi({ kubeConfig: kc }) : undefined;
  const reporter = api
    ? new RejectedPodReporter({
        writer: new PodWriter(api, { reportingController: 'schedmesh-informer', reportingInstance: hostname() }),
        logger,
        schedulerNames: new Set(config.source.reportRejectedPods),
      })
    : undefined;
  const publisherOptions = {
    logger,
    tracer: runtime.tracer,
    nodeOptions: { rackLabelKey: config.labels.rack, poolLabelKey: config.labels.pool },
    rejected,
    published,
    stale,
    ...(reporter ? { onRejected: (kind: WatchedKind, obj: unknown, err: unknown) => (kind === 'Pod' ? reporter.report(obj, err) : undefined) } : {}),
  };

  const jsm = await jetstreamManager(nc);
  const keeper = new StreamKeeper({
    js,
    jsm,
    stream: config.nats.stream,
    prefix: config.nats.subjectPrefix,
    logger,
    tombstones: { maxAgeMs: config.stream.tombstones.maxAge, maxCount: config.stream.tombstones.maxCount, sweepIntervalMs: config.stream.tombstones.sweepInterval },
    anchorCheckMs: config.stream.anchorCheck,
    expired,
  });

  let markSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  let kubernetes: KubernetesSource | undefined;

  /**
   * Publishes the source in full, anchors the stream and keeps it, until
   * `signal` aborts; after a data loss (the stream purged) it starts over: a
   * fresh view of the stream, a relist, a new anchor.
   */
  const publishAndKeep = async (signal: AbortSignal): Promise<void> => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    while (!signal.aborted) {
      let stopSource: () => Promise<void> = async () => undefined;
      try {
        const index = await StreamIndex.load({ js, logger, stream: config.nats.stream, prefix: config.nats.subjectPrefix });
        const publisher = new ClusterPublisher({ ...publisherOptions, index });
        const reconcile = async (kind: WatchedKind, present: Set<string>, listVersion: string, othersKeys?: ReadonlySet<string>): Promise<void> => {
          let n = 0;
          for (const key of index.liveKeys(streamKindOf[kind])) {
            if (present.has(key) || othersKeys?.has(key)) continue;
            await publisher.deleteKey(kind, key, listVersion);
            n++;
          }
          if (n > 0) {
            reconciled.inc({ kind }, n);
            logger.info({ kind, deleted: n }, 'published deletions for objects gone while no informer watched');
          }
        };
        if (fixture) {
          const r = await publishFixture(fixture, publisher, reconcile);
          logger.info({ fixture: config.source.fixture, ...r }, 'fixture published');
        } else {
          if (!kc) throw new Error('unreachable: no fixture and no kubeconfig');
          const source = watchKubernetes({
            kc,
            specs: standardWatches(kc, { admissionPolicies: config.source.admissionPolicies, podGroups: config.source.podGroups, configMaps: [config.source.pluginConfigMap, config.source.profilesConfigMap] }),
            publisher,
            logger,
            restartBackoffMs: config.source.restartBackoff,
            reconcile,
          });
          kubernetes = source;
          stopSource = async () => {
            await source.stop();
            await source.idle();
          };
          await untilSettledOrAborted(source.synced, signal);
        }
        if (signal.aborted) return;
        await keeper.anchorHistory();
        runtime.setReady(true);
        markSynced();
        backoff.reset();
        if ((await keeper.keep(index, signal)) === 'stopped') return;
        runtime.setReady(false);
      } catch (err) {
        if (signal.aborted) return;
        const retryInMs = backoff.next();
        logger.warn({ err: (err as Error).message, retryInMs }, 'publishing the cluster failed; starting over');
        await sleep(signal, retryInMs);
      } finally {
        await stopSource();
      }
    }
  };

  const stopping = new AbortController();
  const election = kc && config.leaderElection.enabled ? leaderElector(config, kc, logger, publishAndKeep) : undefined;
  const running = election ? election.run(stopping.signal) : publishAndKeep(stopping.signal);
  // A standby is ready: it takes over the moment the leader's Lease lapses (a rollout must not wait for it to lead).
  if (election) runtime.setReady(true);

  runtime.onShutdown(async () => {
    stopping.abort();
    await running;
    await reporter?.idle();
    await api?.close();
    await nc.drain();
  });
  return {
    runtime,
    synced,
    get kubernetes() {
      return kubernetes;
    },
    isLeader: () => election?.isLeader ?? true,
    grpcPort,
    httpPort,
    stop: () => runtime.stop(),
  };
}

