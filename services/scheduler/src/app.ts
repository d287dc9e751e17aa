import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { connectMesh, KubeApi, loadKubeConfig, PodWriter, SchedulingAttempt } from '@schedmesh/mesh';
import { SchedulerServiceDefinition } from '@schedmesh/proto/v1/scheduler';
import type { Pod } from '@schedmesh/proto/v1/types';
import { connectNatsFrom, followConfigMap, gauge, GenerationGate, startService } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { Counter, Histogram } from 'prom-client';
import { ClusterView } from './cluster-view.js';
import type { SchedulerConfig } from './config.js';
import { PodSource } from './pod-source.js';
import { SchedulingQueue } from './queue/scheduling-queue.js';
import { OutcomeWaiters } from './outcome-waiters.js';
import { AttemptRecords } from './records.js';
import { Scheduler } from './scheduler.js';
import { ServedProfiles } from './served-profiles.js';
import { schedulerServer } from './server.js';

/** A running scheduler. */
export interface SchedulerApp extends ServiceApp {
  readonly queue: SchedulingQueue;
  readonly source: PodSource;
  readonly records: AttemptRecords;
  /** The served schedulerNames (replaced by the profiles ConfigMap). */
  readonly profiles: ServedProfiles;
  /** With a profiles ConfigMap: in sync once its latest version was read. */
  readonly profilesGate: GenerationGate | undefined;
}

/** Options of {@link startSchedulerApp} besides the configuration. */
export interface SchedulerAppOptions extends AppOptions {
  /** The Kubernetes API (tests pass the harness's); default from config.kubernetes. */
  kubeConfig?: KubeConfig;
}

// PrioritySort, as upstream's default QueueSort: priority first, then the earlier queued.
function prioritySort(a: { pod: Pod; timestamp: number }, b: { pod: Pod; timestamp: number }): boolean {
  return a.pod.priority > b.pod.priority || (a.pod.priority === b.pod.priority && a.timestamp < b.timestamp);
}

/**
 * Wires the scheduler: runtime, the mesh clients, the Kubernetes writer, the
 * queue fed by the cluster stream, the scheduling loop and the gRPC server.
 * main.ts calls it; tests call it in-process.
 */
export async function startSchedulerApp(config: SchedulerConfig, options: SchedulerAppOptions = {}): Promise<SchedulerApp> {
  const runtime = startService({ name: 'schedmesh-scheduler', config, handleSignals: options.handleSignals ?? true });
  const { logger, metrics, tracer } = runtime;
  const instance = config.scheduler.instance ?? hostname();
  const profiles = new ServedProfiles({ initial: config.scheduler.profiles, filterscoreProfiles: config.scheduler.filterscoreProfiles, logger });

  const kc = options.kubeConfig ?? loadKubeConfig(config.kubernetes.kubeconfig);
  const api = new KubeApi({ kubeConfig: kc, timeoutMs: config.kubernetes.timeout, tracer });
  const writer = new PodWriter(api, { reportingController: config.scheduler.profiles[0]!, reportingInstance: instance });

  const mesh = connectMesh(config, { logger });
  const clients = mesh.clients;
  if (!clients.reservation) logger.warn('no reservation service configured: replicas are not arbitrated, run a single scheduler');

  const attemptsTotal = new Counter({
    name: 'schedmesh_scheduler_attempts_total',
    help: 'Scheduling attempts, by outcome (held: another replica held the pod, a lost lease race).',
    labelNames: ['outcome'],
    registers: [metrics],
  });
  const attemptSeconds = new Histogram({
    name: 'schedmesh_scheduler_attempt_duration_seconds',
    help: 'Scheduling attempt latency, by outcome.',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics],
  });
  const queueIncoming = new Counter({ name: 'schedmesh_scheduler_queue_incoming_pods_total', help: 'Pods entering a queue, by queue and event.', labelNames: ['queue', 'event'], registers: [metrics] });

  const queue = new SchedulingQueue({
    less: prioritySort,
    podInitialBackoffMs: config.scheduler.podInitialBackoff,
    podMaxBackoffMs: config.scheduler.podMaxBackoff,
    podMaxInUnschedulablePodsMs: config.scheduler.podMaxInUnschedulablePods,
    metrics: { incoming: (q, event) => queueIncoming.inc({ queue: q, event }) },
  });
  for (const q of ['active', 'backoff', 'unschedulable', 'inFlight'] as const) {
    gauge(metrics, `schedmesh_scheduler_pending_pods_${q === 'inFlight' ? 'in_flight' : q}`, `Pods in the ${q} queue.`, () => queue.counts()[q]);
  }

  const view = new ClusterView();
  const records = new AttemptRecords({ capacity: config.scheduler.records.capacity, explained: config.scheduler.records.explained });
  gauge(metrics, 'schedmesh_scheduler_attempt_records', 'Pods whose last attempt GetSchedulingStatus keeps (at most scheduler.records.capacity).', () => records.size);
  gauge(metrics, 'schedmesh_scheduler_attempt_explanations', 'Pods whose last attempt explanation is kept (at most scheduler.records.explained).', () => records.explainedSize);
  const outcomes = new OutcomeWaiters();
  const attempt = new SchedulingAttempt({
    clients,
    ...(mesh.gateway ? { gateway: mesh.gateway } : {}),
    writer,
    nodes: (name) => view.node(name),
    podGroups: view.podGroups.get,
    tracer,
    logger,
    reservation: { ttlMs: config.scheduler.leaseTtl, holder: instance },
  });

  const nc = await connectNatsFrom(config.nats, 'schedmesh-scheduler', logger);
  const source = new PodSource({
    nc,
    tracer,
    queue,
    view,
    logger,
    profiles,
    stream: config.nats.stream,
    subjectPrefix: config.nats.subjectPrefix,
    durableName: config.scheduler.durableName,
    ackWaitMs: config.scheduler.ackWait,
    maxHeld: config.scheduler.maxHeld,
    maxWaitMs: config.minGeneration.maxWait,
    onPodSettled: (pod) => outcomes.resolve(pod.uid, { kind: 'settled', pod }),
    settledMemory: config.scheduler.settledMemory,
  });
  gauge(metrics, 'schedmesh_scheduler_settled_pods', 'Settled pods remembered (at most scheduler.settledMemory).', () => source.settledCount);
  gauge(metrics, 'schedmesh_scheduler_held_pods', 'Pending pods whose events this replica holds.', () => source.heldCount);
  gauge(metrics, 'schedmesh_scheduler_generation', 'Cluster stream generation of the scheduler view.', () => source.gate.generation);

  const scheduler = new Scheduler({
    queue,
    attempt,
    writer,
    records,
    logger,
    parallelism: config.scheduler.parallelism,
    maxReserveTries: config.scheduler.maxReserveTries,
    profileOf: (pod) => profiles.filterscoreProfile(pod.schedulerName),
    // At least what this scheduler has seen: its own bindings come back through the stream, and
    // filterscore must rank on them, not on the older state the pod's own event carried.
    traceOf: (uid) => source.traceContextOf(uid),
    generationOf: (uid) => Math.max(source.generationOf(uid), source.gate.generation),
    onSettled: (pod) => source.settle(pod.uid),
    onAttempt: (result, ms, pod) => {
      attemptsTotal.inc({ outcome: result.heldElsewhere ? 'held' : result.outcome });
      attemptSeconds.observe({ outcome: result.outcome }, ms / 1000);
      // A lost lease race is no outcome for the pod: a queued Schedule call waits on.
      if (!result.heldElsewhere) outcomes.resolve(pod.uid, { kind: 'attempt', result });
    },
  });

  runtime.grpc.add(
    SchedulerServiceDefinition,
    schedulerServer({
      attempt,
      queue,
      records,
      profiles,
      generation: () => source.gate.generation,
      synced: () => source.gate.synced,
      maxReserveTries: config.scheduler.maxReserveTries,
      viewPod: (uid) => source.viewPod(uid),
      isPending: (pod) => source.isPending(pod),
      outcomes,
    }),
  );
  const reloads = new Counter({ name: 'schedmesh_scheduler_profile_reloads_total', help: 'Profile versions from the ConfigMap, by result (applied, rejected).', labelNames: ['result'], registers: [metrics] });
  for (const result of ['applied', 'rejected']) reloads.inc({ result }, 0);
  const profilesGate = config.scheduler.profilesConfigMap ? new GenerationGate({ name: 'the profiles ConfigMap' }) : undefined;
  const updateReady = (): void => runtime.setReady(source.gate.synced && (profilesGate?.synced ?? true));
  source.gate.onSyncChange(updateReady);
  profilesGate?.onSyncChange(updateReady);
  const { grpcPort, httpPort } = await runtime.listen();
  logger.info({ profiles: profiles.list, instance, parallelism: config.scheduler.parallelism }, 'scheduler starting');

  const stop = new AbortController();
  // Every worker waits on it at once (pop), besides the source's loops.
  setMaxListeners(config.scheduler.parallelism + 16, stop.signal);
  queue.run();
  const followingProfiles = profilesGate
    ? followConfigMap({
        nc,
        logger,
        gate: profilesGate,
        name: config.scheduler.profilesConfigMap,
        key: config.scheduler.profilesConfigMapKey,
        what: 'profiles',
        stream: config.nats.stream,
        subjectPrefix: config.nats.subjectPrefix,
        signal: stop.signal,
        apply: ({ text, source: from }) => {
          const outcome = profiles.apply(text, from);
          reloads.inc({ result: outcome.result });
          if (outcome.result === 'applied') source.profilesChanged(outcome);
        },
      })
    : Promise.resolve();
  // The served names are known before any pending pod is considered (a pod of a name
  // the ConfigMap adds is not passed over while it is being read).
  const sourcing = (async () => {
    if (profilesGate) await untilSynced(profilesGate, stop.signal);
    if (!stop.signal.aborted) await source.run(stop.signal);
  })();
  // Scheduling starts once the view is in sync: a pod must not be decided on a half-replayed cluster.
  const scheduling = (async () => {
    await untilSynced(source.gate, stop.signal);
    if (!stop.signal.aborted) await scheduler.run(stop.signal);
  })();
  runtime.onShutdown(async () => {
    stop.abort();
    queue.close();
    await Promise.allSettled([sourcing, scheduling, followingProfiles]);
    await nc.drain().catch(() => undefined);
    mesh.close();
    await api.close();
  });
  return { runtime, queue, source, records, profiles, profilesGate, grpcPort, httpPort, stop: () => runtime.stop() };
}

// Resolves once the gate is in sync, or when the signal aborts.
async function untilSynced(gate: GenerationGate, signal: AbortSignal): Promise<void> {
  if (gate.synced) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      off();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const off = gate.onSyncChange((synced) => {
      if (synced) done();
    });
    signal.addEventListener('abort', done);
  });
}
