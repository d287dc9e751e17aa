/** filterscore as the attempt's Filter and Score: one batched Evaluate for every node. */
import { Status } from '@schedmesh/framework';
import type { NodeScore, Pod, PodRef } from '@schedmesh/proto/v1/types';
import type { FilterScoreClient } from '../clients.js';
import { statusFrom } from './status.js';

/** The plugin name a cycle-wide filterscore rejection carries when the service names none. */
export const FILTERSCORE_PLUGIN = 'SchedmeshFilterScore';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  readonly profile: string;
  /** The generation the pod was seen at: filterscore waits (bounded) until its replica has it. */
  readonly minGeneration: number;
  /** Only these nodes (an admission subset); absent means every node. */
  readonly nodeNames?: readonly string[];
  /** How many ranked nodes to return (Reserve falls back along them). */
  readonly maxRanked: number;
  /** Filter every node of `nodeNames` rather than stopping once enough are feasible. */
  readonly exhaustive?: boolean;
  /** Leave each ranked node's per-plugin scores out (only the totals are read). */
  readonly totalsOnly?: boolean;
  /** Filter only: the feasible nodes come back unscored. */
  readonly skipScore?: boolean;
}

/** Filter and Score in one reply. */
export interface Evaluation {
  /** Success with ranked nodes, or a rejection of every node with the kube-scheduler style summary. */
  readonly status: Status;
  /** Feasible nodes, best first. */
  readonly ranked: readonly NodeScore[];
  /** How many nodes were filtered out (for the event and GetSchedulingStatus). */
  readonly rejectedCount: number;
  /** The nodes filtered out, each with its reason (Unschedulable, or Unresolvable when no preemption can help). */
  readonly rejected: readonly { readonly nodeName: string; readonly status: Status }[];
  /** The snapshot generation the decision was made on. */
  readonly generation: number;
  /** "0/N nodes are available: …" when nothing fits. */
  readonly summary: string;
  readonly nodesEvaluated: number;
}

/** Runs PreFilter, Filter, PreScore, Score and NormalizeScore remotely. */
export async function evaluate(client: FilterScoreClient, pod: Pod, options: EvaluateOptions, signal: AbortSignal): Promise<Evaluation> {
  const res = await client.evaluate(
    {
      pod,
      options: { profile: options.profile, minGeneration: options.minGeneration, nodeNames: [...(options.nodeNames ?? [])] },
      maxRanked: options.maxRanked,
      exhaustive: options.exhaustive ?? false,
      totalsOnly: options.totalsOnly ?? false,
      skipScore: options.skipScore ?? false,
    },
    { signal },
  );
  const rejected = res.rejected.map((r) => ({ nodeName: r.nodeName, status: statusFrom(r.status, FILTERSCORE_PLUGIN) }));
  const base = { ranked: res.ranked, rejectedCount: res.rejected.length, rejected, generation: res.generation, summary: res.summary, nodesEvaluated: res.nodesEvaluated };
  const pre = statusFrom(res.preFilterStatus, FILTERSCORE_PLUGIN);
  if (pre.isRejected() || pre.isError()) return { ...base, status: res.summary ? Status.of(pre.code, res.summary).withPlugin(pre.plugin) : pre };
  if (res.ranked.length === 0) {
    // Unresolvable only when every node's reason is: then preemption cannot help.
    const unresolvable = rejected.length > 0 && rejected.every((r) => r.status.code === Status.unresolvable().code);
    const summary = res.summary || '0/0 nodes are available';
    return { ...base, status: (unresolvable ? Status.unresolvable(summary) : Status.unschedulable(summary)).withPlugin(FILTERSCORE_PLUGIN) };
  }
  return { ...base, status: Status.SUCCESS };
}

/** The plugin name preemption's statuses carry (upstream's PostFilter plugin). */
export const PREEMPTION_PLUGIN = 'DefaultPreemption';

/** Options of {@link findPreemptionCandidates}. */
export interface PreemptionSearchOptions {
  readonly profile: string;
  /** The generation the filters ran at: the search sees at least that snapshot. */
  readonly minGeneration: number;
  /** Only these nodes; absent means every node. */
  readonly nodeNames?: readonly string[];
  /** The most candidates wanted; 0 = the service default. */
  readonly maxCandidates: number;
}

/** A pod preemption would evict. */
export interface PreemptionVictim {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly priority: number;
}

/** A node and the pods to evict there so the preemptor fits. */
export interface PreemptionCandidate {
  readonly nodeName: string;
  readonly victims: readonly PreemptionVictim[];
  readonly numPdbViolations: number;
  /** Lower-priority pods nominated to the node: their nominations are cleared when the preemptor takes it. */
  readonly lowerPriorityNominated: readonly PodRef[];
}

/** The PostFilter search's reply. */
export interface PreemptionSearch {
  /** Success with at least one candidate; Unschedulable (with the search's summary) when there is none. */
  readonly status: Status;
  /** Best first: fewest PDB violations, then in filterscore's order. */
  readonly candidates: readonly PreemptionCandidate[];
  readonly generation: number;
  /** The search ran and found no candidate: a nomination the pod holds is stale. */
  readonly clearNomination: boolean;
}

/** The PostFilter search as a dry run: nodes where evicting lower-priority pods would let the pod fit. */
export async function findPreemptionCandidates(client: FilterScoreClient, pod: Pod, options: PreemptionSearchOptions, signal: AbortSignal): Promise<PreemptionSearch> {
  const res = await client.findPreemptionCandidates(
    {
      pod,
      options: { profile: options.profile, minGeneration: options.minGeneration, nodeNames: [...(options.nodeNames ?? [])] },
      maxCandidates: options.maxCandidates,
    },
    { signal },
  );
  const candidates = res.candidates
    .map((c) => ({
      nodeName: c.nodeName,
      numPdbViolations: c.numPdbViolations,
      victims: c.victims.map((v) => ({ namespace: v.pod?.namespace ?? '', name: v.pod?.name ?? '', uid: v.pod?.uid ?? '', priority: v.priority })),
      lowerPriorityNominated: c.lowerPriorityNominated,
    }))
    // A stable sort: among equal violations filterscore's order (upstream pickOneNodeForPreemption) stands.
    .sort((a, b) => a.numPdbViolations - b.numPdbViolations);
  const status = candidates.length > 0 ? Status.SUCCESS : Status.unschedulable(res.summary || 'preemption: no candidate node').withPlugin(PREEMPTION_PLUGIN);
  return { status, candidates, generation: res.generation, clearNomination: res.clearNomination };
}
