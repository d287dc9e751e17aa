/**
 * The admission decision for one pod at PreFilter: every AdmissionPolicy in
 * force is evaluated, cheapest rules first — namespace targeting, hibernation,
 * host paths, tenant RBAC (SubjectAccessReviews), then webhooks — and the
 * first rejection wins. A rejection is a value that says why and what to do.
 * Knows nothing of gRPC.
 */
import { setMaxListeners } from 'node:events';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { Code } from '@schedmesh/proto/v1/types';
import { withSpan, withSpanSync } from '@schedmesh/runtime';
import type { Pod } from '@schedmesh/proto/v1/types';
import { RESOURCE_EXTENDED, RESOURCE_NODE_POOLS, AccessReviewUnavailableError, serviceAccountSubject } from './access-review.js';
import type { AccessReviewer } from './access-review.js';
import { appHibernation, podHibernation } from './hibernation.js';
import type { HibernationMark } from './hibernation.js';
import { checkHostPaths, hasHostPathVolume } from './host-path.js';
import type { HostPathRule } from './host-path.js';
import type { CompiledPolicy, NamespaceView } from './policy.js';
import type { PolicyStore } from './policy-store.js';
import { Reason } from './reasons.js';
import type { ReasonCode } from './reasons.js';
import type { WebhookCaller } from './webhook.js';

/** An admission decision. */
export interface Decision {
  readonly allowed: boolean;
  /** SUCCESS when allowed; for a rejection UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, or ERROR when a dependency failed closed. */
  readonly code: Code;
  readonly reasonCode: ReasonCode;
  /** Why, and what to do; empty for a plain allow. */
  readonly message: string;
  /** Allowed: every policy that targeted the pod. Rejected: the policy that rejected it (none for a namespace or pod mark). */
  readonly policies: readonly string[];
  /** The node pools the pod may use; undefined = every node. */
  readonly pools: readonly string[] | undefined;
}

/**
 * When a pod is judged. `scheduling`: at PreFilter, every rule. `creation`:
 * by the Kubernetes validating webhook on create and update, the rules a pod
 * must never get around (host paths, tenant RBAC), whoever schedules it or
 * if nobody does (spec.nodeName); not hibernation (a hibernated app's pods
 * may exist, they wait), namespace targeting (a policy's rejectIfNotMatch is
 * about what schedmesh schedules) or REST webhooks.
 */
export type AdmissionMoment = 'scheduling' | 'creation';

/** A dependency that failed open (failurePolicy: Ignore). */
export type FailOpenDependency = 'access-review' | 'webhook';

/** Options of {@link Admitter}. */
export interface AdmitterOptions {
  store: PolicyStore;
  tracer: Tracer;
  /** The hibernation check (feature flag). */
  hibernationEnabled: boolean;
  /** hostPath volumes of a pod no policy governs host paths for: denied (default) or allowed. */
  hostPathWhenNoPolicy?: 'deny' | 'allow';
  /** Pod labels naming the app, first present wins. */
  appLabels: readonly string[];
  /** The node label holding the node pool (a pod's nodeSelector on it pins a pool). */
  poolLabel: string;
  /** Answers tenant-RBAC questions; undefined = no Kubernetes API (every review is unavailable). */
  reviewer: AccessReviewer | undefined;
  /** Consults webhooks. */
  webhooks: WebhookCaller;
  /** A failed dependency was ignored because the policy says failurePolicy: Ignore. */
  onFailOpen?: (policy: string, dependency: FailOpenDependency, message: string) => void;
  /** Every decision, with its evaluation time in seconds. */
  onDecision?: (decision: Decision, seconds: number) => void;
}

/** The hibernation state of an app, as GetAppState reports it. */
export interface AppState {
  readonly hibernating: boolean;
  readonly source: string;
  readonly wakeHint: string;
}

type Answer = { readonly kind: 'allowed' } | { readonly kind: 'denied' } | { readonly kind: 'unavailable'; readonly message: string };

type RuleOutcome = { readonly reject: Decision } | { readonly pools: ReadonlySet<string> | undefined };

const ATTR_POLICY = 'schedmesh.admission.policy';
const ATTR_RULE = 'schedmesh.admission.rule';
const ATTR_OUTCOME = 'schedmesh.admission.outcome';
const ATTR_REASON = 'schedmesh.admission.reason';

/** Decides whether pods may be scheduled, from the policies in a {@link PolicyStore}. */
export class Admitter {
  constructor(private readonly options: AdmitterOptions) {}

  /**
   * Evaluates every policy that targets the pod. Resolves with a decision; it
   * rejects only when `signal` aborts (with its reason).
   */
  async admit(pod: Pod, signal: AbortSignal, moment: AdmissionMoment = 'scheduling'): Promise<Decision> {
    const started = performance.now();
    const decision = await this.evaluate(pod, signal, moment);
    this.options.onDecision?.(decision, (performance.now() - started) / 1000);
    return decision;
  }

  /** The hibernation state of an app ("" = the namespace as a whole) from the namespace annotation and policy blocks. */
  appState(ns: NamespaceView, app: string): AppState {
    const mark = appHibernation(ns, app, this.options.store.policies());
    if (!mark) return { hibernating: false, source: '', wakeHint: '' };
    const source = this.options.hibernationEnabled ? mark.source : `${mark.source} (not enforced: features.hibernation is off)`;
    return { hibernating: true, source, wakeHint: mark.wakeHint };
  }

  private async evaluate(pod: Pod, signal: AbortSignal, moment: AdmissionMoment): Promise<Decision> {
    const scheduling = moment === 'scheduling';
    const { store } = this.options;
    const ns = store.namespace(pod.namespace) ?? { name: pod.namespace, labels: {}, annotations: {} };
    // One listener per concurrent review (a policy may govern many pools)
    // goes on this call's own signal, never on the caller's; made only for a
    // policy that consults something (most Admits consult nothing).
    let scoped: AbortSignal | undefined;
    const consultSignal = (): AbortSignal => {
      if (!scoped) {
        scoped = AbortSignal.any([signal]);
        setMaxListeners(0, scoped);
      }
      return scoped;
    };

    const targeting = this.rule('targeting', {}, (span): { reject: Decision } | { applicable: CompiledPolicy[] } => {
      const applicable: CompiledPolicy[] = [];
      for (const policy of store.policies()) {
        if (policy.targets(ns)) applicable.push(policy);
        else if (policy.rejectIfNotMatch && scheduling) {
          const rejection = notTargeted(policy, ns.name);
          span.setAttribute(ATTR_POLICY, policy.key);
          record(span, rejection);
          return { reject: rejection };
        }
      }
      span.setAttribute('schedmesh.admission.policies', applicable.length);
      record(span, undefined);
      return { applicable };
    });
    if ('reject' in targeting) return targeting.reject;
    const applicable = targeting.applicable;
    const keys = applicable.map((p) => p.key);

    if (this.options.hibernationEnabled && scheduling) {
      const rejection = this.rule('hibernation', {}, (span) => {
        const mark = podHibernation(pod, ns, applicable, this.options.appLabels);
        const decision = mark ? hibernating(pod, mark) : undefined;
        record(span, decision);
        return decision;
      });
      if (rejection) return rejection;
    }

    if (hasHostPathVolume(pod.volumes)) {
      const governing = applicable.filter((p) => p.hostPath !== undefined);
      // Restricted by default: with no policy to allow a path, every hostPath volume is denied unless the platform opened them.
      if (governing.length > 0 || this.options.hostPathWhenNoPolicy !== 'allow') {
        const rejection = this.rule('hostPath', { [ATTR_POLICY]: governing.map((p) => p.key).join(',') }, (span) => {
          const denial = checkHostPaths(pod.volumes, hostPathRules(governing, pod, ns.name));
          const decision = denial ? reject(Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, denial.reasonCode, denial.message, denial.policies) : undefined;
          record(span, decision);
          return decision;
        });
        if (rejection) return rejection;
      }
    }

    let pools: Set<string> | undefined;
    // Every policy's reviews at once: on cache misses the call waits for one
    // round of SubjectAccessReviews, not one round per policy. The outcomes
    // are read in policy order, so the first rejection still wins.
    const rbac = applicable
      .filter((policy) => policy.tenantRBAC !== undefined)
      .map((policy) =>
        this.asyncRule('tenantRBAC', { [ATTR_POLICY]: policy.key }, async (span) => {
          const result = await this.tenantRbac(policy, pod, consultSignal());
          record(span, 'reject' in result ? result.reject : undefined);
          return result;
        }),
      );
    // Outcomes not read after an early return must not surface as unhandled rejections.
    for (const pending of rbac) pending.catch(() => undefined);
    for (const pending of rbac) {
      const outcome = await pending;
      if ('reject' in outcome) return outcome.reject;
      if (outcome.pools) pools = pools ? new Set([...pools].filter((p) => outcome.pools?.has(p))) : new Set(outcome.pools);
    }
    if (pools && pools.size === 0) {
      const governing = applicable.filter((p) => (p.tenantRBAC?.nodePools.length ?? 0) > 0).map((p) => p.key);
      return reject(
        Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
        Reason.NodePoolForbidden,
        `no node pool is allowed by every AdmissionPolicy that governs node pools for service account ${saName(pod)} (${governing.join(', ')}); ask a platform admin for 'use' on a pool all of them allow`,
        governing,
      );
    }

    for (const policy of scheduling ? applicable : []) {
      const plugin = policy.webhookRef;
      if (plugin === undefined) continue;
      const verdict = await this.asyncRule('webhook', { [ATTR_POLICY]: policy.key, 'schedmesh.admission.webhook': plugin }, async (span) => {
        const v = await this.options.webhooks.call(plugin, pod, consultSignal());
        span.setAttribute('schedmesh.admission.webhook_verdict', v.kind);
        let decision: Decision | undefined;
        if (v.kind === 'reject') {
          const code = v.code === Code.CODE_UNSCHEDULABLE ? Code.CODE_UNSCHEDULABLE : Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE;
          decision = reject(code, Reason.WebhookRejected, `webhook ${JSON.stringify(plugin)} of AdmissionPolicy ${policy.key} rejected the pod: ${v.message}`, [policy.key]);
        } else if (v.kind === 'unavailable') {
          const message = `webhook ${JSON.stringify(plugin)} of AdmissionPolicy ${policy.key} could not be consulted: ${v.message}`;
          if (policy.failurePolicy === 'Fail') {
            decision = reject(Code.CODE_ERROR, Reason.WebhookUnavailable, `${message}; the policy fails closed (failurePolicy: Fail), so the pod is retried later`, [policy.key]);
          } else {
            this.options.onFailOpen?.(policy.key, 'webhook', message);
            span.setAttribute('schedmesh.admission.fail_open', true);
          }
        }
        record(span, decision);
        return decision;
      });
      if (verdict) return verdict;
    }

    return {
      allowed: true,
      code: Code.CODE_SUCCESS,
      reasonCode: applicable.length > 0 ? Reason.Allowed : Reason.NoPolicyApplies,
      message: '',
      policies: keys,
      pools: pools ? [...pools].sort() : undefined,
    };
  }

  private async tenantRbac(policy: CompiledPolicy, pod: Pod, signal: AbortSignal): Promise<RuleOutcome> {
    const rbac = policy.tenantRBAC;
    if (!rbac) return { pools: undefined };
    const sa = saName(pod);
    const failClosed = (message: string): RuleOutcome => ({
      reject: reject(
        Code.CODE_ERROR,
        Reason.AccessReviewUnavailable,
        `tenant RBAC of AdmissionPolicy ${policy.key} could not be checked for service account ${sa}: ${message}; the policy fails closed (failurePolicy: Fail), so the pod is retried later`,
        [policy.key],
      ),
    });
    const granted = (answer: Answer): boolean | 'fail' => {
      if (answer.kind !== 'unavailable') return answer.kind === 'allowed';
      if (policy.failurePolicy === 'Fail') return 'fail';
      this.options.onFailOpen?.(policy.key, 'access-review', answer.message);
      return true;
    };

    for (const resource of rbac.extendedResources) {
      if ((pod.requests?.scalar[resource] ?? 0) <= 0) continue;
      const answer = await this.ask(pod, RESOURCE_EXTENDED, resource, signal);
      const ok = granted(answer);
      if (ok === 'fail') return failClosed(answer.kind === 'unavailable' ? answer.message : '');
      if (!ok) {
        return {
          reject: reject(
            Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
            Reason.ExtendedResourceForbidden,
            `service account ${sa} may not use the extended resource ${resource} (AdmissionPolicy ${policy.key}); grant it the verb "use" on extendedresources.schedmesh.io named ${JSON.stringify(resource)} with a Role or ClusterRole bound in namespace ${pod.namespace}`,
            [policy.key],
          ),
        };
      }
    }

    if (rbac.nodePools.length === 0) return { pools: undefined };
    const answers = await Promise.all(rbac.nodePools.map((pool) => this.ask(pod, RESOURCE_NODE_POOLS, pool, signal)));
    const allowed = new Set(rbac.openPools);
    for (let i = 0; i < answers.length; i++) {
      const answer = answers[i] as Answer;
      const ok = granted(answer);
      if (ok === 'fail') return failClosed(answer.kind === 'unavailable' ? answer.message : '');
      if (ok) allowed.add(rbac.nodePools[i] as string);
    }
    const pinned = pod.nodeSelector[this.options.poolLabel];
    if (pinned !== undefined && !allowed.has(pinned)) {
      return {
        reject: reject(
          Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
          Reason.NodePoolForbidden,
          `service account ${sa} may not use node pool ${JSON.stringify(pinned)}, which the pod selects (nodeSelector ${this.options.poolLabel}=${pinned}); ` +
            (rbac.nodePools.includes(pinned)
              ? `AdmissionPolicy ${policy.key} requires the verb "use" on nodepools.schedmesh.io named ${JSON.stringify(pinned)}: bind a Role or ClusterRole granting it in namespace ${pod.namespace}`
              : `AdmissionPolicy ${policy.key} allows only ${describePools(allowed)}`),
          [policy.key],
        ),
      };
    }
    if (allowed.size === 0) {
      return {
        reject: reject(
          Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
          Reason.NodePoolForbidden,
          `service account ${sa} may use none of the node pools of AdmissionPolicy ${policy.key} (${rbac.nodePools.join(', ')}); grant it the verb "use" on nodepools.schedmesh.io for a pool with a Role or ClusterRole bound in namespace ${pod.namespace}`,
          [policy.key],
        ),
      };
    }
    return { pools: allowed };
  }

  private async ask(pod: Pod, resource: string, name: string, signal: AbortSignal): Promise<Answer> {
    const reviewer = this.options.reviewer;
    if (!reviewer) return { kind: 'unavailable', message: 'no Kubernetes API is configured for SubjectAccessReviews' };
    const subject = serviceAccountSubject(pod.namespace, pod.serviceAccountName);
    try {
      const allowed = await reviewer.review({ ...subject, resource, name, namespace: pod.namespace }, signal);
      return allowed ? { kind: 'allowed' } : { kind: 'denied' };
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof AccessReviewUnavailableError) return { kind: 'unavailable', message: err.message };
      throw err;
    }
  }

  /** One span per rule evaluated; the rule records its outcome on it. */
  private rule<T>(rule: string, attributes: Attributes, fn: (span: Span) => T): T {
    return withSpanSync(this.options.tracer, `admission.${rule}`, { attributes: { [ATTR_RULE]: rule, ...attributes } }, fn);
  }

  private async asyncRule<T>(rule: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
    return withSpan(this.options.tracer, `admission.${rule}`, { attributes: { [ATTR_RULE]: rule, ...attributes } }, fn);
  }
}

/** Records a rule's outcome on its span: the rejection it produced, or allow. */
function record(span: Span, rejection: Decision | undefined): void {
  span.setAttribute(ATTR_OUTCOME, rejection ? 'reject' : 'allow');
  if (rejection) span.setAttribute(ATTR_REASON, rejection.reasonCode);
}

function reject(code: Code, reasonCode: ReasonCode, message: string, policies: readonly string[]): Decision {
  return { allowed: false, code, reasonCode, message, policies, pools: undefined };
}

function notTargeted(policy: CompiledPolicy, namespace: string): Decision {
  return reject(
    Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
    Reason.NotTargeted,
    `namespace ${JSON.stringify(namespace)} is not targeted by AdmissionPolicy ${policy.key}, which rejects pods of every other namespace (rejectIfNotMatch); ` +
      `it targets ${policy.targetDescription}: run the pod there, or ask a platform admin to add the namespace`,
    [policy.key],
  );
}

function hibernating(pod: Pod, mark: HibernationMark): Decision {
  return reject(
    Code.CODE_UNSCHEDULABLE,
    Reason.Hibernating,
    `pod ${pod.namespace}/${pod.name} is hibernating (${mark.source}) and is not scheduled until it is woken; ${mark.wakeHint}`,
    mark.policy ? [mark.policy] : [],
  );
}

function saName(pod: Pod): string {
  return `${pod.namespace}/${pod.serviceAccountName === '' ? 'default' : pod.serviceAccountName}`;
}

function describePools(pools: ReadonlySet<string>): string {
  return pools.size === 0 ? 'no pool for this service account' : `the pools ${[...pools].sort().join(', ')} for this service account`;
}

/** The allowlist entries that apply to a pod: every tier of every governing policy. */
function hostPathRules(governing: readonly CompiledPolicy[], pod: Pod, namespace: string): HostPathRule[] {
  const rules: HostPathRule[] = [];
  for (const policy of governing) {
    const hp = policy.hostPath;
    if (!hp) continue;
    rules.push(...hp.platform, ...(hp.byNamespace.get(namespace) ?? []));
    for (const w of hp.workloads) {
      if ((w.namespace === undefined || w.namespace === namespace) && w.selector.matches(pod.labels)) rules.push(...w.rules);
    }
  }
  return rules;
}
