// The benchmark's flags, validated once: a bad flag stops the run before
// anything starts, with the flag's name in the message.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { WORKLOAD_NAMES } from './workloads.js';
import type { WorkloadName } from './workloads.js';
import { MODE_NAMES } from './modes.js';
import type { ModeName } from './modes.js';

/** The run's sizes, choices and bounds. */
export interface SchedulingBenchOptions {
  readonly nodes: number;
  /** Pods bound before any mode runs (every mode sees them). */
  readonly initialPods: number;
  /** Pods measured per workload and mode. */
  readonly pods: number;
  readonly workloads: readonly WorkloadName[];
  readonly modes: readonly ModeName[];
  /** The JSON report; the SVG chart is written beside it (same name, .svg). */
  readonly out: string;
  /** Bound on one workload in one mode, ms: a phase that runs out reports what was bound. */
  readonly phaseLimitMs: number;
  /** Bound on the whole run, ms: past it every child is killed and the run fails. */
  readonly timeLimitMs: number;
  /** Port of the span receiver (0: any free one). */
  readonly otlpPort: number;
  /** Round trips per floor measurement. */
  readonly floorRounds: number;
  /**
   * Seconds each mode's processes are metered idle (no pods to schedule)
   * before its first phase: their cost per second with nothing to do (0: not
   * measured).
   */
  readonly idleSeconds: number;
  /** Where the mesh's processes write V8 CPU profiles when they exit (absent: none). */
  readonly cpuProfDir?: string;
  /**
   * Share (0–1) of the mesh's attempts traced and exported (each service's
   * telemetry.sampleRatio); the step shares come from those. 0: no exporter
   * at all, and no step shares.
   */
  readonly traceSample: number;
  /** The extender's extender.maxFeasibleNodes in the ks-extender mode (0: every feasible node, the default). */
  readonly extenderMaxFeasible: number;
}

/** Thrown for a flag that cannot be used. */
export class BenchOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchOptionError';
  }
}

/** What an operator would run at hundreds of pods/s: a tenth of the attempts traced. */
export const DEFAULT_TRACE_SAMPLE = 0.1;

export const USAGE = `npm run bench:scheduling -- [flags]
  --nodes N            fake nodes (default 5000)
  --initial-pods N     pods bound before the modes run (default 1000)
  --pods N             measured pods per workload and mode (default 10000)
  --workloads a,b      ${WORKLOAD_NAMES.join(',')} (default all)
  --modes a,b          ${MODE_NAMES.join(',')} (default all but ks-stock)
  --out FILE           JSON report (default bench/results/scheduling.json; the chart is FILE with .svg)
  --phase-limit S      seconds one workload may take in one mode (default 900)
  --time-limit S       seconds the whole run may take (default 14400)
  --otlp-port P        port of the span receiver (default: a free one)
  --floor-rounds N     round trips per floor measurement (default 2000)
  --idle-seconds S     seconds each mode's processes are metered idle before its first phase
                       (default 5; 0: not measured)
  --cpu-prof DIR       the mesh's processes write V8 CPU profiles into DIR as they exit
                       (read them with npx tsx bench/cpuprofile-top.ts FILE)
  --trace-sample R     share of the mesh's attempts traced, 0-1 (default ${DEFAULT_TRACE_SAMPLE}, as in production;
                       the step shares come from them; 0: no exporter, no step shares)
  --extender-max-feasible N
                       the extender's extender.maxFeasibleNodes in mode ks-extender: filter answers only the
                       N best feasible nodes (default 0: every feasible node, as deployed)`;

function count(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new BenchOptionError(`--${flag} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

function list<T extends string>(flag: string, value: string | undefined, known: readonly T[], fallback: readonly T[]): T[] {
  if (value === undefined) return [...fallback];
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((s) => !(known as readonly string[]).includes(s));
  if (unknown.length > 0 || items.length === 0) throw new BenchOptionError(`--${flag}: unknown ${unknown.join(', ') || '(empty list)'}; known: ${known.join(', ')}`);
  return items as T[];
}

/** Parses argv (without node and the script). */
export function parseOptions(argv: readonly string[]): SchedulingBenchOptions {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        ['nodes', 'initial-pods', 'pods', 'workloads', 'modes', 'out', 'phase-limit', 'time-limit', 'otlp-port', 'floor-rounds', 'idle-seconds', 'cpu-prof', 'trace-sample', 'extender-max-feasible'].map((k) => [k, { type: 'string' as const }]),
      ),
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | undefined> });
  } catch (err) {
    throw new BenchOptionError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const otlpPort = count('otlp-port', values['otlp-port'], 0, 0);
  const traceSample = values['trace-sample'] === undefined ? DEFAULT_TRACE_SAMPLE : Number(values['trace-sample']);
  if (values['trace-sample']?.trim() === '' || !(traceSample >= 0 && traceSample <= 1)) throw new BenchOptionError(`--trace-sample must be a number between 0 and 1, got "${values['trace-sample']}"`);
  if (otlpPort > 65_535) throw new BenchOptionError(`--otlp-port must be a port (0-65535), got ${otlpPort}`);
  return {
    nodes: count('nodes', values.nodes, 5_000, 1),
    initialPods: count('initial-pods', values['initial-pods'], 1_000, 0),
    pods: count('pods', values.pods, 10_000, 1),
    workloads: list('workloads', values.workloads, WORKLOAD_NAMES, WORKLOAD_NAMES),
    modes: list('modes', values.modes, MODE_NAMES, MODE_NAMES.filter((m) => m !== 'ks-stock')),
    out: values.out ?? 'bench/results/scheduling.json',
    phaseLimitMs: count('phase-limit', values['phase-limit'], 900, 1) * 1000,
    timeLimitMs: count('time-limit', values['time-limit'], 14_400, 1) * 1000,
    otlpPort,
    floorRounds: count('floor-rounds', values['floor-rounds'], 2_000, 10),
    idleSeconds: count('idle-seconds', values['idle-seconds'], 5, 0),
    ...(values['cpu-prof'] ? { cpuProfDir: resolve(values['cpu-prof']) } : {}),
    traceSample,
    extenderMaxFeasible: count('extender-max-feasible', values['extender-max-feasible'], 0, 0),
  };
}
