/**
 * Why an attempt ended as it did, in a bounded size an operator can read
 * (`schedmesh why`): the per-node rejections grouped by reason as
 * kube-scheduler's FailedScheduling event groups them, a few nodes named per
 * reason, the best-scored nodes with every plugin's score, and the plugin or
 * admission policy that decided.
 */
import { FILTERSCORE_PLUGIN } from '@schedmesh/mesh';
import type { AttemptResult } from '@schedmesh/mesh';
import { StatusCode } from '@schedmesh/framework';
import { AttemptExplanation } from '@schedmesh/proto/v1/scheduler';

/** How much of an attempt an explanation keeps. */
export interface ExplanationBounds {
  /** Reasons kept, the most frequent (default 16). */
  readonly maxReasons: number;
  /** Nodes named per reason (default 5). */
  readonly nodesPerReason: number;
  /** Best-scored nodes kept (default 3). */
  readonly topNodes: number;
}

export const DEFAULT_EXPLANATION_BOUNDS: ExplanationBounds = { maxReasons: 16, nodesPerReason: 5, topNodes: 3 };

/** One reason as it is counted. */
interface ReasonTally {
  readonly reason: string;
  count: number;
  resolvable: boolean;
  readonly plugin: string;
  readonly nodes: string[];
}

/** The explanation of one attempt's result. */
export function explainAttempt(result: AttemptResult, bounds: ExplanationBounds = DEFAULT_EXPLANATION_BOUNDS): AttemptExplanation {
  // One pass over the rejections (a large cluster rejects thousands of nodes on every attempt):
  // counts as upstream's aggregateReasons counts them, the first plugin and the first few nodes of each reason.
  const tallies = new Map<string, ReasonTally>();
  for (const [node, status] of result.rejectedNodes) {
    const resolvable = status.code === StatusCode.Unschedulable;
    for (const reason of status.reasons) {
      let tally = tallies.get(reason);
      if (!tally) tallies.set(reason, (tally = { reason, count: 0, resolvable: false, plugin: status.plugin, nodes: [] }));
      tally.count++;
      tally.resolvable ||= resolvable;
      if (tally.nodes.length < bounds.nodesPerReason) tally.nodes.push(node);
    }
  }
  // Past the bound, the most frequent reasons stay; they are listed in the event's order, which sorts "<count> <reason>" as strings.
  const kept = [...tallies.values()].sort((a, b) => b.count - a.count).slice(0, bounds.maxReasons);
  const eventOrder = (t: ReasonTally): string => `${t.count} ${t.reason}`;
  kept.sort((a, b) => (eventOrder(a) < eventOrder(b) ? -1 : eventOrder(a) > eventOrder(b) ? 1 : 0));

  return AttemptExplanation.fromPartial({
    rejectedNodeCount: result.rejectedNodes.size,
    reasons: kept.map((t) => ({ reason: t.reason, nodeCount: t.count, nodeNames: t.nodes, plugin: t.plugin, resolvable: t.resolvable })),
    topNodes: result.ranked.slice(0, bounds.topNodes),
    decidedBy: decidedBy(result, kept),
    admissionPolicies: [...result.admissionPolicies],
  });
}

/**
 * The plugin behind an attempt that did not place the pod: its deciding
 * status's, or, when no node passed filterscore's filters (a status of the
 * filters as a whole), every plugin that rejected a node, the most rejections
 * first — as kube-scheduler's unschedulable plugins.
 */
function decidedBy(result: AttemptResult, reasons: readonly ReasonTally[]): string {
  if (result.outcome === 'scheduled') return '';
  if (result.status.plugin !== FILTERSCORE_PLUGIN || reasons.length === 0) return result.status.plugin;
  const plugins = [...reasons].sort((a, b) => b.count - a.count).map((r) => r.plugin);
  return [...new Set(plugins)].join(', ');
}
