import type { Attributes, Span } from '@opentelemetry/api';
import type { EvaluateResult } from '@schedmesh/scheduling';

/** A span event: its name and attributes. */
export interface CycleEvent {
  readonly name: string;
  readonly attributes: Attributes;
}

/**
 * What one Evaluate did, as span events bounded by the number of plugins,
 * never by the number of nodes: one `plugin.prefilter.rejected` for a
 * PreFilter that rejected the pod, one `plugin.filter.rejected` per Filter
 * plugin that rejected nodes (how many, and its most frequent reason), and
 * one `plugin.score` per Score plugin (its range over every node scored).
 */
export function cycleEvents(result: EvaluateResult): CycleEvent[] {
  const events: CycleEvent[] = [];
  const pre = result.preFilterStatus;
  if (pre) events.push({ name: 'plugin.prefilter.rejected', attributes: { 'schedmesh.plugin': pre.plugin, 'schedmesh.reason': pre.message() } });
  const byPlugin = new Map<string, Map<string, number>>();
  for (const { status } of result.rejected) {
    const reasons = byPlugin.get(status.plugin) ?? new Map<string, number>();
    const reason = status.message();
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    byPlugin.set(status.plugin, reasons);
  }
  for (const [plugin, reasons] of byPlugin) {
    let nodes = 0;
    let top = ['', 0] as [string, number];
    for (const [reason, count] of reasons) {
      nodes += count;
      if (count > top[1]) top = [reason, count];
    }
    events.push({ name: 'plugin.filter.rejected', attributes: { 'schedmesh.plugin': plugin, 'schedmesh.nodes_rejected': nodes, 'schedmesh.reason': top[0], 'schedmesh.reasons': reasons.size } });
  }
  for (const s of result.scoreSummary) {
    events.push({
      name: 'plugin.score',
      attributes: { 'schedmesh.plugin': s.plugin, 'schedmesh.weight': s.weight, 'schedmesh.nodes_scored': s.nodes, 'schedmesh.score.min': s.min, 'schedmesh.score.max': s.max, 'schedmesh.score.mean': Math.round(s.mean * 100) / 100 },
    });
  }
  return events;
}

/** Records an Evaluate's outcome on its span: the counts as attributes, {@link cycleEvents} as events. */
export function recordCycle(span: Span, generation: number, result: EvaluateResult): void {
  span.setAttributes({
    'schedmesh.generation': generation,
    'schedmesh.nodes_considered': result.numAllNodes,
    'schedmesh.nodes_evaluated': result.nodesEvaluated,
    'schedmesh.nodes_feasible': result.feasible.length,
    'schedmesh.nodes_rejected': result.rejected.length,
  });
  for (const event of cycleEvents(result)) span.addEvent(event.name, event.attributes);
}
