/** `schedmesh schedule --dry-run` as text. */
import type { ScheduleView } from '../views.js';
import { renderExplanation } from './explanation.js';
import { renderFields, renderTable } from './table.js';

export function renderSchedule(view: ScheduleView): string {
  const e = view.explanation;
  const fields = renderFields([
    ['Pod', `${view.pod} (dry run: nothing reserved, nothing bound)`],
    ['Result', view.result],
    ['Node', view.node],
    ['Nominated node', view.nominatedNode],
    ['Decided by', e.decidedBy],
    ['Admission policies', e.admissionPolicies.join(', ')],
    ['Message', view.message],
    ['Generation', String(view.generation)],
    ['Trace', view.traceUrl],
  ]);
  const steps = renderTable(
    ['POINT', 'PLUGIN', 'STATUS', 'MS', 'REASONS'],
    view.steps.map((s) => [s.point, s.plugin, s.code, s.durationMs.toFixed(1), s.reasons.join('; ')]),
  );
  const tables = renderExplanation(e, view.node);
  return `${fields}\n\n${tables ? `${tables}\n\n` : ''}Steps:\n${steps}\n`;
}
