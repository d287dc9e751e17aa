/**
 * What the commands print, as plain objects: `-o json` writes them as they
 * are, the table format renders them (format/). Built from the scheduler's
 * replies; enums become the words operators read in kube-scheduler's events.
 */
import { QueueState, ScheduleResult } from '@schedmesh/proto/v1/scheduler';
import type { AttemptExplanation, GetSchedulingStatusResponse, ScheduleResponse } from '@schedmesh/proto/v1/scheduler';
import { extensionPointFromProto, statusCodeName } from '@schedmesh/framework';
import type { StatusCode } from '@schedmesh/framework';
import type { ExtensionPoint, NodeScore } from '@schedmesh/proto/v1/types';

/** One reason of the "0/N nodes are available" histogram. */
export interface ReasonView {
  readonly reason: string;
  /** On how many nodes. */
  readonly nodes: number;
  /** Some of those nodes (the scheduler keeps a few per reason). */
  readonly examples: readonly string[];
  readonly plugin: string;
  /** Preemption could resolve it on some of those nodes. */
  readonly resolvable: boolean;
}

/** A scored node and every plugin's part of its total. */
export interface NodeScoreView {
  readonly node: string;
  readonly total: number;
  readonly plugins: readonly { readonly plugin: string; readonly score: number; readonly weight: number }[];
}

/** Why an attempt ended as it did. */
export interface ExplanationView {
  readonly rejectedNodes: number;
  readonly reasons: readonly ReasonView[];
  readonly topNodes: readonly NodeScoreView[];
  /** The plugin that decided an attempt that did not place the pod. */
  readonly decidedBy: string;
  readonly admissionPolicies: readonly string[];
}

export type PodState = 'active' | 'backoff' | 'unschedulable' | 'in-flight' | 'bound' | 'unknown';
export type AttemptResultName = 'scheduled' | 'unschedulable' | 'rejected' | 'error' | 'none';

/** `schedmesh why`. */
export interface WhyView {
  readonly pod: string;
  readonly state: PodState;
  readonly attempts: number;
  /** The node the pod is bound to ('' until bound). */
  readonly node: string;
  readonly lastResult: AttemptResultName;
  readonly message: string;
  /** RFC 3339, when the pod waits out a backoff. */
  readonly backoffUntil?: string;
  readonly traceId: string;
  readonly traceUrl: string;
  /** Absent when the scheduler no longer keeps the last attempt's explanation. */
  readonly explanation?: ExplanationView;
}

/** One extension point of a dry-run attempt. */
export interface StepView {
  readonly point: string;
  readonly plugin: string;
  readonly code: string;
  readonly reasons: readonly string[];
  readonly durationMs: number;
}

/** `schedmesh schedule --dry-run`. */
export interface ScheduleView {
  readonly pod: string;
  readonly result: AttemptResultName;
  readonly node: string;
  readonly nominatedNode: string;
  readonly message: string;
  readonly generation: number;
  readonly traceId: string;
  readonly traceUrl: string;
  readonly explanation: ExplanationView;
  readonly steps: readonly StepView[];
}

const STATES: Record<QueueState, PodState> = {
  [QueueState.QUEUE_STATE_UNSPECIFIED]: 'unknown',
  [QueueState.QUEUE_STATE_ACTIVE]: 'active',
  [QueueState.QUEUE_STATE_BACKOFF]: 'backoff',
  [QueueState.QUEUE_STATE_UNSCHEDULABLE]: 'unschedulable',
  [QueueState.QUEUE_STATE_IN_FLIGHT]: 'in-flight',
  [QueueState.QUEUE_STATE_BOUND]: 'bound',
  [QueueState.UNRECOGNIZED]: 'unknown',
};

const RESULTS: Record<ScheduleResult, AttemptResultName> = {
  [ScheduleResult.SCHEDULE_RESULT_UNSPECIFIED]: 'none',
  [ScheduleResult.SCHEDULE_RESULT_SCHEDULED]: 'scheduled',
  [ScheduleResult.SCHEDULE_RESULT_UNSCHEDULABLE]: 'unschedulable',
  [ScheduleResult.SCHEDULE_RESULT_REJECTED]: 'rejected',
  [ScheduleResult.SCHEDULE_RESULT_ERROR]: 'error',
  [ScheduleResult.UNRECOGNIZED]: 'none',
};

/** "PreFilter", as KubeSchedulerConfiguration names the point (the framework's wire mapping, capitalized). */
function pointName(point: ExtensionPoint): string {
  const name = extensionPointFromProto(point);
  return name ? `${name[0]!.toUpperCase()}${name.slice(1)}` : String(point);
}

/** The Jaeger UI page of a trace ('' without a trace id). */
export function traceUrl(jaegerUrl: string, traceId: string): string {
  return traceId ? `${jaegerUrl}/trace/${traceId}` : '';
}

export function nodeScoreView(score: NodeScore): NodeScoreView {
  return { node: score.nodeName, total: score.total, plugins: score.plugins.map((p) => ({ plugin: p.plugin, score: p.score, weight: p.weight })) };
}

export function explanationView(explanation: AttemptExplanation): ExplanationView {
  return {
    rejectedNodes: explanation.rejectedNodeCount,
    reasons: explanation.reasons.map((r) => ({ reason: r.reason, nodes: r.nodeCount, examples: r.nodeNames, plugin: r.plugin, resolvable: r.resolvable })),
    topNodes: explanation.topNodes.map(nodeScoreView),
    decidedBy: explanation.decidedBy,
    admissionPolicies: explanation.admissionPolicies,
  };
}

export function whyView(pod: string, status: GetSchedulingStatusResponse, jaegerUrl: string): WhyView {
  return {
    pod,
    state: STATES[status.state] ?? 'unknown',
    attempts: status.attempts,
    node: status.nodeName,
    lastResult: RESULTS[status.lastResult] ?? 'none',
    message: status.message,
    ...(status.backoffUntil ? { backoffUntil: status.backoffUntil.toISOString() } : {}),
    traceId: status.lastTraceId,
    traceUrl: traceUrl(jaegerUrl, status.lastTraceId),
    ...(status.lastExplanation ? { explanation: explanationView(status.lastExplanation) } : {}),
  };
}

export function scheduleView(pod: string, response: ScheduleResponse, jaegerUrl: string): ScheduleView {
  return {
    pod,
    result: RESULTS[response.result] ?? 'none',
    node: response.nodeName,
    nominatedNode: response.nominatedNodeName,
    message: response.message,
    generation: response.generation,
    traceId: response.traceId,
    traceUrl: traceUrl(jaegerUrl, response.traceId),
    explanation: explanationView(response.explanation ?? { rejectedNodeCount: 0, reasons: [], topNodes: [], decidedBy: '', admissionPolicies: [] }),
    steps: response.steps.map((s) => ({
      point: pointName(s.point),
      plugin: s.status?.plugin ?? '',
      code: s.status ? statusCodeName(s.status.code as StatusCode) : 'Unknown',
      reasons: s.status?.reasons ?? [],
      durationMs: Math.round(s.durationMicros / 100) / 10,
    })),
  };
}

/** One service's answer to the gRPC health check. */
export interface ServiceStatusView {
  readonly service: string;
  readonly address: string;
  /** serving, not-serving, or unreachable (no answer: see detail). */
  readonly health: 'serving' | 'not-serving' | 'unknown' | 'unreachable';
  /** Why a service did not answer. */
  readonly detail: string;
  /** The generation of its cluster state, where its API tells it. */
  readonly generation?: number;
}

/** The scheduler's queues. */
export interface QueuesView {
  readonly active: number;
  readonly backoff: number;
  readonly unschedulable: number;
  readonly inFlight: number;
  readonly recordedPods: number;
}

/** `schedmesh status`. */
export interface StatusView {
  readonly services: readonly ServiceStatusView[];
  /** Absent when the scheduler did not answer. */
  readonly queues?: QueuesView;
  /** Every service serves. */
  readonly healthy: boolean;
}
