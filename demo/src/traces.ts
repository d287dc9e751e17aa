// One pod's trace (the scheduler's last attempt, from GetSchedulingStatus,
// checked in Jaeger before its URL is shown) and the per-step latencies of
// every attempt (the child spans of each `schedule_one` root in Jaeger).
import { SchedulerServiceDefinition } from '@schedmesh/proto/v1/scheduler';
import { connectClient } from '@schedmesh/runtime';
import { findTraces, pollUntil } from '@schedmesh/testkit';
import type { JaegerTrace } from '@schedmesh/testkit';

export const SCHEDULER_SERVICE = 'schedmesh-scheduler';
export const ROOT_SPAN = 'schedule_one';

/** A trace that Jaeger really holds. */
export interface PodTrace {
  readonly namespace: string;
  readonly name: string;
  readonly traceId: string;
  readonly spans: number;
  readonly services: readonly string[];
  /** The Jaeger UI page of the trace. */
  readonly uiUrl: string;
  /** Whether this Jaeger serves its UI (a build from the Go module alone serves a placeholder page). */
  readonly uiAvailable: boolean;
  /** The query API's JSON of the trace. */
  readonly apiUrl: string;
}

/** The attempts the scheduler counted (its Prometheus counter, every outcome). */
export async function attemptCount(schedulerHttpUrl: string): Promise<number> {
  const text = await (await fetch(`${schedulerHttpUrl}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^schedmesh_scheduler_attempts_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  return total;
}

async function queryTrace(queryUrl: string, traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${queryUrl}/api/traces/${traceId}: HTTP ${res.status}`);
  return ((await res.json()) as { data?: JaegerTrace[] }).data?.[0];
}

/** Jaeger built without its UI assets answers / with a page saying so. */
async function servesUi(queryUrl: string): Promise<boolean> {
  const page = await (await fetch(`${queryUrl}/`)).text();
  return !page.includes('This is not the Jaeger UI');
}

/**
 * Asks the scheduler for the bound pod's last trace id, then waits until Jaeger
 * serves that trace whole: its root span and its last step (PostBind) — spans
 * reach Jaeger in batches, the root last.
 */
export async function podTrace(schedulerAddress: string, queryUrl: string, pod: { namespace: string; name: string }): Promise<PodTrace> {
  const { client, close } = connectClient(SchedulerServiceDefinition, { address: schedulerAddress, deadline: 10_000 });
  let traceId: string;
  try {
    traceId = (await client.getSchedulingStatus({ namespace: pod.namespace, name: pod.name })).lastTraceId;
  } finally {
    close();
  }
  if (!traceId) throw new Error(`the scheduler has no trace id for ${pod.namespace}/${pod.name}`);
  const trace = await pollUntil(
    async () => {
      const t = await queryTrace(queryUrl, traceId);
      const names = t?.spans.map((s) => s.operationName) ?? [];
      return names.includes(ROOT_SPAN) && names.some((n) => n.startsWith('PostBind/')) ? t : undefined;
    },
    { what: `trace ${traceId} with its ${ROOT_SPAN} and PostBind spans in Jaeger at ${queryUrl}`, timeoutMs: 30_000, intervalMs: 250 },
  );
  return {
    ...pod,
    traceId,
    spans: trace.spans.length,
    services: [...new Set(Object.values(trace.processes).map((p) => p.serviceName))].sort(),
    uiUrl: `${queryUrl}/trace/${traceId}`,
    uiAvailable: await servesUi(queryUrl),
    apiUrl: `${queryUrl}/api/traces/${traceId}`,
  };
}

/** Durations in ms of one step (a child span of schedule_one, by name), over every attempt. */
export interface StepLatencies {
  readonly step: string;
  readonly durationsMs: number[];
}

/** Groups the children of every schedule_one span by name; the attempt itself comes first. */
export function stepLatencies(traces: readonly JaegerTrace[]): StepLatencies[] {
  const byStep = new Map<string, number[]>();
  const add = (step: string, micros: number) => {
    const list = byStep.get(step) ?? [];
    list.push(micros / 1000);
    byStep.set(step, list);
  };
  for (const t of traces) {
    const roots = new Set(t.spans.filter((s) => s.operationName === ROOT_SPAN).map((s) => s.spanID));
    for (const s of t.spans) {
      if (roots.has(s.spanID)) add(`attempt (${ROOT_SPAN})`, s.duration);
      else if (s.references.some((r) => r.refType === 'CHILD_OF' && roots.has(r.spanID))) add(s.operationName, s.duration);
    }
  }
  return [...byStep.entries()].map(([step, durationsMs]) => ({ step, durationsMs }));
}

const rootCount = (traces: readonly JaegerTrace[]): number => traces.reduce((n, t) => n + t.spans.filter((s) => s.operationName === ROOT_SPAN).length, 0);

/**
 * The traces of the scheduler's attempts, once Jaeger holds a root span for
 * each of the `attempts` the scheduler counted (or what it holds after 30 s).
 */
export async function attemptTraces(queryUrl: string, attempts: number): Promise<JaegerTrace[]> {
  let latest: JaegerTrace[] = [];
  const limit = Math.max(100, attempts * 2);
  await pollUntil(
    async () => {
      latest = await findTraces(queryUrl, SCHEDULER_SERVICE, { operation: ROOT_SPAN, limit, timeoutMs: 10_000 });
      return rootCount(latest) >= attempts ? true : undefined;
    },
    { what: `${attempts} ${ROOT_SPAN} spans in Jaeger`, timeoutMs: 30_000, intervalMs: 500 },
  ).catch(() => undefined);
  return latest;
}
