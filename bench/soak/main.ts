// The memory soak (issue 18: "RSS per 1,000 nodes of each service stated,
// and flat over a 10-minute run"): the mesh as processes on a real control
// plane with fake nodes, pods created, bound and deleted in rounds for the
// whole run, and every service's RSS and heap sampled; the JSON holds each
// one's slope and verdict, the SVG its lines. `npm run bench:soak -- --help`
// lists the flags; README.md ("Memory soak") says what it measures.
// It stops with a message, leaving nothing running, on a bad flag, a missing
// binary, a failure or when the run exceeds --time-limit.
import { performance } from 'node:perf_hooks';

import { BenchOptionError } from '../scheduling/options.js';
import { writeReport } from '../scheduling/report.js';
import { Teardown } from '../scheduling/teardown.js';
import { writeSoakChart } from './chart.js';
import { parseSoakOptions, USAGE } from './options.js';
import { printSoak } from './report.js';
import type { SoakReport } from './report.js';

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const started = performance.now();
const progress = (line: string): void => log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`);
const teardown = new Teardown();
let finishing = false;

/** Stops everything the run started, then exits with `code`. */
function finish(code: number, message?: string): void {
  if (finishing) return;
  finishing = true;
  if (message) process.stderr.write(`soak: ${message}\n`);
  void teardown.run((line) => process.stderr.write(`${line}\n`)).finally(() => process.exit(code));
}

function main(): void {
  if (process.argv.includes('--help')) return log(USAGE);
  let opts;
  try {
    opts = parseSoakOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof BenchOptionError) return finish(2, err.message);
    throw err;
  }
  const limit = setTimeout(() => finish(3, `the run exceeded its time bound of ${opts.timeLimitMs / 1000} s (--time-limit); every process it started is stopped`), opts.timeLimitMs);
  limit.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => finish(130, `${signal}: stopping every process it started`));
  const svg = `${opts.out.replace(/\.json$/, '')}.svg`;
  const save = (report: SoakReport): void => {
    writeReport(opts.out, report);
    writeSoakChart(svg, report, `${opts.nodes} nodes, ${opts.initialPods} pods kept, rounds of ${opts.batch} pods; ${report.machine.cpus} cores, ${report.startedAt.slice(0, 10)}`);
  };
  import('./run.js')
    .then(({ runSoak }) => runSoak(opts, teardown, progress, save))
    .then(
      (report) => {
        if (finishing) return;
        save(report);
        printSoak(log, report);
        log(`wrote ${opts.out} and ${svg}`);
        finish(0);
      },
      (err: unknown) => finish(1, err instanceof Error ? err.message : String(err)),
    );
}

main();
