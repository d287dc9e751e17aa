// What a phase asked of the apiserver: its apiserver_request_total counters
// (by verb, resource and subresource, summed over codes and scopes) read
// before and after the phase. Every client's requests count — the benchmark's
// creates and watch, the informers, the scheduler's binds — so the modes
// compare on the same workload: the difference is the scheduler's.
import type { ControlPlane } from '@schedmesh/testkit';

import { fetchMetricsText } from './metrics-text.js';

/** "VERB resource[/subresource]" → requests so far. */
export type ApiRequestCounts = Map<string, number>;

/** One kind of request in a phase. */
export interface ApiRequestFigures {
  /** "VERB resource[/subresource]", e.g. "POST pods/binding". */
  readonly request: string;
  readonly count: number;
  /** Per measured pod. */
  readonly perPod: number;
}

const SERIES = /^apiserver_request_total\{(.*)\} (\S+)$/;
const label = (labels: string, name: string): string => new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1] ?? '';

/** The apiserver's request counters now. */
export async function readApiRequests(cp: ControlPlane): Promise<ApiRequestCounts> {
  const counts: ApiRequestCounts = new Map();
  for (const line of (await fetchMetricsText(`${cp.server}/metrics`, { caPem: cp.caPem, token: cp.token })).split('\n')) {
    const m = SERIES.exec(line);
    if (!m) continue;
    const sub = label(m[1]!, 'subresource');
    const key = `${label(m[1]!, 'verb')} ${label(m[1]!, 'resource')}${sub ? `/${sub}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** The requests made between two readings, most frequent first (the metric scrapes themselves left out). */
export function apiRequestsBetween(before: ApiRequestCounts, after: ApiRequestCounts, pods: number): ApiRequestFigures[] {
  return [...after]
    .map(([request, n]) => ({ request, count: n - (before.get(request) ?? 0) }))
    .filter((r) => r.count > 0 && r.request !== 'GET ')
    .sort((a, b) => b.count - a.count)
    .map((r) => ({ ...r, perPod: r.count / Math.max(1, pods) }));
}
