import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '@schedmesh/mesh';
import type { Logger } from '@schedmesh/runtime';
import type { InformerConfig } from './config.js';

/** Where a pod's service account namespace is mounted. */
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The Lease's namespace: configured, else the pod's own (in a cluster), else the kubeconfig context's, else "default". */
export function leaseNamespace(configured: string, kc: KubeConfig): string {
  if (configured !== '') return configured;
  if (existsSync(SERVICE_ACCOUNT_NAMESPACE)) return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim();
  return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}

/** The informer's elector: `lead` runs while this informer holds the Lease. */
export function leaderElector(config: InformerConfig, kc: KubeConfig, logger: Logger, lead: (signal: AbortSignal) => Promise<void>): LeaderElector {
  const le = config.leaderElection;
  return new LeaderElector({
    kubeConfig: kc,
    namespace: leaseNamespace(le.namespace, kc),
    name: le.name,
    identity: le.identity || `${hostname()}_${randomUUID()}`,
    leaseDurationMs: le.leaseDuration,
    renewDeadlineMs: le.renewDeadline,
    retryPeriodMs: le.retryPeriod,
    logger,
    lead,
  });
}
