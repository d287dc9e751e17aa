// The soak's flags, validated once: a bad flag stops the run before anything
// starts, with the flag's name in the message.
import { parseArgs } from 'node:util';

import { BenchOptionError } from '../scheduling/options.js';

/** The run's sizes and bounds. */
export interface SoakOptions {
  readonly nodes: number;
  /** Pods bound (spec.nodeName) before the churn starts, round-robin; they stay. */
  readonly initialPods: number;
  /** Pods created per round of churn; each round's pods are deleted once all are bound. */
  readonly batch: number;
  /** Every Nth pod of a round goes to kube-scheduler (through the extender); 0: none, kube-scheduler not started. */
  readonly extenderEvery: number;
  /** Churn before the measured window, ms (samples taken, not fitted). */
  readonly warmUpMs: number;
  /** The measured window, ms. */
  readonly measureMs: number;
  /** Sample cadence, ms. */
  readonly intervalMs: number;
  /** The JSON report; the SVG chart is written beside it (same name, .svg). */
  readonly out: string;
  /** Bound on the whole run, ms: past it every child is killed and the run fails. */
  readonly timeLimitMs: number;
  /** The caches that fill with churn started with small bounds (bounds.ts), full by the end of the warm-up. */
  readonly smallBounds: boolean;
}

export const USAGE = `npm run bench:soak -- [flags]
  --nodes N            fake nodes (default 1000)
  --initial-pods N     pods bound before the churn, and kept (default 1000)
  --batch N            pods per round: created, bound, deleted (default 100)
  --extender-every N   every Nth pod goes to kube-scheduler + the extender (default 4; 0: schedmesh only)
  --warm-up S          seconds of churn before the measured window (default 60)
  --minutes M          the measured window, minutes (default 10; fractions allowed)
  --interval S         seconds between samples (default 10)
  --out FILE           JSON report (default bench/results/soak.json; the chart is FILE with .svg)
  --time-limit S       seconds the whole run may take (default: the window + warm-up + 30 min)
  --small-bounds       start the services with the caches that fill with churn bounded small (bench/soak/bounds.ts:
                       attempt records 500, explanations 200, settled uids 1000, watch ring 2000, tombstones 600),
                       so that all are full by the end of a --warm-up of 480 s at 3 pods/s`;

function number(flag: string, value: string | undefined, fallback: number, min: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) throw new BenchOptionError(`--${flag} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${value}"`);
  return n;
}

/** Parses argv (without node and the script). */
export function parseSoakOptions(argv: readonly string[]): SoakOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(['nodes', 'initial-pods', 'batch', 'extender-every', 'warm-up', 'minutes', 'interval', 'out', 'time-limit'].map((k) => [k, { type: 'string' as const }])),
        'small-bounds': { type: 'boolean' as const },
      },
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    throw new BenchOptionError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const str = (flag: string): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? v : undefined;
  };
  const warmUpMs = number('warm-up', str('warm-up'), 60, 0) * 1000;
  const measureMs = Math.round(number('minutes', str('minutes'), 10, 0.1, false) * 60_000);
  const intervalMs = number('interval', str('interval'), 10, 1) * 1000;
  if (intervalMs * 2 > measureMs) throw new BenchOptionError(`--interval (${intervalMs / 1000} s) leaves fewer than 2 samples in --minutes (${measureMs / 60_000})`);
  return {
    nodes: number('nodes', str('nodes'), 1_000, 1),
    initialPods: number('initial-pods', str('initial-pods'), 1_000, 0),
    batch: number('batch', str('batch'), 100, 1),
    extenderEvery: number('extender-every', str('extender-every'), 4, 0),
    warmUpMs,
    measureMs,
    intervalMs,
    out: str('out') ?? 'bench/results/soak.json',
    timeLimitMs: number('time-limit', str('time-limit'), Math.round((warmUpMs + measureMs) / 1000) + 1_800, 1) * 1000,
    smallBounds: values['small-bounds'] === true,
  };
}
