/**
 * Why an attempt ended as it did, in a bounded size an operator can read
 * (`schedmesh why`): the per-node rejections grouped by reason as
 * kube-scheduler's FailedScheduling event groups them, a few nodes named per
 * reason, the best-scored nodes with every plugin's score, and the plugin or
 * admission policy that decided.
 */
import { FILTERSCORE_PLUGIN } from '@schedmesh/mesh';
import type { AttemptResult } from '@schedmesh/mesh';
import { AttemptExplanation } from '@schedmesh/proto/v1/scheduler';
import { aggregateReasons, Diagnosis } from '@schedmesh/scheduling';

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

/** The explanation of one attempt's result. */
export function explainAttempt(result: AttemptResult, bounds: ExplanationBounds = DEFAULT_EXPLANATION_BOUNDS): AttemptExplanation {
  const diagnosis = new Diagnosis();
  for (const [node, status] of result.rejectedNodes) diagnosis.set(node, status);
  const all = aggregateReasons(diagnosis, result.rejectedNodes.size);
  // Past the bound, the most frequent reasons stay, listed in the event's order (which sorts counts as strings).
  const kept = new Set([...all].sort((a, b) => b.count - a.count).slice(0, bounds.maxReasons));
  const reasons = all.filter((r) => kept.has(r));

  // One pass over the rejections names the first few nodes and the plugin of each kept reason.
  const named = new Map(reasons.map((r) => [r.reason, { nodes: [] as string[], plugin: '' }]));
  for (const [node, status] of result.rejectedNodes) {
    for (const reason of status.reasons) {
      const entry = named.get(reason);
      if (!entry) continue;
      if (entry.plugin === '') entry.plugin = status.plugin;
      if (entry.nodes.length < bounds.nodesPerReason) entry.nodes.push(node);
    }
  }

  return AttemptExplanation.fromPartial({
    rejectedNodeCount: result.rejectedNodes.size,
    reasons: reasons.map((r) => ({ reason: r.reason, nodeCount: r.count, nodeNames: named.get(r.reason)!.nodes, plugin: named.get(r.reason)!.plugin, resolvable: r.resolvable })),
    topNodes: result.ranked.slice(0, bounds.topNodes),
    decidedBy: decidedBy(result, reasons.map((r) => ({ count: r.count, plugin: named.get(r.reason)!.plugin }))),
    admissionPolicies: [...result.admissionPolicies],
  });
}

/**
 * The plugin behind an attempt that did not place the pod: its deciding
 * status's, or, when no node passed filterscore's filters (a status of the
 * filters as a whole), every plugin that rejected a node, the most rejections
 * first — as kube-scheduler's unschedulable plugins.
 */
function decidedBy(result: AttemptResult, reasons: readonly { count: number; plugin: string }[]): string {
  if (result.outcome === 'scheduled') return '';
  if (result.status.plugin !== FILTERSCORE_PLUGIN || reasons.length === 0) return result.status.plugin;
  const plugins = [...reasons].sort((a, b) => b.count - a.count).map((r) => r.plugin);
  return [...new Set(plugins)].join(', ');
}
