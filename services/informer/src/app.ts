import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApi, PodWriter } from '@schedmesh/mesh';
import { jetstreamManager } from '@nats-io/jetstream';
import { clusterStreamOptions, connectNatsFrom, ensureClusterStream, jetStreamClient, startService } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { Counter } from 'prom-client';
import type { InformerConfig } from './config.js';
import { publishFixture, readFixture } from './file-source.js';
import { standardWatches, watchKubernetes } from './kubernetes-source.js';
import type { KubernetesSource } from './kubernetes-source.js';
import { ClusterPublisher, streamKindOf } from './publisher.js';
import type { WatchedKind } from './publisher.js';
import { RejectedPodReporter } from './rejected-pods.js';
import { liveKeys } from './stream-keys.js';

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
  /** The Kubernetes source, when watching Kubernetes. */
  readonly kubernetes: KubernetesSource | undefined;
}

/** Options that tests pass in-process instead of through configuration. */
export interface InformerAppOptions extends AppOptions {
  /** A kubeconfig to use instead of the configured or default one. */
  kubeConfig?: KubeConfig;
}

/**
 * Wires the informer: runtime, NATS and the stream, the edge publisher and
 * the source (Kubernetes watches or a fixture file). Ready once the first
 * full publication is done. The informer owns the cluster stream: it is the
 * one service that creates it (every other service waits for it).
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
  const publisher = new ClusterPublisher({
    js,
    logger,
    tracer: runtime.tracer,
    subjectPrefix: config.nats.subjectPrefix,
    nodeOptions: { rackLabelKey: config.labels.rack, poolLabelKey: config.labels.pool },
    rejected,
    published,
    ...(reporter ? { onRejected: (kind: WatchedKind, obj: unknown, err: unknown) => (kind === 'Pod' ? reporter.report(obj, err) : undefined) } : {}),
  });

  const reconcile = async (kind: WatchedKind, present: Set<string>, othersKeys?: ReadonlySet<string>): Promise<void> => {
    const live = await liveKeys(nc, js, { stream: config.nats.stream, prefix: config.nats.subjectPrefix, kind: streamKindOf[kind], logger });
    let n = 0;
    for (const key of live) {
      if (present.has(key) || othersKeys?.has(key)) continue;
      await publisher.deleteKey(kind, key);
      n++;
    }
    if (n > 0) {
      reconciled.inc({ kind }, n);
      logger.info({ kind, deleted: n }, 'published deletions for objects gone while no informer watched');
    }
  };

  let kubernetes: KubernetesSource | undefined;
  let synced: Promise<void>;
  if (fixture) {
    synced = publishFixture(fixture, publisher, reconcile).then((r) => logger.info({ fixture: config.source.fixture, ...r }, 'fixture published'));
  } else {
    if (!kc) throw new Error('unreachable: no fixture and no kubeconfig');
    kubernetes = watchKubernetes({
      kc,
      specs: standardWatches(kc, { admissionPolicies: config.source.admissionPolicies, podGroups: config.source.podGroups, configMaps: [config.source.pluginConfigMap, config.source.profilesConfigMap] }),
      publisher,
      logger,
      restartBackoffMs: config.source.restartBackoff,
      reconcile,
    });
    synced = kubernetes.synced;
  }
  synced = synced.then(() => runtime.setReady(true));
  synced.catch((err: unknown) => logger.error({ err }, 'initial publication failed'));

  runtime.onShutdown(async () => {
    await kubernetes?.stop();
    await kubernetes?.idle();
    await reporter?.idle();
    await api?.close();
    await nc.drain();
  });
  return { runtime, synced, kubernetes, grpcPort, httpPort, stop: () => runtime.stop() };
}
