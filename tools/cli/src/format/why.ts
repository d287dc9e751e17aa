/** `schedmesh why` as text. */
import type { WhyView } from '../views.js';
import { renderExplanation } from './explanation.js';
import { renderFields } from './table.js';

const STATE_TEXT: Record<WhyView['state'], string> = {
  active: 'pending: waiting in the active queue',
  backoff: 'pending: backing off after a failed attempt',
  unschedulable: 'pending: parked until a cluster event may make it schedulable',
  'in-flight': 'being scheduled now (or held at Permit)',
  bound: 'bound',
  unknown: 'not in the queue',
};

const LAST_RESULT_TEXT: Record<WhyView['lastResult'], string> = {
  scheduled: 'scheduled',
  unschedulable: 'unschedulable',
  rejected: 'rejected',
  error: 'failed on a service (the pod backs off and is retried; see the message and the trace)',
  none: '',
};

export function renderWhy(view: WhyView): string {
  const e = view.explanation;
  const fields = renderFields([
    ['Pod', view.pod],
    ['State', `${STATE_TEXT[view.state]} (attempts: ${view.attempts})`],
    ['Node', view.node],
    ['Last attempt', LAST_RESULT_TEXT[view.lastResult]],
    ['Decided by', e?.decidedBy ?? ''],
    ['Admission policies', e?.admissionPolicies.join(', ') ?? ''],
    ['Message', view.message],
    ['Backoff until', view.backoffUntil ?? ''],
    ['Trace', view.traceUrl],
  ]);
  if (!e) return `${fields}\n\nThe scheduler no longer keeps this pod's last attempt in detail; it will after the next one.\n`;
  const tables = renderExplanation(e, view.node);
  return tables ? `${fields}\n\n${tables}\n` : `${fields}\n`;
}
