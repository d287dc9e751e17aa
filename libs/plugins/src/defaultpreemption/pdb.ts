/**
 * Which potential victims a PodDisruptionBudget does not let go (upstream
 * defaultpreemption filterPodsWithPDBViolation): each budget's
 * disruptionsAllowed is spent, in the given order, on the pods it selects;
 * a pod that takes some budget below zero violates it.
 */
import type { PodInfo } from '@schedmesh/framework';
import { labelSelectorMatches } from '@schedmesh/model';
import type { PodDisruptionBudget } from '@schedmesh/proto/v1/types';

/** The potential victims split by whether evicting them (in this order) would violate a budget; each part keeps the order given. */
export interface PdbSplit {
  readonly violating: PodInfo[];
  readonly nonViolating: PodInfo[];
}

// Preemption reads a budget without a selector, or with an empty one, as selecting nothing.
function selects(pdb: PodDisruptionBudget, pod: PodInfo['pod']): boolean {
  const s = pdb.selector;
  if (s === undefined || (Object.keys(s.matchLabels).length === 0 && s.matchExpressions.length === 0)) return false;
  return labelSelectorMatches(s, pod.labels);
}

/** Splits pods (most important first) into those that would violate a budget and those that would not. */
export function filterPodsWithPdbViolation(pods: readonly PodInfo[], pdbs: readonly PodDisruptionBudget[]): PdbSplit {
  const allowed = pdbs.map((p) => p.disruptionsAllowed);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const info of pods) {
    const pod = info.pod;
    let violated = false;
    // A pod without labels matches no budget.
    if (Object.keys(pod.labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if (pdb.namespace !== pod.namespace || !selects(pdb, pod)) return;
        // The API server already counted an eviction it granted: do not spend the budget twice.
        if (pdb.disruptedPods.includes(pod.name)) return;
        allowed[i] = (allowed[i] ?? 0) - 1;
        if ((allowed[i] ?? 0) < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(info);
  }
  return { violating, nonViolating };
}
