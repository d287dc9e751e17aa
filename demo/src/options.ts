// The demo's command line: `npm start -- [options]`.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { FEATURE_POD_COUNT } from './sample.js';

export const USAGE = `usage: npm start -- [options]

Runs the whole schedmesh mesh on a local control plane, schedules a sample
cluster's pods, and writes demo-report.html. Ctrl-C stops everything.

  --pods N          pods to submit (default 200; at least ${FEATURE_POD_COUNT}, the feature pods)
  --short           a short run: 30 pods (unless --pods) and a 5 s gang timeout
  --exit            exit after the report instead of keeping the mesh up
  --report FILE     where to write the report (default ./demo-report.html)
  --jaeger-port N   serve Jaeger's UI and query API on this loopback port (default a free one)
  --timeout S       stop waiting for pods to settle after S seconds (default 300)
  --fixture         fixture mode even when the cluster binaries are built (see demo/README.md)
  --state FILE      write the demo's pid, process groups and kubeconfig there as JSON once the mesh is up
  -h, --help        this text`;

export interface DemoOptions {
  readonly pods: number;
  readonly gangTimeoutSeconds: number;
  readonly exitWhenDone: boolean;
  readonly reportPath: string;
  readonly jaegerPort?: number;
  readonly timeoutMs: number;
  readonly statePath?: string;
  /** Fixture mode (no control plane) even when the binaries are built. */
  readonly fixture: boolean;
}

/** Thrown for a bad command line; main prints it with the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** Parses argv; undefined means --help. */
export function parseOptions(argv: readonly string[], cwd = process.cwd()): DemoOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        pods: { type: 'string' },
        short: { type: 'boolean', default: false },
        exit: { type: 'boolean', default: false },
        report: { type: 'string', default: 'demo-report.html' },
        'jaeger-port': { type: 'string' },
        timeout: { type: 'string', default: '300' },
        state: { type: 'string' },
        fixture: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.help) return undefined;
  const short = parsed.short;
  return {
    pods: parsed.pods !== undefined ? integer('pods', parsed.pods, FEATURE_POD_COUNT, 5_000) : short ? 30 : 200,
    gangTimeoutSeconds: short ? 5 : 15,
    exitWhenDone: parsed.exit,
    reportPath: resolve(cwd, parsed.report),
    ...(parsed['jaeger-port'] !== undefined ? { jaegerPort: integer('jaeger-port', parsed['jaeger-port'], 1, 65_535) } : {}),
    timeoutMs: integer('timeout', parsed.timeout, 10, 3_600) * 1000,
    ...(parsed.state !== undefined ? { statePath: resolve(cwd, parsed.state) } : {}),
    fixture: parsed.fixture,
  };
}
