// One side-by-side session: start the pair of schedulers, run the cases,
// compare, write the report. `npm run fidelity` (cli.ts) and the CI test
// (fidelity.test.ts) both run one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { FidelityCase } from './case.js';
import { compareCase } from './compare.js';
import type { CaseComparison } from './compare.js';
import { loadDeliberateDifferences } from './differences.js';
import { buildReport, writeReport } from './report.js';
import type { FidelityReport } from './report.js';
import { SideBySideRunner } from './runner.js';

/** The kube-scheduler release the control plane pins (test/cluster/versions.env). */
export function pinnedKubeVersion(): string {
  const env = readFileSync(join(__dirname, '../cluster/versions.env'), 'utf8');
  return `v${/^K8S_VERSION=(.+)$/m.exec(env)?.[1]?.trim() ?? 'unknown'}`;
}

export interface SessionOptions {
  readonly seed: number;
  readonly cases: readonly FidelityCase[];
  /** Where report.json, report.md and cases/ go. */
  readonly outDir: string;
  /** Called after each case. */
  readonly onCase?: (done: number, total: number, comparison: CaseComparison) => void;
}

/** Runs the cases on both schedulers and writes the report; returns it. */
export async function runSession(opts: SessionOptions): Promise<FidelityReport> {
  const runner = await SideBySideRunner.start();
  try {
    return await runCases(runner, opts);
  } finally {
    await runner.stop();
  }
}

/**
 * Runs the cases on a started runner and writes the report; returns it. The
 * report is rewritten every REPORT_EVERY cases, so a long run stopped early
 * still leaves one for the cases it finished.
 */
export async function runCases(runner: SideBySideRunner, opts: SessionOptions): Promise<FidelityReport> {
  const differences = loadDeliberateDifferences();
  const cases = new Map(opts.cases.map((c) => [c.name, c]));
  const comparisons: CaseComparison[] = [];
  const report = (): FidelityReport => {
    const r = buildReport({
      seed: opts.seed,
      kubeSchedulerVersion: pinnedKubeVersion(),
      comparisons,
      differences,
      caseFileOf: (name) => join(opts.outDir, 'cases', `${name}.yaml`),
    });
    writeReport(opts.outDir, r, differences, cases);
    return r;
  };
  for (const c of opts.cases) {
    const comparison = compareCase(await runner.run(c));
    comparisons.push(comparison);
    opts.onCase?.(comparisons.length, opts.cases.length, comparison);
    if (comparisons.length % REPORT_EVERY === 0) report();
  }
  return report();
}

const REPORT_EVERY = 10;
