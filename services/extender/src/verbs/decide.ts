import type { AttemptResult, NodeLookup } from '@schedmesh/mesh';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { VerbDeps } from './deps.js';

/** What a verb decides about. */
export interface DecideRequest {
  readonly pod: Pod;
  /** The nodes kube-scheduler named. */
  readonly nodeNames: readonly string[];
  /** Node objects for the gateway's REST plugins (default: the replica's). */
  readonly nodes?: NodeLookup;
  /** Whether to search for preemption candidates among those nodes when none fits as is. */
  readonly preempt: boolean;
  /** Whether the nodes need scores (prioritize) or only a verdict (filter, preempt). */
  readonly score: boolean;
}

/** The decision over the nodes named. */
export interface Decision {
  /** The attempt over the nodes schedmesh holds; undefined when it holds none of them. */
  readonly out: AttemptResult | undefined;
  /** Named nodes schedmesh does not hold even after the bounded wait, each with why. */
  readonly unknown: ReadonlyMap<string, string>;
}

/**
 * The decision filter, prioritize and preempt answer from: the attempt in
 * mode dryRun (no lease, no write) over the named nodes, every one of them
 * ranked, at a generation that covers them. A named node the mesh has not
 * seen yet is waited for (bounded), then left out with a reason.
 */
export async function decide(deps: VerbDeps, req: DecideRequest, signal: AbortSignal): Promise<Decision> {
  const covered = await deps.coverNodes(req.pod, req.nodeNames, signal);
  const why = `node is not in schedmesh's cluster state: it did not arrive on the cluster stream within ${deps.nodeWaitMs} ms`;
  const unknown = new Map(covered.missing.map((n) => [n, why]));
  const nodeNames = unknown.size === 0 ? req.nodeNames : req.nodeNames.filter((n) => !unknown.has(n));
  if (nodeNames.length === 0) return { out: undefined, unknown };
  const out = await deps.attempt(req.nodes ?? deps.replicaNode).run({
    pod: req.pod,
    profile: deps.profile,
    minGeneration: covered.generation,
    mode: 'dryRun',
    // The filter verb leaves preemption to kube-scheduler, which ignores what a filter would say of it.
    preempt: req.preempt,
    nodeNames,
    maxRanked: nodeNames.length,
    // Scores are mapped from totals; per-plugin scores for thousands of nodes would dominate the reply.
    totalsOnly: true,
    filterOnly: !req.score,
    maxCandidates: nodeNames.length,
    signal,
  });
  return { out, unknown };
}
