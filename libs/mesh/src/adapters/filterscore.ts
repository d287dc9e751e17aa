/** filterscore as the attempt's Filter and Score: one batched Evaluate for every node. */
import { Status } from '@schedmesh/framework';
import type { NodeScore, Pod } from '@schedmesh/proto/v1/types';
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
