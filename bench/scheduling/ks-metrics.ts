// Where kube-scheduler's attempt time goes, from its own Prometheus metrics:
// the sums and counts of scheduler_framework_extension_point_duration_seconds
// (per extension point) and scheduler_scheduling_attempt_duration_seconds
// (the whole attempt), read before and after a phase.
import { fetchMetricsText } from './metrics-text.js';
import type { StepFigures } from './spans.js';

/** Sum (s) and count of one histogram series group. */
interface SumCount {
  sum: number;
  count: number;
}

/** Extension point (or "attempt") → its histogram's sum and count, over every label but the point. */
export type KubeSchedulerTimes = Map<string, SumCount>;

const POINT = /^scheduler_framework_extension_point_duration_seconds_(sum|count)\{.*extension_point="([^"]+)".*\} (\S+)$/;
const ATTEMPT = /^scheduler_scheduling_attempt_duration_seconds_(sum|count)\{.*\} (\S+)$/;

/** Reads the scheduler's step times now. */
export async function readKubeSchedulerTimes(baseUrl: string): Promise<KubeSchedulerTimes> {
  const times: KubeSchedulerTimes = new Map();
  const add = (key: string, kind: string, value: number): void => {
    const t = times.get(key) ?? { sum: 0, count: 0 };
    if (kind === 'sum') t.sum += value;
    else t.count += value;
    times.set(key, t);
  };
  for (const line of (await fetchMetricsText(`${baseUrl}/metrics`)).split('\n')) {
    const point = POINT.exec(line);
    if (point) add(point[2]!, point[1]!, Number(point[3]));
    const attempt = ATTEMPT.exec(line);
    if (attempt) add('attempt', attempt[1]!, Number(attempt[2]));
  }
  return times;
}

/** The steps of the phase between two readings: mean time and share of the attempts' time (histograms give no exact percentiles: NaN). */
export function kubeSchedulerSteps(before: KubeSchedulerTimes, after: KubeSchedulerTimes): StepFigures[] {
  const delta = (key: string): SumCount => {
    const a = after.get(key) ?? { sum: 0, count: 0 };
    const b = before.get(key) ?? { sum: 0, count: 0 };
    return { sum: a.sum - b.sum, count: a.count - b.count };
  };
  const attempt = delta('attempt');
  if (attempt.count === 0) return [];
  const row = (name: string, d: SumCount): StepFigures => ({ name, count: d.count, p50Ms: Number.NaN, p99Ms: Number.NaN, meanMs: (1000 * d.sum) / d.count, share: d.sum / attempt.sum });
  const points = [...after.keys()].filter((k) => k !== 'attempt' && delta(k).count > 0);
  return [...points.map((p) => row(`kube-scheduler ${p}`, delta(p))), row('kube-scheduler attempt', attempt)];
}
