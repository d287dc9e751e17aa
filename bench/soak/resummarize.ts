// Reads a soak report again: its verdicts recomputed from its samples with
// this build's summary (a fix to how it reads them applies to past runs), and
// optionally over another window, e.g. every sample after the caches filled
// rather than the last 10 minutes.
//
//   npx tsx bench/soak/resummarize.ts FILE [--window-from SECONDS] [--write]
//
// --window-from: the window starts at this many seconds of churn (default:
// the run's own, its warm-up). --write: the report's derived fields (bounds,
// window, processes) are written back to FILE; the samples are never changed.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { writeReport } from '../scheduling/report.js';
import { printSoak, summarize } from './report.js';
import type { SoakReport } from './report.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'window-from': { type: 'string' }, write: { type: 'boolean' } } });
const [file] = positionals;
if (!file || positionals.length > 1) {
  console.error('usage: npx tsx bench/soak/resummarize.ts FILE [--window-from SECONDS] [--write]');
  process.exit(2);
}
const from = values['window-from'] === undefined ? undefined : Number(values['window-from']);
if (from !== undefined && !(Number.isFinite(from) && from >= 0)) {
  console.error(`--window-from: expected seconds (a number >= 0), got "${values['window-from']}"`);
  process.exit(2);
}
if (values.write && from !== undefined) {
  console.error("--write keeps the run's own window: leave out --window-from");
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as SoakReport;
if (!Array.isArray(report.samples) || report.samples.length === 0) {
  console.error(`${file}: no samples (is it a soak report?)`);
  process.exit(2);
}
const samples = from === undefined ? report.samples : report.samples.map((s) => ({ ...s, measured: s.atSeconds >= from }));
const names = report.processes.map((p) => p.name);
const again: SoakReport = { ...report, ...summarize(names, samples, report.options.smallBounds) };
printSoak((line) => console.log(line), again);
if (from !== undefined) console.log(`\nwindow from ${from} s of churn, not the run's own (its warm-up, ${report.options.warmUpMs / 1000} s)`);
if (values.write) {
  writeReport(file, again);
  console.log(`rewrote ${file} (its samples unchanged)`);
}
