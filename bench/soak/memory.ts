// What each process holds, sampled while the soak runs: resident memory
// (VmRSS of /proc/<pid>/status), the V8 heap in use and the heap V8 has
// committed, read from the service's own /metrics (prom-client's
// nodejs_heap_size_used_bytes and nodejs_heap_size_total_bytes), so no
// inspector is attached to the process measured.
import { readFileSync } from 'node:fs';

const MiB = 2 ** 20;

/** Resident set size now, in MiB; NaN once the process is gone. */
export function rssMiBOf(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? (Number(line.split(/\s+/)[1]) * 1024) / MiB : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The value of an unlabelled metric (its first sample) in a Prometheus text exposition; NaN without it. */
export function metricValue(metricsText: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)`, 'm').exec(metricsText);
  return m ? Number(m[1]) : Number.NaN;
}

/** The V8 heap in use, in MiB, from a Prometheus text exposition; NaN without the metric. */
export function heapUsedMiB(metricsText: string): number {
  return metricValue(metricsText, 'nodejs_heap_size_used_bytes') / MiB;
}

/**
 * The heap V8 has committed (in use or not), in MiB; NaN without the metric.
 * V8 gives pages back to the system lazily, so the RSS follows this, not the
 * heap in use: an RSS that moves while the heap's floor does not is this.
 */
export function heapCommittedMiB(metricsText: string): number {
  return metricValue(metricsText, 'nodejs_heap_size_total_bytes') / MiB;
}

/** The /metrics text of the service at `httpAddress` ("host:port"); undefined when it does not answer in 15 s (a busy process on a loaded machine may not). */
export async function scrapeMetrics(httpAddress: string): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${httpAddress}/metrics`, { signal: AbortSignal.timeout(15_000) });
    return res.ok ? await res.text() : (await res.body?.cancel(), undefined);
  } catch {
    return undefined;
  }
}

/** A least-squares line through (x, y) points: slope and intercept; NaN slope with fewer than two distinct x. */
export function leastSquares(points: readonly (readonly [number, number])[]): { slope: number; intercept: number } {
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const n = pts.length;
  const mx = pts.reduce((s, [x]) => s + x, 0) / n;
  const my = pts.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = pts.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = pts.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const slope = n >= 2 && sxx > 0 ? sxy / sxx : Number.NaN;
  return { slope, intercept: my - slope * mx };
}

/** One series' trend over the measured window. */
export interface Trend {
  /** MiB per minute, least squares over the samples. */
  readonly slopeMiBPerMin: number;
  /** Last sample minus first, MiB. */
  readonly growthMiB: number;
  readonly firstMiB: number;
  readonly lastMiB: number;
  readonly meanMiB: number;
  readonly maxMiB: number;
}

/** The trend of `series` (minutes, MiB). */
export function trendOf(series: readonly (readonly [number, number])[]): Trend {
  const ys = series.map(([, y]) => y).filter(Number.isFinite);
  const first = ys[0] ?? Number.NaN;
  const last = ys.at(-1) ?? Number.NaN;
  return {
    slopeMiBPerMin: leastSquares(series).slope,
    growthMiB: last - first,
    firstMiB: first,
    lastMiB: last,
    meanMiB: ys.reduce((s, y) => s + y, 0) / ys.length,
    maxMiB: Math.max(...ys),
  };
}

/**
 * "flat" when the fitted line rises less, over the whole window, than
 * max(5 MiB, 5 % of the mean): a garbage-collected heap swings by more than
 * a few MiB between samples, a leak keeps rising. "climbing" or "falling"
 * otherwise; "unknown" without a slope.
 */
export function verdictOf(t: Trend, minutes: number): 'flat' | 'climbing' | 'falling' | 'unknown' {
  if (!Number.isFinite(t.slopeMiBPerMin)) return 'unknown';
  const drift = t.slopeMiBPerMin * minutes;
  const tolerance = Math.max(5, 0.05 * t.meanMiB);
  if (Math.abs(drift) <= tolerance) return 'flat';
  return drift > 0 ? 'climbing' : 'falling';
}
