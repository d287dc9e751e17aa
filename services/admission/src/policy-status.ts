import { PatchType } from '@schedmesh/mesh';
import type { KubeApi } from '@schedmesh/mesh';
import type { Logger } from '@schedmesh/runtime';
import type { StoreChange } from './policy-store.js';

/**
 * Writes back, on each AdmissionPolicy's status subresource, whether the
 * version the service last saw is in force — so `kubectl get
 * admissionpolicies` answers "is my policy applied?" without reading logs:
 *
 *   status:
 *     observedGeneration: 3
 *     conditions:
 *     - type: Accepted
 *       status: "False"
 *       reason: Invalid
 *       message: 'spec.hostPath.platform[0].path: "/" would allow …; generation 2 stays in force'
 *       observedGeneration: 3
 *       lastTransitionTime: …
 *
 * Reason `Accepted` (status True) when the version is in force; `Invalid`
 * (False) when it was refused, naming the first issue and what is in force
 * instead. Writes are off the stream's path (a slow API server never delays
 * policies), one at a time per policy and in order, and skipped when the
 * status already says the same — every replica writes the same thing.
 */
export const ACCEPTED_CONDITION = 'Accepted';

/** The Accepted condition of one policy version. */
export interface AcceptedCondition {
  readonly status: 'True' | 'False';
  readonly reason: 'Accepted' | 'Invalid';
  readonly message: string;
  readonly observedGeneration: number;
}

interface StatusCondition extends AcceptedCondition {
  readonly type: string;
  readonly lastTransitionTime: string;
}

interface PolicyObject {
  readonly status?: { readonly conditions?: readonly Partial<StatusCondition>[] };
}

/** What a store change says about a policy's status; undefined for changes that concern no policy version. */
export function acceptedCondition(change: StoreChange): { name: string; condition: AcceptedCondition } | undefined {
  if (change.kind === 'policy-applied') {
    const { object } = change;
    return { name: object.name, condition: { status: 'True', reason: 'Accepted', message: `generation ${object.generation} is in force`, observedGeneration: object.generation } };
  }
  if (change.kind === 'policy-refused') {
    const { refusal, object } = change;
    const [first] = refusal.issues;
    const more = refusal.issues.length > 1 ? ` (and ${refusal.issues.length - 1} more)` : '';
    const inForce = refusal.inForce ? `generation ${refusal.inForce.generation} stays in force` : 'no valid generation is known, so the policy is not in force';
    return { name: object.name, condition: { status: 'False', reason: 'Invalid', message: `${first.field}: ${first.reason}${more}; ${inForce}`, observedGeneration: object.generation } };
  }
  return undefined;
}

/** Options of {@link PolicyStatusWriter}. */
export interface PolicyStatusWriterOptions {
  api: KubeApi;
  logger: Logger;
  /** The clock (tests). */
  now?: () => Date;
}

/** Writes {@link AcceptedCondition}s to AdmissionPolicy status subresources. */
export class PolicyStatusWriter {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: PolicyStatusWriterOptions) {}

  /** Queues the status a store change implies; never throws (a failed write is logged). */
  report(change: StoreChange): void {
    const update = acceptedCondition(change);
    if (!update) return;
    const { name, condition } = update;
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous
      .then(() => this.write(name, condition))
      .catch((err: unknown) => {
        if (this.stopping.signal.aborted) return;
        this.options.logger.warn({ policy: name, generation: condition.observedGeneration, err: (err as Error).message }, 'could not write the AdmissionPolicy status');
      })
      .finally(() => {
        if (this.queues.get(name) === next) this.queues.delete(name);
      });
    this.queues.set(name, next);
  }

  /** Resolves when every queued write is done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  /** Abandons queued writes. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.settled();
  }

  private async write(name: string, condition: AcceptedCondition): Promise<void> {
    const { signal } = this.stopping;
    const path = `/apis/schedmesh.io/v1alpha1/admissionpolicies/${encodeURIComponent(name)}/status`;
    const current = await this.options.api.get<PolicyObject>(path, signal);
    // Deleted since: nothing to report on.
    if (current.status === 404) return;
    const existing = current.body?.status?.conditions?.find((c) => c.type === ACCEPTED_CONDITION);
    if (
      existing?.status === condition.status &&
      existing.reason === condition.reason &&
      existing.message === condition.message &&
      existing.observedGeneration === condition.observedGeneration
    ) {
      return;
    }
    const lastTransitionTime = existing?.status === condition.status && existing.lastTransitionTime ? existing.lastTransitionTime : this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const written: StatusCondition = { type: ACCEPTED_CONDITION, ...condition, lastTransitionTime };
    const others = (current.body?.status?.conditions ?? []).filter((c) => c.type !== ACCEPTED_CONDITION);
    await this.options.api.patch(path, { status: { observedGeneration: condition.observedGeneration, conditions: [...others, written] } }, PatchType.merge, signal);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
