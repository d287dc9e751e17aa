// The memory soak (issue 18: "RSS per 1,000 nodes of each service stated,
// and flat over a 10-minute run"): the mesh as processes on a real control
// plane with fake nodes, pods created, bound and deleted in rounds for the
// whole run, and every service's RSS and heap sampled; the JSON holds each
// one's slopes and verdicts, the SVG its lines. `npm run bench:soak -- --help`
// lists the flags; README.md ("Memory soak") says what it measures.
// It stops with a message, leaving nothing running, on a bad flag, a missing
// binary, a failure or when the run exceeds --time-limit.
import { benchMain } from '../cli.js';
import { writeReport } from '../scheduling/report.js';
import { writeSoakChart } from './chart.js';
import { parseSoakOptions, USAGE } from './options.js';
import { printSoak } from './report.js';
import type { SoakReport } from './report.js';

benchMain({
  name: 'soak',
  usage: USAGE,
  parse: parseSoakOptions,
  timeLimitMs: (opts) => opts.timeLimitMs,
  async run(opts, teardown, log, progress) {
    const svg = `${opts.out.replace(/\.json$/, '')}.svg`;
    const save = (report: SoakReport): void => {
      writeReport(opts.out, report);
      writeSoakChart(svg, report, `${opts.nodes} nodes, ${opts.initialPods} pods kept, rounds of ${opts.batch} pods${opts.smallBounds ? ', bounds lowered (--small-bounds)' : ''}; ${report.machine.cpus} cores, ${report.startedAt.slice(0, 10)}`);
    };
    // Loaded once the flags are known good: a bad flag answers at once.
    const { runSoak } = await import('./run.js');
    const report = await runSoak(opts, teardown, progress, save);
    return () => {
      save(report);
      printSoak(log, report);
      log(`wrote ${opts.out} and ${svg}`);
    };
  },
});
