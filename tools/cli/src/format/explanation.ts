/** The tables of an attempt's explanation, shared by `why` and `schedule`. */
import type { ExplanationView, NodeScoreView, ReasonView } from '../views.js';
import { renderTable } from './table.js';

/** The nodes named for a reason, with how many more there were. */
export function examplesCell(reason: ReasonView): string {
  const more = reason.nodes - reason.examples.length;
  return more > 0 ? `${reason.examples.join(', ')}, … (+${more})` : reason.examples.join(', ');
}

/** The rejections grouped by reason, as kube-scheduler's FailedScheduling event counts them. */
export function renderReasons(explanation: ExplanationView): string {
  const rows = explanation.reasons.map((r) => [r.reason, String(r.nodes), r.plugin, r.resolvable ? 'yes' : 'no', examplesCell(r)]);
  return `Rejected nodes (${explanation.rejectedNodes}):\n${renderTable(['REASON', 'NODES', 'PLUGIN', 'PREEMPTION MAY HELP', 'NODES NAMED'], rows)}`;
}

/**
 * The best-scored nodes: the total, then a column per plugin (its weight in
 * the header) with its normalized score; `chosen` is marked.
 */
export function renderTopNodes(nodes: readonly NodeScoreView[], chosen = ''): string {
  const plugins = new Map<string, number>();
  for (const n of nodes) for (const p of n.plugins) if (!plugins.has(p.plugin)) plugins.set(p.plugin, p.weight);
  const headers = ['NODE', 'TOTAL', ...[...plugins].map(([name, weight]) => `${name} ×${weight}`)];
  const rows = nodes.map((n) => {
    const scores = new Map(n.plugins.map((p) => [p.plugin, p.weight === plugins.get(p.plugin) ? String(p.score) : `${p.score} ×${p.weight}`]));
    return [n.node === chosen ? `${n.node} (chosen)` : n.node, String(n.total), ...[...plugins.keys()].map((name) => scores.get(name) ?? '-')];
  });
  return `Top-scored nodes:\n${renderTable(headers, rows)}`;
}

/** Both tables, each only when it has rows. */
export function renderExplanation(explanation: ExplanationView, chosen = ''): string {
  const parts: string[] = [];
  if (explanation.reasons.length > 0) parts.push(renderReasons(explanation));
  if (explanation.topNodes.length > 0) parts.push(renderTopNodes(explanation.topNodes, chosen));
  return parts.join('\n\n');
}
