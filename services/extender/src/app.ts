import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { connectMesh, KubeApi, loadKubeConfig, PodWriter, SchedulingAttempt } from '@schedmesh/mesh';
import { connectNatsFrom, followClusterStreamResilient, gauge, GenerationGate, startService } from '@schedmesh/runtime';
import type { AppOptions, ServiceApp } from '@schedmesh/runtime';
import { Counter, Histogram } from 'prom-client';
import type { ExtenderConfig } from './config.js';
import { startExtenderServer } from './http.js';
import type { ExtenderServer, Verbs } from './http.js';
import { NodeView } from './node-view.js';
import { BindCalls } from './verbs/bind.js';
import { DecisionCache } from './verbs/decisions.js';
import type { VerbDeps } from './verbs/deps.js';

/** Filter decisions kept for prioritize: more than the pods kube-scheduler has in flight between the two verbs. */
const DECISIONS_KEPT = 1024;

/** A running extender. */
export interface ExtenderApp extends ServiceApp {
  readonly server: ExtenderServer;
  /** The replica of the nodes (empty without `nats`). */
  readonly view: NodeView;
  /** The replica's generation gate (undefined without `nats`). */
  readonly gate: GenerationGate | undefined;
  /** Filter's scores kept for the prioritize call of the same cycle. */
  readonly decisions: DecisionCache;
}

/** Options of {@link startExtenderApp} besides the configuration. */
export interface ExtenderAppOptions extends AppOptions {
  /** The Kubernetes API (tests pass the harness's); default from config.kubernetes. */
  kubeConfig?: KubeConfig;
  /** The verbs (tests pass fakes); default the mesh's. */
  verbs?: Verbs;
}

/**
 * Wires the extender: runtime, the mesh clients, the Kubernetes writer, the
 * node replica from the cluster stream, and the HTTP server of the verbs.
 * main.ts calls it; tests call it in-process.
 */
export async function startExtenderApp(config: ExtenderConfig, options: ExtenderAppOptions = {}): Promise<ExtenderApp> {
  const runtime = startService({ name: 'schedmesh-extender', config, handleSignals: options.handleSignals ?? true });
  const { logger, metrics, tracer } = runtime;
  const instance = config.extender.instance ?? hostname();

  const kc = options.kubeConfig ?? loadKubeConfig(config.kubernetes.kubeconfig);
  const api = new KubeApi({ kubeConfig: kc, timeoutMs: config.kubernetes.timeout, tracer });
  const writer = new PodWriter(api, { reportingController: 'schedmesh-extender', reportingInstance: instance });

  const mesh = connectMesh(config, { logger });
  const clients = mesh.clients;
  const gatewayPlugins = mesh.gateway;

  const view = new NodeView();
  const gate = config.nats ? new GenerationGate({ name: 'extender node view', maxWaitMs: config.minGeneration.maxWait }) : undefined;
  // kube-scheduler calls prioritize right after filter in the same cycle: a verb's deadline is ample.
  const decisions = new DecisionCache({ maxAgeMs: config.extender.verbTimeout, maxEntries: DECISIONS_KEPT });
  const deps: VerbDeps = {
    attempt: (nodes) =>
      new SchedulingAttempt({
        clients,
        ...(gatewayPlugins ? { gateway: gatewayPlugins } : {}),
        writer,
        nodes,
        tracer,
        logger,
        reservation: { ttlMs: config.extender.leaseTtl, holder: instance },
        // Without the stream there are no PodGroup objects to read: gangs come from the pods' annotations.
        ...(config.nats ? { podGroups: view.podGroups.get } : {}),
      }),
    replicaNode: (name) => view.node(name),
    pendingPod: (uid) => (gate?.synced ? view.pendingPod(uid) : undefined),
    generation: () => gate?.generation ?? 0,
    coverNodes: async (pod, names, signal) => {
      if (!gate) return { generation: 0, missing: [] };
      const covered = await view.waitForNodes(names, { timeoutMs: config.extender.nodeWait, signal });
      // kube-scheduler's informer can be ahead of the stream: a pod the replica has not seen yet needs all it has applied.
      // The gate advances just after an event is applied: the nodes' own generation may be the newer.
      return { ...covered, generation: Math.max(view.podGeneration(pod.uid) ?? gate.generation, covered.generation) };
    },
    nodeWaitMs: config.extender.nodeWait,
    nodeExists: async (name, signal) => {
      if (gate?.synced && view.node(name)) return true;
      return (await api.get(`/api/v1/nodes/${encodeURIComponent(name)}`, signal)).status === 200;
    },
    writer,
    decisions,
    binds: new BindCalls(),
    profile: config.extender.profile,
    maxFeasibleNodes: config.extender.maxFeasibleNodes,
    logger,
  };

  const requests = new Counter({ name: 'schedmesh_extender_requests_total', help: 'Extender requests, by verb and HTTP status.', labelNames: ['verb', 'code'] as const, registers: [metrics] });
  const seconds = new Histogram({
    name: 'schedmesh_extender_request_duration_seconds',
    help: 'Extender request latency, by verb.',
    labelNames: ['verb'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });
  gauge(metrics, 'schedmesh_extender_view_nodes', 'Nodes in the extender replica.', () => view.size);
  gauge(metrics, 'schedmesh_extender_node_waits', 'Verbs waiting for a named node the cluster stream has not brought yet.', () => view.waiting);

  const tls = config.extender.tls ? { cert: readFileSync(config.extender.tls.certFile), key: readFileSync(config.extender.tls.keyFile) } : undefined;
  const { grpcPort, httpPort } = await runtime.listen();
  const server = await startExtenderServer({
    deps,
    tracer,
    ...(options.verbs ? { verbs: options.verbs } : {}),
    host: config.extender.host,
    port: config.extender.port,
    pathPrefix: config.extender.pathPrefix,
    maxBodyBytes: config.extender.maxBodyBytes,
    verbTimeoutMs: config.extender.verbTimeout,
    ...(tls ? { tls } : {}),
    logger,
    metrics: { requests, seconds },
  });

  const stop = new AbortController();
  let following: Promise<void> = Promise.resolve();
  if (config.nats && gate) {
    const nc = await connectNatsFrom(config.nats, 'schedmesh-extender', logger);
    gauge(metrics, 'schedmesh_extender_generation', 'Cluster stream generation of the extender replica.', () => gate.generation);
    gate.onSyncChange((synced) => runtime.setReady(synced));
    following = followClusterStreamResilient({
      nc,
      logger,
      stream: config.nats.stream,
      gate,
      signal: stop.signal,
      apply: ({ event }) => view.apply(event),
      onReset: () => view.reset(),
    });
    runtime.onShutdown(async () => {
      stop.abort();
      await following;
      await nc.drain().catch(() => undefined);
    });
  } else {
    runtime.setReady(true);
  }
  runtime.onShutdown(async () => {
    await server.close();
    mesh.close();
    await api.close();
  });
  logger.info({ urlPrefix: server.urlPrefix, instance, replica: Boolean(config.nats) }, 'extender listening');
  return { runtime, server, view, gate, decisions, grpcPort, httpPort, stop: () => runtime.stop() };
}
