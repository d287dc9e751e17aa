import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { AdmissionPolicy, ClusterEvent } from '@schedmesh/proto/v1/types';
import { GenerationGate } from '@schedmesh/runtime';
import { compilePolicy, policyKey } from './policy.js';
import type { CompiledPolicy, NamespaceView, PolicyIssue } from './policy.js';

/** A policy version that was refused, and what stayed in force instead. */
export interface PolicyRefusal {
  readonly key: string;
  readonly generation: number;
  readonly resourceVersion: string;
  readonly issues: readonly [PolicyIssue, ...PolicyIssue[]];
  /** The version still in force (the previous valid one), if any. */
  readonly inForce: CompiledPolicy | undefined;
}

/** What applying one stream event did. */
export type StoreChange =
  | { readonly kind: 'policy-applied'; readonly policy: CompiledPolicy; readonly object: AdmissionPolicy }
  | { readonly kind: 'policy-refused'; readonly refusal: PolicyRefusal; readonly object: AdmissionPolicy }
  | { readonly kind: 'policy-deleted'; readonly key: string }
  | { readonly kind: 'namespace' }
  | { readonly kind: 'other' };

/** Options of {@link PolicyStore}. */
export interface PolicyStoreOptions {
  /** Server-side limit of a min_generation wait, in ms (default 10 s). */
  maxWaitMs?: number;
}

/**
 * The policies in force and the namespaces they match on, fed by the cluster
 * stream. A policy version is applied whole or not at all: an invalid version
 * is recorded as refused and the previous valid version stays in force.
 * Knows nothing of gRPC or NATS.
 */
export class PolicyStore {
  private readonly policyMap = new Map<string, CompiledPolicy>();
  private readonly namespaceMap = new Map<string, NamespaceView>();
  private readonly refusalMap = new Map<string, PolicyRefusal>();
  private sorted: readonly CompiledPolicy[] = [];
  /**
   * The stream sequence applied, waits for a later one (Admit's
   * min_generation), and whether the store holds everything the stream held:
   * no decision is made on policies known to be stale.
   */
  readonly gate: GenerationGate;

  constructor(options: PolicyStoreOptions = {}) {
    this.gate = new GenerationGate({
      name: 'the admission policy store',
      source: 'the cluster stream (NATS unreachable or resyncing)',
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    });
  }

  /** The stream sequence of the last event applied. */
  get generation(): number {
    return this.gate.generation;
  }

  /** The policies in force, ordered by key (evaluation order). */
  policies(): readonly CompiledPolicy[] {
    return this.sorted;
  }

  /** A policy in force. */
  policy(key: string): CompiledPolicy | undefined {
    return this.policyMap.get(key);
  }

  /** The refused versions still outstanding (a later valid version or a deletion clears one). */
  refusals(): readonly PolicyRefusal[] {
    return [...this.refusalMap.values()];
  }

  /** A namespace seen on the stream. */
  namespace(name: string): NamespaceView | undefined {
    return this.namespaceMap.get(name);
  }

  /** Applies one stream event. Events of kinds admission does not read only advance the generation. */
  apply(event: ClusterEvent): StoreChange {
    const change = this.applyObject(event);
    this.gate.advance(event.generation);
    return change;
  }

  /**
   * Puts a version in force that the stream no longer holds (the last valid
   * version, restored from the last-known-good store when the stream's only
   * version is invalid). Ignored if a version is already in force.
   */
  restore(policy: CompiledPolicy): boolean {
    if (this.policyMap.has(policy.key)) return false;
    this.setPolicy(policy);
    const refusal = this.refusalMap.get(policy.key);
    if (refusal) this.refusalMap.set(policy.key, { ...refusal, inForce: policy });
    return true;
  }

  private applyObject(event: ClusterEvent): StoreChange {
    const object = event.object;
    const deleted = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    switch (object?.$case) {
      case 'admissionPolicy': {
        const key = policyKey(object.value);
        if (deleted) {
          this.policyMap.delete(key);
          this.refusalMap.delete(key);
          this.resort();
          return { kind: 'policy-deleted', key };
        }
        const result = compilePolicy(object.value);
        if (!result.ok) {
          const refusal: PolicyRefusal = {
            key,
            generation: object.value.generation,
            resourceVersion: object.value.resourceVersion,
            issues: result.issues,
            inForce: this.policyMap.get(key),
          };
          this.refusalMap.set(key, refusal);
          return { kind: 'policy-refused', refusal, object: object.value };
        }
        this.refusalMap.delete(key);
        this.setPolicy(result.policy);
        return { kind: 'policy-applied', policy: result.policy, object: object.value };
      }
      case 'namespace': {
        const ns = object.value;
        if (deleted) this.namespaceMap.delete(ns.name);
        else this.namespaceMap.set(ns.name, { name: ns.name, labels: ns.labels, annotations: ns.annotations });
        return { kind: 'namespace' };
      }
      default:
        return { kind: 'other' };
    }
  }

  private setPolicy(policy: CompiledPolicy): void {
    this.policyMap.set(policy.key, policy);
    this.resort();
  }

  private resort(): void {
    this.sorted = [...this.policyMap.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Drops everything (the stream was recreated); the store is out of sync until it is rebuilt. */
  reset(): void {
    this.policyMap.clear();
    this.namespaceMap.clear();
    this.refusalMap.clear();
    this.sorted = [];
    this.gate.reset();
  }
}
