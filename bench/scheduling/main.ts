// The side-by-side scheduling benchmark: kube-scheduler alone, kube-scheduler
// with the schedmesh extender, and schedmesh standalone (1 and 2 scheduler
// replicas) on one real control plane with fake nodes, in the style of
// upstream scheduler_perf. `npm run bench:scheduling -- --help` lists the
// flags; README.md ("Scheduling benchmark") says what it measures.
// It stops with a message, leaving nothing running, when a binary is
// missing, a port is taken, or the run exceeds --time-limit.
import { performance } from 'node:perf_hooks';

import { writeChart } from './chart.js';
import { BenchOptionError, parseOptions, USAGE } from './options.js';
import { printSummary, writeReport } from './report.js';
import type { SchedulingReport } from './report.js';
import { Teardown } from './teardown.js';

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const started = performance.now();
const progress = (line: string): void => log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`);
const teardown = new Teardown();
let finishing = false;

/** Stops everything the run started, then exits with `code`. */
function finish(code: number, message?: string): void {
  if (finishing) return;
  finishing = true;
  if (message) process.stderr.write(`scheduling benchmark: ${message}\n`);
  void teardown.run((line) => process.stderr.write(`${line}\n`)).finally(() => process.exit(code));
}

function main(): void {
  if (process.argv.includes('--help')) return log(USAGE);
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof BenchOptionError) return finish(2, err.message);
    throw err;
  }
  const limit = setTimeout(
    () => finish(3, `the run exceeded its time bound of ${opts.timeLimitMs / 1000} s (--time-limit); every process it started is stopped`),
    opts.timeLimitMs,
  );
  limit.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => finish(130, `${signal}: stopping every process it started`));
  const svg = `${opts.out.replace(/\.json$/, '')}.svg`;
  const save = (report: SchedulingReport): void => {
    writeReport(opts.out, report);
    writeChart(svg, report, `${opts.nodes} nodes, ${opts.initialPods} initial pods, ${opts.pods} pods per phase; ${report.machine.cpus} cores (${report.machine.cpuModel}), ${report.startedAt.slice(0, 10)}`);
  };
  // Loaded once the flags are known good: a bad flag answers at once.
  import('./run.js')
    .then(({ runSchedulingBench }) => runSchedulingBench(opts, teardown, log, progress, save))
    .then(
      (report) => {
        if (finishing) return;
        save(report);
        printSummary(log, report);
        log(`\nwrote ${opts.out} and ${svg}`);
        finish(0);
      },
      (err: unknown) => finish(1, err instanceof Error ? err.message : String(err)),
    );
}

main();
