import { describe, expect, test } from '@jest/globals';
import { GetSchedulingStatusResponse, QueueState, ScheduleResponse, ScheduleResult } from '@schedmesh/proto/v1/scheduler';
import { Code, ExtensionPoint } from '@schedmesh/proto/v1/types';
import { renderSchedule } from './format/schedule.js';
import { renderStatus } from './format/status.js';
import { renderWhy } from './format/why.js';
import { scheduleView, whyView } from './views.js';

const JAEGER = 'http://jaeger.example:16686';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

const pending = GetSchedulingStatusResponse.fromPartial({
  state: QueueState.QUEUE_STATE_UNSCHEDULABLE,
  attempts: 2,
  message: '0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu.',
  lastTraceId: TRACE,
  lastResult: ScheduleResult.SCHEDULE_RESULT_UNSCHEDULABLE,
  lastExplanation: {
    rejectedNodeCount: 3,
    reasons: [
      { reason: 'node(s) had untolerated taint(s)', nodeCount: 1, nodeNames: ['gpu-0'], plugin: 'TaintToleration', resolvable: false },
      { reason: 'Insufficient cpu', nodeCount: 2, nodeNames: ['n1', 'n2'], plugin: 'NodeResourcesFit', resolvable: true },
    ],
    decidedBy: 'NodeResourcesFit',
  },
});

describe('why', () => {
  test('a pending pod: its state, the deciding plugin, the message, the trace link and the grouped reasons', () => {
    const view = whyView('shop/big', pending, JAEGER);
    expect(view).toMatchObject({ pod: 'shop/big', state: 'unschedulable', lastResult: 'unschedulable', traceUrl: `${JAEGER}/trace/${TRACE}` });
    const text = renderWhy(view);
    expect(text).toMatch(/^State:\s+pending: parked until a cluster event may make it schedulable \(attempts: 2\)$/m);
    expect(text).toMatch(/^Decided by:\s+NodeResourcesFit$/m);
    expect(text).toContain(`${JAEGER}/trace/${TRACE}`);
    expect(text).toMatch(/^Insufficient cpu\s+2\s+NodeResourcesFit\s+yes\s+n1, n2$/m);
    expect(text).not.toContain('Top-scored nodes');
  });

  test('a bound pod: its node, marked among the top-scored nodes', () => {
    const bound = GetSchedulingStatusResponse.fromPartial({
      state: QueueState.QUEUE_STATE_BOUND,
      attempts: 1,
      nodeName: 'n2',
      lastTraceId: TRACE,
      lastResult: ScheduleResult.SCHEDULE_RESULT_SCHEDULED,
      lastExplanation: { topNodes: [{ nodeName: 'n2', total: 70, plugins: [{ plugin: 'NodeResourcesFit', score: 70, weight: 1 }] }], admissionPolicies: ['shop/tenants'] },
    });
    const text = renderWhy(whyView('shop/web', bound, JAEGER));
    expect(text).toMatch(/^Node:\s+n2$/m);
    expect(text).toMatch(/^Admission policies:\s+shop\/tenants$/m);
    expect(text).toMatch(/^n2 \(chosen\)\s+70\s+70$/m);
    expect(text).not.toContain('Decided by');
  });

  test('a last attempt that failed on a service says so, and that the pod is retried', () => {
    const failed = GetSchedulingStatusResponse.fromPartial({ state: QueueState.QUEUE_STATE_BACKOFF, attempts: 3, lastResult: ScheduleResult.SCHEDULE_RESULT_ERROR, message: 'filterscore: UNAVAILABLE' });
    const view = whyView('a/b', failed, JAEGER);
    expect(view).toMatchObject({ state: 'backoff', lastResult: 'error' });
    expect(renderWhy(view)).toMatch(/^Last attempt:\s+failed on a service \(the pod backs off and is retried; see the message and the trace\)$/m);
  });

  test('an explanation the scheduler no longer keeps is said so', () => {
    const text = renderWhy(whyView('a/b', GetSchedulingStatusResponse.fromPartial({ state: QueueState.QUEUE_STATE_BOUND, nodeName: 'n1', attempts: 1 }), JAEGER));
    expect(text).toContain("no longer keeps this pod's last attempt in detail");
    expect(text).not.toContain('Trace:');
  });
});

describe('schedule --dry-run', () => {
  test('the decision, the steps with their status and the trace link', () => {
    const response = ScheduleResponse.fromPartial({
      result: ScheduleResult.SCHEDULE_RESULT_REJECTED,
      message: 'app shop/web is hibernating (policy locked/lockdown)',
      generation: 42,
      traceId: TRACE,
      steps: [{ point: ExtensionPoint.EXTENSION_POINT_PRE_FILTER, status: { code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasons: ['app shop/web is hibernating'], plugin: 'SchedmeshAdmission' }, durationMicros: 2_345 }],
      explanation: { decidedBy: 'SchedmeshAdmission', admissionPolicies: ['locked/lockdown'] },
    });
    const view = scheduleView('shop/web', response, JAEGER);
    expect(view).toMatchObject({ result: 'rejected', generation: 42, steps: [{ point: 'PreFilter', plugin: 'SchedmeshAdmission', code: 'UnschedulableAndUnresolvable', durationMs: 2.3 }] });
    const text = renderSchedule(view);
    expect(text).toMatch(/^Result:\s+rejected$/m);
    expect(text).toMatch(/^Admission policies:\s+locked\/lockdown$/m);
    expect(text).toMatch(/^PreFilter\s+SchedmeshAdmission\s+UnschedulableAndUnresolvable\s+2\.3\s+app shop\/web is hibernating$/m);
  });
});

describe('status', () => {
  test('a row per service, the generations, the queues', () => {
    const text = renderStatus({
      services: [
        { service: 'scheduler', address: '127.0.0.1:50057', health: 'serving', detail: '', generation: 17 },
        { service: 'gateway', address: '127.0.0.1:50055', health: 'unreachable', detail: 'is it running?' },
      ],
      queues: { active: 1, backoff: 2, unschedulable: 3, inFlight: 4, recordedPods: 9 },
      healthy: false,
    });
    expect(text).toMatch(/^scheduler\s+127\.0\.0\.1:50057\s+serving\s+17$/m);
    expect(text).toMatch(/^gateway\s+127\.0\.0\.1:50055\s+unreachable\s+-\s+is it running\?$/m);
    expect(text).toMatch(/^unschedulable\s+3$/m);
    expect(text).toMatch(/^in-flight\s+4$/m);
  });

  test('without the scheduler, the queues are unknown', () => {
    const scheduler = { service: 'scheduler', address: 'a:1', health: 'unreachable' as const, detail: 'x' };
    expect(renderStatus({ services: [scheduler], healthy: false })).toMatch(/^Scheduler queues:\s+unknown \(the scheduler did not answer\)$/m);
    expect(renderStatus({ services: [], healthy: true })).toMatch(/^Scheduler queues:\s+unknown \(the scheduler was not asked\)$/m);
  });
});
