import { gauge } from '@schedmesh/runtime';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Decision, FailOpenDependency } from './admission.js';
import type { PolicyStore } from './policy-store.js';
import { ALL_REASONS } from './reasons.js';

/** The admission service's Prometheus metrics. */
export class AdmissionMetrics {
  /** Decisions by decision and stable reason code. */
  readonly decisions: Counter<'decision' | 'reason'>;
  /** Admit evaluation time (policies, reviews, webhooks), by decision. */
  readonly latency: Histogram<'decision'>;
  /** Policy versions refused, by policy and the first invalid field. */
  readonly policyRejected: Counter<'policy' | 'field'>;
  /** Policy versions applied. */
  readonly policyApplied: Counter;
  /** Policies put back in force from the last-known-good bucket. */
  readonly policyRestored: Counter;
  /** SubjectAccessReview cache lookups: hit, coalesced (joined a review in flight), miss. */
  readonly sarCache: Counter<'result'>;
  /** SubjectAccessReviews sent to the API server, by outcome (allowed, denied, error). */
  readonly sarReviews: Counter<'outcome'>;
  /** Webhook calls through the gateway, by plugin and verdict (allow, reject, unavailable). */
  readonly webhookCalls: Counter<'plugin' | 'verdict'>;
  /** Dependencies ignored because a policy says failurePolicy: Ignore. */
  readonly failOpen: Counter<'policy' | 'dependency'>;
  /** Stream messages that were not ClusterEvents. */
  readonly invalidMessages: Counter;
  /** AdmissionReviews answered by the validating webhook, by verdict. */
  readonly webhookReviews: Counter<'verdict'>;

  constructor(registry: Registry, store: PolicyStore, sarCacheSize: () => number) {
    const registers = [registry];
    this.decisions = new Counter({ name: 'schedmesh_admission_decisions_total', help: 'Admission decisions, by decision and reason code.', labelNames: ['decision', 'reason'], registers });
    // Every reason at zero from the start, so rates and alerts see each series.
    for (const reason of ALL_REASONS) this.decisions.inc({ decision: reason === 'Allowed' || reason === 'NoPolicyApplies' ? 'allow' : 'reject', reason }, 0);
    this.latency = new Histogram({
      name: 'schedmesh_admission_admit_duration_seconds',
      help: 'Time to evaluate an Admit call (policies, SubjectAccessReviews, webhooks).',
      labelNames: ['decision'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.policyRejected = new Counter({ name: 'schedmesh_admission_policy_rejected_total', help: 'AdmissionPolicy versions refused as invalid (the previous valid version stays in force), by policy and first invalid field.', labelNames: ['policy', 'field'], registers });
    this.policyApplied = new Counter({ name: 'schedmesh_admission_policy_applied_total', help: 'AdmissionPolicy versions applied.', registers });
    this.policyRestored = new Counter({ name: 'schedmesh_admission_policy_restored_total', help: 'Policies put back in force from the last-known-good bucket because the stream held only an invalid version.', registers });
    this.sarCache = new Counter({ name: 'schedmesh_admission_sar_cache_total', help: 'SubjectAccessReview cache lookups: hit, coalesced (joined a review in flight) or miss.', labelNames: ['result'], registers });
    for (const result of ['hit', 'coalesced', 'miss']) this.sarCache.inc({ result }, 0);
    this.sarReviews = new Counter({ name: 'schedmesh_admission_sar_reviews_total', help: 'SubjectAccessReviews sent to the API server, by outcome.', labelNames: ['outcome'], registers });
    this.webhookCalls = new Counter({ name: 'schedmesh_admission_webhook_calls_total', help: 'Webhook calls through the gateway, by plugin and verdict.', labelNames: ['plugin', 'verdict'], registers });
    this.failOpen = new Counter({ name: 'schedmesh_admission_fail_open_total', help: 'Failed dependencies ignored because the policy says failurePolicy: Ignore.', labelNames: ['policy', 'dependency'], registers });
    this.invalidMessages = new Counter({ name: 'schedmesh_admission_invalid_messages_total', help: 'Stream messages that were not ClusterEvents.', registers });
    this.webhookReviews = new Counter({
      name: 'schedmesh_admission_validating_reviews_total',
      help: 'AdmissionReviews the validating webhook answered, by verdict (allowed, denied, invalid, unavailable).',
      labelNames: ['verdict'],
      registers,
    });
    // Read at scrape time rather than set per event.
    gauge(registry, 'schedmesh_admission_policies', 'AdmissionPolicies in force.', () => store.policies().length);
    gauge(registry, 'schedmesh_admission_policies_refused', 'AdmissionPolicies whose latest version is refused.', () => store.refusals().length);
    gauge(registry, 'schedmesh_admission_generation', 'Stream sequence of the last applied event.', () => store.generation);
    gauge(registry, 'schedmesh_admission_synced', '1 while the policies are in sync with the cluster stream.', () => (store.gate.synced ? 1 : 0));
    gauge(registry, 'schedmesh_admission_sar_cache_entries', 'SubjectAccessReview answers cached.', sarCacheSize);
  }

  /** Records one decision. */
  decision(decision: Decision, seconds: number): void {
    const label = decision.allowed ? 'allow' : 'reject';
    this.decisions.inc({ decision: label, reason: decision.reasonCode });
    this.latency.observe({ decision: label }, seconds);
  }

  /** Records a dependency ignored by failurePolicy: Ignore. */
  failedOpen(policy: string, dependency: FailOpenDependency): void {
    this.failOpen.inc({ policy, dependency });
  }
}

