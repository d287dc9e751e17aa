// The soak's record: every sample, and per process the trend of its resident
// memory and heap over the measured window with a verdict, printed as a
// table and written as JSON.
import { printTable } from '../support.js';
import type { ChurnFigures } from './churn.js';
import { trendOf, verdictOf } from './memory.js';
import type { Trend } from './memory.js';
import type { SoakOptions } from './options.js';

/** One look at every process. */
export interface SoakSample {
  /** Seconds since the churn started. */
  readonly atSeconds: number;
  /** False during the warm-up (not fitted). */
  readonly measured: boolean;
  /** By process name; NaN (null in the JSON) for one that could not be read. */
  readonly rssMiB: Record<string, number>;
  readonly heapMiB: Record<string, number>;
}

/** One process over the measured window. */
export interface ProcessMemory {
  readonly name: string;
  readonly rss: Trend;
  readonly heap: Trend;
  readonly rssVerdict: ReturnType<typeof verdictOf>;
  readonly heapVerdict: ReturnType<typeof verdictOf>;
}

export interface SoakReport {
  readonly startedAt: string;
  readonly command: string;
  readonly machine: Record<string, string | number>;
  readonly options: SoakOptions;
  readonly setup: Record<string, number>;
  readonly churn: ChurnFigures & { podsPerSecond: number };
  /** Minutes the measured window's samples span. */
  readonly measuredMinutes: number;
  readonly processes: ProcessMemory[];
  readonly samples: SoakSample[];
}

/** Each process's trend over the measured samples (x in minutes since the first of them). */
export function summarize(names: readonly string[], samples: readonly SoakSample[]): { measuredMinutes: number; processes: ProcessMemory[] } {
  const measured = samples.filter((s) => s.measured);
  const t0 = measured[0]?.atSeconds ?? 0;
  const measuredMinutes = ((measured.at(-1)?.atSeconds ?? t0) - t0) / 60;
  const series = (name: string, of: 'rssMiB' | 'heapMiB'): [number, number][] => measured.map((s) => [(s.atSeconds - t0) / 60, s[of][name] ?? Number.NaN]);
  const processes = names.map((name) => {
    const rss = trendOf(series(name, 'rssMiB'));
    const heap = trendOf(series(name, 'heapMiB'));
    return { name, rss, heap, rssVerdict: verdictOf(rss, measuredMinutes), heapVerdict: verdictOf(heap, measuredMinutes) };
  });
  return { measuredMinutes, processes };
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');

export function printSoak(log: (line: string) => void, r: SoakReport): void {
  log(`\nsoak: ${r.options.nodes} nodes, ${r.options.initialPods} pods kept; ${r.churn.podsBound} pods churned in ${r.churn.rounds} rounds (${f1(r.churn.podsPerSecond)} pods/s); window ${f1(r.measuredMinutes)} min`);
  printTable(
    log,
    ['process', 'RSS first', 'RSS last', 'RSS max', 'RSS MiB/min', 'RSS', 'heap first', 'heap last', 'heap MiB/min', 'heap'],
    r.processes.map((p) => [p.name, f1(p.rss.firstMiB), f1(p.rss.lastMiB), f1(p.rss.maxMiB), f2(p.rss.slopeMiBPerMin), p.rssVerdict, f1(p.heap.firstMiB), f1(p.heap.lastMiB), f2(p.heap.slopeMiBPerMin), p.heapVerdict]),
  );
}
