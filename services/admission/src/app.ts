import type { KubeConfig } from '@kubernetes/client-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { KubeApi, loadKubeConfig } from '@schedmesh/mesh';
import { AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import { connectClient, connectNatsFrom, startService } from '@schedmesh/runtime';
import type { AppOptions, ConnectedClient, Logger, ServiceApp } from '@schedmesh/runtime';
import { CachedAccessReviewer, KubernetesAccessReviewer } from './access-review.js';
import { Admitter } from './admission.js';
import type { AdmissionConfig } from './config.js';
import { openLastKnownGood } from './last-good.js';
import type { LastKnownGood } from './last-good.js';
import { AdmissionMetrics } from './metrics.js';
import { compilePolicy } from './policy.js';
import { PolicyStatusWriter } from './policy-status.js';
import { PolicyStore } from './policy-store.js';
import type { StoreChange } from './policy-store.js';
import { admissionServer } from './server.js';
import { followPolicies } from './stream-sync.js';
import { startValidatingWebhook } from './validating-webhook.js';
import type { ValidatingWebhook } from './validating-webhook.js';
import { GatewayWebhooks } from './webhook.js';

/** A running admission service. */
export interface AdmissionApp extends ServiceApp {
  readonly store: PolicyStore;
  readonly admitter: Admitter;
  readonly metrics: AdmissionMetrics;
  /** The SubjectAccessReview cache; undefined when access reviews are off. */
  readonly accessCache: CachedAccessReviewer | undefined;
  /** The validating webhook's HTTPS port; undefined when it is off. */
  readonly validatingWebhookPort: number | undefined;
}

/** Options that tests pass in-process instead of through configuration. */
export interface AdmissionAppOptions extends AppOptions {
  /** A kubeconfig to use instead of the configured or default one. */
  kubeConfig?: KubeConfig;
}

/**
 * Wires the admission service: runtime, the policy store, SubjectAccessReviews
 * (cached), the gateway client for webhooks, the gRPC server, NATS and the
 * stream follower. NOT_SERVING until the policies are in sync with the stream
 * (which the informer creates: until it exists, the service waits). main.ts
 * calls it; tests call it in-process.
 */
export async function startAdmissionApp(config: AdmissionConfig, options: AdmissionAppOptions = {}): Promise<AdmissionApp> {
  const runtime = startService({ name: 'schedmesh-admission', config, handleSignals: options.handleSignals ?? true });
  const { logger } = runtime;
  const store = new PolicyStore({ maxWaitMs: config.minGeneration.maxWait });

  let accessCache: CachedAccessReviewer | undefined;
  const metrics = new AdmissionMetrics(runtime.metrics, store, () => accessCache?.size ?? 0);
  let kubeConfig: KubeConfig | undefined;
  const cluster = (): KubeConfig => (kubeConfig ??= options.kubeConfig ?? loadKubeConfig(config.kubernetes.kubeconfig));
  let kubernetes: KubernetesAccessReviewer | undefined;
  if (config.kubernetes.accessReviews) {
    kubernetes = new KubernetesAccessReviewer({
      kubeConfig: cluster(),
      timeoutMs: config.kubernetes.reviewTimeout,
      onReview: (outcome) => metrics.sarReviews.inc({ outcome }),
    });
    accessCache = new CachedAccessReviewer(kubernetes, {
      ttlMs: config.kubernetes.cacheTtl,
      maxEntries: config.kubernetes.cacheMaxEntries,
      onLookup: (result) => metrics.sarCache.inc({ result }),
    });
  }

  const statusApi = config.kubernetes.policyStatus ? new KubeApi({ kubeConfig: cluster(), connections: 2 }) : undefined;
  const status = statusApi ? new PolicyStatusWriter({ api: statusApi, logger }) : undefined;

  const { address, ...gatewayClient } = config.gateway;
  // Invoke is not marked idempotent, so the client never retries it; the gateway retries per plugin.
  const gateway: ConnectedClient<typeof GatewayServiceDefinition> | undefined = address ? connectClient(GatewayServiceDefinition, { address, ...gatewayClient }, { logger }) : undefined;
  const webhooks = new GatewayWebhooks({
    client: gateway?.client,
    timeoutMs: config.gateway.deadline,
    onCall: (plugin, verdict) => metrics.webhookCalls.inc({ plugin, verdict }),
  });

  const admitter = new Admitter({
    store,
    tracer: runtime.tracer,
    hibernationEnabled: config.features.hibernation,
    hostPathWhenNoPolicy: config.hostPath.whenNoPolicy,
    appLabels: config.hibernation.appLabels,
    poolLabel: config.labels.pool,
    reviewer: accessCache,
    webhooks,
    onFailOpen: (policy, dependency, message) => {
      metrics.failedOpen(policy, dependency);
      logger.warn({ policy, dependency, reason: message }, 'dependency failed; admitting anyway (failurePolicy: Ignore)');
    },
    onDecision: (decision, seconds) => metrics.decision(decision, seconds),
  });

  store.gate.onSyncChange((synced) => {
    runtime.setReady(synced);
    if (synced) logger.info({ generation: store.generation, policies: store.policies().length, refused: store.refusals().length }, 'admission policies in sync with the cluster stream');
    else logger.warn({ generation: store.generation }, 'admission policies out of sync with the cluster stream; NOT_SERVING until caught up');
  });

  runtime.grpc.add(AdmissionServiceDefinition, admissionServer(store, admitter));
  let validating: ValidatingWebhook | undefined;
  let nodeApi: KubeApi | undefined;
  let nc: NatsConnection | undefined;
  const stopFollowing = new AbortController();
  let following: Promise<void> | undefined;
  runtime.onShutdown(async () => {
    await validating?.close();
    await nodeApi?.close();
    stopFollowing.abort();
    await following;
    await nc?.drain();
    gateway?.close();
    kubernetes?.close();
    await status?.stop();
    await statusApi?.close();
  });

  try {
    const { grpcPort, httpPort } = await runtime.listen();
    const webhookConfig = config.validatingWebhook;
    if (webhookConfig.enabled && webhookConfig.certFile !== undefined && webhookConfig.keyFile !== undefined) {
      nodeApi = new KubeApi({ kubeConfig: cluster(), connections: 2 });
      validating = await startValidatingWebhook({
        admitter,
        store,
        logger,
        host: webhookConfig.host,
        port: webhookConfig.port,
        certFile: webhookConfig.certFile,
        keyFile: webhookConfig.keyFile,
        maxBodyBytes: webhookConfig.maxBodyBytes,
        timeoutMs: webhookConfig.timeout,
        poolLabel: config.labels.pool,
        nodePool: nodePoolLookup(nodeApi, config.labels.pool),
        reviews: metrics.webhookReviews,
      });
    }
    nc = await connectNatsFrom(config.nats, 'schedmesh-admission', logger);
    let lastGood: LastKnownGood | undefined;
    if (config.nats.lastKnownGoodBucket !== '') {
      try {
        lastGood = await openLastKnownGood(nc, config.nats.lastKnownGoodBucket, { memory: config.nats.memoryStorage, replicas: config.nats.replicas });
      } catch (err) {
        logger.warn({ bucket: config.nats.lastKnownGoodBucket, err: (err as Error).message }, 'last-known-good bucket unavailable: a restart cannot restore a policy whose latest version is invalid');
      }
    }
    const onChange = policyChangeHandler({ store, logger, metrics, lastGood, status });
    following = followPolicies({
      nc,
      store,
      logger,
      stream: config.nats.stream,
      onChange,
      onInvalid: () => metrics.invalidMessages.inc(),
      signal: stopFollowing.signal,
    });
    return { runtime, store, admitter, metrics, accessCache, grpcPort, httpPort, validatingWebhookPort: validating?.port, stop: () => runtime.stop() };
  } catch (err) {
    await runtime.stop();
    throw err;
  }
}

/** A node's pool label, read from the API server (nodes are not on admission's stream subjects). */
function nodePoolLookup(api: KubeApi, poolLabel: string): (node: string, signal: AbortSignal) => Promise<string | undefined> {
  return async (node, signal) => {
    const res = await api.get<{ metadata?: { labels?: Record<string, string> } }>(`/api/v1/nodes/${encodeURIComponent(node)}`, signal);
    return res.body?.metadata?.labels?.[poolLabel];
  };
}

/** Logs, counts and keeps the last-known-good store current for each applied stream event. */
function policyChangeHandler(deps: {
  store: PolicyStore;
  logger: Logger;
  metrics: AdmissionMetrics;
  lastGood: LastKnownGood | undefined;
  status: PolicyStatusWriter | undefined;
}): (change: StoreChange) => Promise<void> {
  const { store, logger, metrics, lastGood, status } = deps;
  const quietly = async (what: string, policy: string, op: () => Promise<void>): Promise<void> => {
    try {
      await op();
    } catch (err) {
      logger.warn({ policy, err: (err as Error).message }, `last-known-good bucket: ${what} failed`);
    }
  };
  return async (change) => {
    switch (change.kind) {
      case 'policy-applied': {
        const { policy } = change;
        metrics.policyApplied.inc();
        logger.info({ policy: policy.key, generation: policy.generation, resourceVersion: policy.resourceVersion }, 'admission policy applied');
        if (lastGood) await quietly('save', policy.key, () => lastGood.save(change.object));
        status?.report(change);
        return;
      }
      case 'policy-refused': {
        const { refusal } = change;
        const [first] = refusal.issues;
        metrics.policyRejected.inc({ policy: refusal.key, field: first.field });
        let inForce = refusal.inForce;
        if (!inForce && lastGood) {
          await quietly('load', refusal.key, async () => {
            const saved = await lastGood.load(refusal.key);
            const compiled = saved ? compilePolicy(saved) : undefined;
            if (compiled?.ok && store.restore(compiled.policy)) {
              inForce = compiled.policy;
              metrics.policyRestored.inc();
            }
          });
        }
        logger.warn(
          {
            policy: refusal.key,
            generation: refusal.generation,
            resourceVersion: refusal.resourceVersion,
            field: first.field,
            reason: first.reason,
            issues: refusal.issues,
            inForce: inForce ? { generation: inForce.generation, resourceVersion: inForce.resourceVersion } : null,
          },
          inForce
            ? `admission policy refused (${first.field}: ${first.reason}); its previous valid version stays in force`
            : `admission policy refused (${first.field}: ${first.reason}); no valid version of it is known, so it is not in force`,
        );
        status?.report({ ...change, refusal: { ...refusal, inForce } });
        return;
      }
      case 'policy-deleted':
        logger.info({ policy: change.key }, 'admission policy deleted');
        if (lastGood) await quietly('forget', change.key, () => lastGood.forget(change.key));
        return;
      default:
        return;
    }
  };
}
