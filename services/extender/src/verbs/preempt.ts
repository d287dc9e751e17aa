/**
 * The preempt verb: kube-scheduler's DefaultPreemption has picked, per node,
 * the pods it would evict for the preemptor; schedmesh answers with the nodes
 * it agrees to, from the same dry run its own scheduler's PostFilter uses
 * (the attempt in mode dryRun: admission, then filterscore's filters and
 * preemption candidates over the nodes proposed).
 *
 * - A node where schedmesh's candidate evicts only pods kube-scheduler
 *   proposed is kept, with schedmesh's victims (the same or fewer) and its
 *   PodDisruptionBudget count.
 * - A node where the pod already passes schedmesh's filters is kept with
 *   kube-scheduler's victims as proposed (kube-scheduler's own filters need
 *   them gone; schedmesh has nothing to add).
 * - Every other node is dropped: admission or a filter rejects the pod there,
 *   or schedmesh would have to evict a pod kube-scheduler did not propose.
 *   A victim is never added.
 *
 * The reply always names victims by UID (NodeNameToMetaVictims), as upstream's
 * ProcessPreemption expects whatever nodeCacheCapable says.
 */
import type { PreemptionCandidate } from '@schedmesh/mesh';
import type { ExtenderPreemptionArgs, ExtenderPreemptionResult, MetaVictims, ProposedVictims } from '../wire.js';
import { decide } from './decide.js';
import type { VerbDeps } from './deps.js';
import { VerbUnavailableError } from './errors.js';

/** Answers ExtenderPreemptionArgs; a service failure is a VerbUnavailableError (the result has no Error field). */
export async function preemptVerb(deps: VerbDeps, args: ExtenderPreemptionArgs, signal: AbortSignal): Promise<ExtenderPreemptionResult> {
  const kept: Record<string, MetaVictims> = {};
  // A node without victims is no candidate: upstream rejects such an answer.
  const proposed = new Map([...args.victims].filter(([, v]) => v.uids.length > 0));
  if (proposed.size === 0) return { NodeNameToMetaVictims: kept };
  const { out } = await decide(deps, { pod: args.pod, nodeNames: [...proposed.keys()], preempt: true, score: false }, signal);
  if (out?.outcome === 'error') throw new VerbUnavailableError(`schedmesh could not check the preemption: ${out.message}`);
  if (out?.outcome === 'scheduled') {
    for (const r of out.ranked) {
      const v = proposed.get(r.nodeName);
      if (v) kept[r.nodeName] = metaVictims(v.uids, v.numPdbViolations);
    }
  } else {
    for (const c of out?.candidates ?? []) {
      const v = proposed.get(c.nodeName);
      if (v && evictsOnlyProposed(c, v)) kept[c.nodeName] = metaVictims(c.victims.map((p) => p.uid), c.numPdbViolations);
    }
  }
  deps.logger.debug({ pod: `${args.pod.namespace}/${args.pod.name}`, proposed: proposed.size, kept: Object.keys(kept).length, outcome: out?.outcome }, 'preempt answered');
  return { NodeNameToMetaVictims: kept };
}

function evictsOnlyProposed(candidate: PreemptionCandidate, proposed: ProposedVictims): boolean {
  const allowed = new Set(proposed.uids);
  return candidate.victims.length > 0 && candidate.victims.every((p) => allowed.has(p.uid));
}

function metaVictims(uids: readonly string[], numPdbViolations: number): MetaVictims {
  return { Pods: uids.map((UID) => ({ UID })), NumPDBViolations: numPdbViolations };
}
