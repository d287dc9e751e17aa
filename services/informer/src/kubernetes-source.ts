import { AppsV1Api, CoreV1Api, CustomObjectsApi, ListWatch, PolicyV1Api, Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from '@schedmesh/model';
import type { Logger } from '@schedmesh/runtime';
import type { ClusterPublisher, WatchedKind } from './publisher.js';
import { SerialQueue } from './serial-queue.js';

/** One resource to watch. */
export interface WatchSpec {
  kind: WatchedKind;
  /** API path of the watch ("/api/v1/pods"). */
  path: string;
  /** The matching list call. */
  list: () => Promise<KubernetesListObject<KubernetesObject>>;
  /** A field selector for both list and watch. */
  fieldSelector?: string;
  /** Keys of this kind that other watches own: reconciling this one leaves them alone. */
  othersKeys?: ReadonlySet<string>;
  /**
   * The kind's API may be absent (a CRD that another project installs):
   * readiness does not wait for its first list, and while it fails the
   * failure is logged once at warn, then at debug, as the watch retries with
   * backoff. Its objects are published once the API appears.
   */
  optional?: boolean;
}

/** Terminal pods use no node resources: upstream's scheduler does not watch them either. */
export const NON_TERMINAL_PODS = 'status.phase!=Succeeded,status.phase!=Failed';

/** Options of {@link standardWatches}. */
export interface StandardWatchOptions {
  admissionPolicies: boolean;
  /** Watch scheduler-plugins' PodGroups (optional: the CRD is theirs to install). */
  podGroups: boolean;
  /** ConfigMaps to carry, each "namespace/name" (the plugin and profiles ConfigMaps); empty strings are skipped. */
  configMaps: readonly string[];
}

/**
 * The standard watches: nodes, non-terminal pods, namespaces, the
 * PodDisruptionBudgets preemption reads, the Services, ReplicaSets,
 * StatefulSets and ReplicationControllers whose selectors default pod
 * topology spreading reads (upstream's scheduler watches all of them too),
 * policies, scheduler-plugins' PodGroups, and one watch per named ConfigMap.
 */
export function standardWatches(kc: KubeConfig, options: StandardWatchOptions): WatchSpec[] {
  const core = kc.makeApiClient(CoreV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const specs: WatchSpec[] = [
    { kind: 'Namespace', path: '/api/v1/namespaces', list: () => core.listNamespace() },
    { kind: 'Node', path: '/api/v1/nodes', list: () => core.listNode() },
    { kind: 'Pod', path: '/api/v1/pods', fieldSelector: NON_TERMINAL_PODS, list: () => core.listPodForAllNamespaces({ fieldSelector: NON_TERMINAL_PODS }) },
    { kind: 'PodDisruptionBudget', path: '/apis/policy/v1/poddisruptionbudgets', list: () => policy.listPodDisruptionBudgetForAllNamespaces() },
    { kind: 'Service', path: '/api/v1/services', list: () => core.listServiceForAllNamespaces() },
    { kind: 'ReplicaSet', path: '/apis/apps/v1/replicasets', list: () => apps.listReplicaSetForAllNamespaces() },
    { kind: 'StatefulSet', path: '/apis/apps/v1/statefulsets', list: () => apps.listStatefulSetForAllNamespaces() },
    { kind: 'ReplicationController', path: '/api/v1/replicationcontrollers', list: () => core.listReplicationControllerForAllNamespaces() },
  ];
  if (options.admissionPolicies) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    specs.push({
      kind: 'AdmissionPolicy',
      path: '/apis/schedmesh.io/v1alpha1/admissionpolicies',
      list: async () => (await custom.listClusterCustomObject({ group: 'schedmesh.io', version: 'v1alpha1', plural: 'admissionpolicies' })) as KubernetesListObject<KubernetesObject>,
    });
  }
  if (options.podGroups) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    specs.push({
      kind: 'PodGroup',
      path: '/apis/scheduling.x-k8s.io/v1alpha1/podgroups',
      list: async () => (await custom.listClusterCustomObject({ group: 'scheduling.x-k8s.io', version: 'v1alpha1', plural: 'podgroups' })) as KubernetesListObject<KubernetesObject>,
      optional: true,
    });
  }
  // A field selector names one object, so each ConfigMap has its own watch; each
  // reconciles the ConfigMaps on the stream except the others' (a ConfigMap no
  // longer named is still deleted from the stream).
  const configMaps = [...new Set(options.configMaps.filter((c) => c !== ''))];
  for (const key of configMaps) {
    const [namespace, name] = key.split('/') as [string, string];
    const fieldSelector = `metadata.name=${name}`;
    specs.push({
      kind: 'ConfigMap',
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      fieldSelector,
      list: () => core.listNamespacedConfigMap({ namespace, fieldSelector }),
      othersKeys: new Set(configMaps.filter((c) => c !== key).map((c) => objectKey(...(c.split('/') as [string, string])))),
    });
  }
  return specs;
}

/** Options of {@link watchKubernetes}. */
export interface KubernetesSourceOptions {
  kc: KubeConfig;
  specs: WatchSpec[];
  publisher: ClusterPublisher;
  logger: Logger;
  /** First restart delay after a watch fails, in ms (doubles up to 30 s). */
  restartBackoffMs: number;
  /**
   * Called once per kind after its first list, with the keys listed and the
   * resourceVersion the watch has reached: the caller deletes from the stream
   * what Kubernetes no longer has, except the keys that other watches of the
   * kind own (`othersKeys`).
   */
  reconcile(kind: WatchedKind, listedKeys: Set<string>, listVersion: string, othersKeys?: ReadonlySet<string>): Promise<void>;
}

/** A running Kubernetes source. */
export interface KubernetesSource {
  /** Resolves when every kind but the optional ones has been listed, published and reconciled. */
  readonly synced: Promise<void>;
  /** Events waiting to be published. */
  pending(): number;
  /** Resolves once every event received so far is published. */
  idle(): Promise<void>;
  /** Stops every watch. */
  stop(): Promise<void>;
}

function keyOf(obj: KubernetesObject): string {
  return objectKey(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
}

/**
 * Watches Kubernetes with list+watch informers and publishes every change.
 * A watch that expires (410 Gone) relists by itself; one that fails (API
 * server restart, network) is restarted with backoff, and its relist
 * publishes what changed meanwhile, deletions included. Publishing is ordered
 * per kind and retried while NATS is away, so nothing is lost; the stream's
 * message ids drop what a relist publishes twice.
 */
export function watchKubernetes(options: KubernetesSourceOptions): KubernetesSource {
  const { logger, publisher } = options;
  const watches: ListWatch<KubernetesObject>[] = [];
  const queues: SerialQueue[] = [];
  let stopped = false;

  const started = options.specs.map(async (spec) => {
    const queue = new SerialQueue((err, attempt) => logger.warn({ kind: spec.kind, attempt, err: err.message }, 'publish failed; retrying (NATS unavailable?)'));
    queues.push(queue);
    // start() does not fail when the list does (it only fires 'error'), so the
    // first successful list is what tells us the cache holds the cluster.
    let markListed!: () => void;
    const listed = new Promise<void>((resolve) => (markListed = resolve));
    // An optional kind's failures are worth one warning per outage, not one per retry.
    let failing = false;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = await spec.list();
      failing = false;
      markListed();
      return result;
    };
    const lw = new ListWatch<KubernetesObject>(spec.path, new Watch(options.kc), list, false, undefined, spec.fieldSelector);
    watches.push(lw);
    lw.on('add', (obj) => void queue.push(async () => void (await publisher.upsert(spec.kind, obj))));
    lw.on('update', (obj) => void queue.push(async () => void (await publisher.upsert(spec.kind, obj))));
    lw.on('delete', (obj) => void queue.push(() => publisher.delete(spec.kind, obj)));
    let backoff = options.restartBackoffMs;
    lw.on('connect', () => logger.debug({ kind: spec.kind }, 'watch (re)connected'));
    lw.on('error', (err: unknown) => {
      if (stopped) return;
      const level = spec.optional && failing ? 'debug' : 'warn';
      failing = true;
      logger[level]({ kind: spec.kind, err: (err as Error)?.message ?? String(err), restartInMs: backoff, ...(spec.optional ? { optional: true } : {}) }, 'watch failed; restarting it (relist follows)');
      setTimeout(() => {
        if (stopped) return;
        lw.start()
          .then(() => {
            backoff = options.restartBackoffMs;
          })
          .catch(() => undefined); // the error handler fires again and reschedules
      }, backoff).unref();
      backoff = Math.min(backoff * 2, 30_000);
    });
    // A failed first list fires 'error', which restarts the watch with backoff.
    void lw.start().catch(() => undefined);
    await listed;
    // The informer adds the listed objects right after the list resolves, in
    // the same turn; let that turn finish before reading its cache.
    await new Promise((r) => setImmediate(r));
    if (stopped) return;
    await queue.idle();
    await options.reconcile(spec.kind, new Set(lw.list().map(keyOf)), lw.latestResourceVersion(), spec.othersKeys);
    logger.info({ kind: spec.kind, objects: lw.list().length }, 'listed and published');
  });
  // Nobody awaits an optional kind: its failure is logged here instead of surfacing through synced.
  const required = started.filter((first, i) => {
    const spec = options.specs[i]!;
    if (spec.optional) first.catch((err: unknown) => logger.error({ kind: spec.kind, err }, 'first publication of an optional kind failed'));
    return !spec.optional;
  });

  return {
    synced: Promise.all(required).then(() => undefined),
    pending: () => queues.reduce((n, q) => n + q.pending, 0),
    idle: async () => {
      await Promise.all(queues.map((q) => q.idle()));
    },
    async stop() {
      stopped = true;
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
