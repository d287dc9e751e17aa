// The side-by-side scheduling benchmark: kube-scheduler alone, kube-scheduler
// with the schedmesh extender, and schedmesh standalone (1 and 2 scheduler
// replicas) on one real control plane with fake nodes, in the style of
// upstream scheduler_perf. `npm run bench:scheduling -- --help` lists the
// flags; README.md ("Scheduling benchmark") says what it measures.
// It stops with a message, leaving nothing running, when a binary is
// missing, a port is taken, or the run exceeds --time-limit.
import { benchMain } from '../cli.js';
import { writeChart } from './chart.js';
import { parseOptions, USAGE } from './options.js';
import { printSummary, writeReport } from './report.js';
import type { SchedulingReport } from './report.js';

benchMain({
  name: 'scheduling benchmark',
  usage: USAGE,
  parse: parseOptions,
  timeLimitMs: (opts) => opts.timeLimitMs,
  async run(opts, teardown, log, progress) {
    const svg = `${opts.out.replace(/\.json$/, '')}.svg`;
    const save = (report: SchedulingReport): void => {
      writeReport(opts.out, report);
      writeChart(svg, report, `${opts.nodes} nodes, ${opts.initialPods} initial pods, ${opts.pods} pods per phase; ${report.machine.cpus} cores (${report.machine.cpuModel}), ${report.startedAt.slice(0, 10)}`);
    };
    // Loaded once the flags are known good: a bad flag answers at once.
    const { runSchedulingBench } = await import('./run.js');
    const report = await runSchedulingBench(opts, teardown, log, progress, save);
    return () => {
      save(report);
      printSummary(log, report);
      log(`\nwrote ${opts.out} and ${svg}`);
    };
  },
});
