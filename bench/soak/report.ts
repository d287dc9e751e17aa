// The soak's record: every sample, and per process the trend of its resident
// memory and heap over the measured window with a verdict, printed as a
// table and written as JSON.
import { printTable } from '../support.js';
import { BOUNDED_CACHES, boundOf, isFull } from './bounds.js';
import type { CacheFill } from './bounds.js';
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
  /** The heap V8 has committed (memory.ts, heapCommittedMiB), by process. Absent in reports older than it. */
  readonly heapCommittedMiB?: Record<string, number>;
  /** Each bounded cache's metric (bounds.ts), by cache; NaN when its service's /metrics did not answer. Absent in reports older than it. */
  readonly caches?: Record<string, number>;
}

/** One process over the measured window. */
export interface ProcessMemory {
  readonly name: string;
  readonly rss: Trend;
  readonly heap: Trend;
  /**
   * The heap's floor: its lowest sample in each of a few equal spans of the
   * window. The heap in use climbs between major collections by tens of MiB
   * (a sawtooth 1.5–2 minutes long at 5,000 nodes), which a slope over every
   * sample of a short window reads as growth; what survives the collections
   * is the floor, and a leak raises it.
   */
  readonly heapFloor: Trend;
  /** The heap V8 has committed: what the RSS follows when the heap in use does not explain it. */
  readonly heapCommitted: Trend;
  readonly rssVerdict: ReturnType<typeof verdictOf>;
  readonly heapVerdict: ReturnType<typeof verdictOf>;
  readonly heapFloorVerdict: ReturnType<typeof verdictOf>;
}

/** Spans of the measured window a heap floor is taken over: 2.5 minutes each (longer than the collection cycles seen, 1.5–2 minutes), and at least 3 spans. */
const FLOOR_SPAN_SECONDS = 150;
const MIN_FLOOR_SPANS = 3;

/** The lowest point of `series` (minutes, MiB) in each span of `spanMinutes`. */
function floorOf(series: readonly (readonly [number, number])[], spanMinutes: number): [number, number][] {
  const lows = new Map<number, [number, number]>();
  for (const [x, y] of series) {
    if (!Number.isFinite(y)) continue;
    const span = Math.floor(x / spanMinutes);
    const low = lows.get(span);
    if (!low || y < low[1]) lows.set(span, [x, y]);
  }
  return [...lows.values()].sort((a, b) => a[0] - b[0]);
}

export interface SoakReport {
  readonly startedAt: string;
  readonly command: string;
  readonly machine: Record<string, string | number>;
  readonly options: SoakOptions;
  readonly setup: Record<string, number>;
  readonly churn: ChurnFigures & { podsPerSecond: number };
  /** The caches that fill with churn: their bounds (lowered by --small-bounds, else the defaults) and whether each was full at the end of the warm-up. */
  readonly bounds: { readonly lowered: boolean; readonly caches: CacheFill[] };
  /** Minutes the measured window's samples span. */
  readonly measuredMinutes: number;
  readonly processes: ProcessMemory[];
  readonly samples: SoakSample[];
}

/**
 * Each bounded cache at the end of the warm-up (the last sample before the
 * window; the latest sample while the warm-up lasts): its metric then and at
 * the churn's start, and whether that shows it full.
 */
export function cacheFills(samples: readonly SoakSample[], lowered: boolean): CacheFill[] {
  const first = samples[0];
  const warmUpEnd = samples.filter((s) => !s.measured).at(-1) ?? samples.at(-1);
  return BOUNDED_CACHES.map((c) => {
    const bound = boundOf(c, lowered);
    const atStart = first?.caches?.[c.cache] ?? Number.NaN;
    const atWarmUpEnd = warmUpEnd?.caches?.[c.cache] ?? Number.NaN;
    const full = Number.isFinite(atStart) && Number.isFinite(atWarmUpEnd) && isFull(c, bound, atStart, atWarmUpEnd);
    return { service: c.service, cache: c.cache, key: c.key, bound, metric: c.metric, atStart, atWarmUpEnd, full };
  });
}

/**
 * One line of progress while the soak runs: where it is in the warm-up or the
 * window, the churn so far, and how far each bounded cache is from full (a run
 * at the default bounds takes an hour or more to fill them, and this line is
 * what tells, before the end, whether its warm-up is long enough).
 */
export function progressLine(samples: readonly SoakSample[], churned: ChurnFigures, opts: Pick<SoakOptions, 'warmUpMs' | 'measureMs' | 'smallBounds'>): string {
  const at = samples.at(-1)?.atSeconds ?? 0;
  const warmUpS = opts.warmUpMs / 1000;
  const where = at < warmUpS ? `warm-up ${at.toFixed(0)}/${warmUpS.toFixed(0)} s` : `window ${((at - warmUpS) / 60).toFixed(1)}/${(opts.measureMs / 60_000).toFixed(1)} min`;
  const rate = churned.podsBound / Math.max(churned.seconds, 1e-9);
  // cacheFills answers in BOUNDED_CACHES' order.
  const caches = cacheFills(samples, opts.smallBounds).map((c, i) => {
    const { fullWhen } = BOUNDED_CACHES[i]!;
    if (c.full) return `${c.cache} full`;
    if (!Number.isFinite(c.atWarmUpEnd)) return `${c.cache} ?`;
    return fullWhen === 'evicted' ? `${c.cache} none evicted yet` : `${c.cache} ${f0(fullWhen === 'advanced' ? c.atWarmUpEnd - c.atStart : c.atWarmUpEnd)}/${c.bound}`;
  });
  return `${where}; ${churned.podsBound} pods churned (${f1(rate)}/s); ${caches.join(', ')}`;
}

/** Each process's trend over the measured samples (x in minutes since the first of them), and the bounded caches' fill. */
export function summarize(
  names: readonly string[],
  samples: readonly SoakSample[],
  boundsLowered = false,
): { bounds: SoakReport['bounds']; measuredMinutes: number; processes: ProcessMemory[] } {
  const measured = samples.filter((s) => s.measured);
  const t0 = measured[0]?.atSeconds ?? 0;
  const measuredMinutes = ((measured.at(-1)?.atSeconds ?? t0) - t0) / 60;
  const series = (name: string, of: 'rssMiB' | 'heapMiB' | 'heapCommittedMiB'): [number, number][] =>
    measured.map((s) => [(s.atSeconds - t0) / 60, s[of]?.[name] ?? Number.NaN]);
  // Equal spans that cover the window, each at least 2.5 minutes when the window allows 3 of them: a short span left over at the
  // end would hold a sample or two, whatever phase of the collector's cycle they caught, and read as the floor moving.
  // (A window a hair short of whole spans, 9.99999 minutes from the timer's jitter, still counts 4.)
  const spans = Math.max(MIN_FLOOR_SPANS, Math.floor(measuredMinutes / (FLOOR_SPAN_SECONDS / 60) + 1e-3));
  // The last sample closes the last span rather than opening a span of its own.
  const spanMinutes = (measuredMinutes / spans) * (1 + 1e-9);
  const processes = names.map((name) => {
    const rss = trendOf(series(name, 'rssMiB'));
    const heapSeries = series(name, 'heapMiB');
    const heap = trendOf(heapSeries);
    const heapFloor = trendOf(floorOf(heapSeries, spanMinutes));
    return {
      name,
      rss,
      heap,
      heapFloor,
      heapCommitted: trendOf(series(name, 'heapCommittedMiB')),
      rssVerdict: verdictOf(rss, measuredMinutes),
      heapVerdict: verdictOf(heap, measuredMinutes),
      heapFloorVerdict: verdictOf(heapFloor, measuredMinutes),
    };
  });
  return { bounds: { lowered: boundsLowered, caches: cacheFills(samples, boundsLowered) }, measuredMinutes, processes };
}

const f0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '-');
const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');

export function printSoak(log: (line: string) => void, r: SoakReport): void {
  log(`\nsoak: ${r.options.nodes} nodes, ${r.options.initialPods} pods kept; ${r.churn.podsBound} pods churned in ${r.churn.rounds} rounds (${f1(r.churn.podsPerSecond)} pods/s); window ${f1(r.measuredMinutes)} min`);
  printTable(
    log,
    ['process', 'RSS mean', 'RSS max', 'RSS MiB/min', 'RSS', 'V8 committed mean', 'committed MiB/min', 'heap mean', 'heap MiB/min', 'heap', 'heap floor MiB/min', 'heap floor'],
    r.processes.map((p) => [
      p.name,
      f1(p.rss.meanMiB),
      f1(p.rss.maxMiB),
      f2(p.rss.slopeMiBPerMin),
      p.rssVerdict,
      f1(p.heapCommitted.meanMiB),
      f2(p.heapCommitted.slopeMiBPerMin),
      f1(p.heap.meanMiB),
      f2(p.heap.slopeMiBPerMin),
      p.heapVerdict,
      f2(p.heapFloor.slopeMiBPerMin),
      p.heapFloorVerdict,
    ]),
  );
  const { lowered, caches } = r.bounds;
  log(
    lowered
      ? `\nbounds LOWERED (--small-bounds): these verdicts are with every cache below at its small bound, not the defaults; full at the end of the warm-up: ${caches.filter((c) => c.full).length} of ${caches.length}`
      : `\nbounds at their defaults: a cache still filling in the window reads as growth; full at the end of the warm-up: ${caches.filter((c) => c.full).length} of ${caches.length}`,
  );
  printTable(
    log,
    ['service', 'cache', 'key', 'bound', 'metric', 'at start', 'end of warm-up', 'full'],
    caches.map((c) => [c.service, c.cache, c.key, String(c.bound), c.metric, f0(c.atStart), f0(c.atWarmUpEnd), c.full ? 'yes' : 'NO']),
  );
}
