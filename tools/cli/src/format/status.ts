/** `schedmesh status` as text. */
import type { StatusView } from '../views.js';
import { renderTable } from './table.js';

export function renderStatus(view: StatusView): string {
  const services = renderTable(
    ['SERVICE', 'ADDRESS', 'HEALTH', 'GENERATION', 'DETAIL'],
    view.services.map((s) => [s.service, s.address, s.health, s.generation === undefined ? '-' : String(s.generation), s.detail]),
  );
  if (!view.queues) {
    const why = view.services.some((s) => s.service === 'scheduler') ? 'the scheduler did not answer' : 'the scheduler was not asked';
    return `${services}\n\nScheduler queues: unknown (${why})\n`;
  }
  const q = view.queues;
  const queues = renderTable(
    ['QUEUE', 'PODS'],
    [
      ['active', String(q.active)],
      ['backoff', String(q.backoff)],
      ['unschedulable', String(q.unschedulable)],
      ['in-flight', String(q.inFlight)],
    ],
  );
  return `${services}\n\nScheduler queues:\n${queues}\n\nPods whose last attempt the scheduler keeps: ${q.recordedPods}\n`;
}
