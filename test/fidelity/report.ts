// The fidelity report: agreement per aspect and per plugin, every
// disagreement (documented or not) with its case written out as YAML to
// replay, as JSON and a Markdown summary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { writeCaseFile } from './case.js';
import type { FidelityCase } from './case.js';
import { ASPECTS } from './compare.js';
import type { CaseComparison, Disagreement } from './compare.js';
import { documentedBy } from './differences.js';
import type { DeliberateDifference } from './differences.js';

/** Cases compared and cases that agreed, for one aspect or plugin. */
export interface Agreement {
  compared: number;
  agreed: number;
}

/** A disagreement with the entry that documents it, if any, and its case file. */
export interface ReportedDisagreement extends Disagreement {
  readonly documented?: string;
  readonly caseFile: string;
}

export interface FidelityReport {
  readonly seed: number;
  readonly cases: number;
  readonly kubeSchedulerVersion: string;
  readonly aspects: Record<string, Agreement>;
  readonly plugins: Record<string, Agreement>;
  /** Cases each deliberate difference explains, by id. */
  readonly documentedCases: Record<string, number>;
  readonly disagreements: readonly ReportedDisagreement[];
  /** How many disagreements no deliberate difference documents. */
  readonly undocumented: number;
}

/** Tallies the comparisons against the deliberate differences. */
export function buildReport(opts: {
  seed: number;
  kubeSchedulerVersion: string;
  comparisons: readonly CaseComparison[];
  differences: readonly DeliberateDifference[];
  caseFileOf: (caseName: string) => string;
}): FidelityReport {
  const aspects: Record<string, Agreement> = Object.fromEntries(ASPECTS.map((a) => [a, { compared: 0, agreed: 0 }]));
  const plugins: Record<string, Agreement> = {};
  const documentedCases: Record<string, number> = Object.fromEntries(opts.differences.map((d) => [d.id, 0]));
  const disagreements: ReportedDisagreement[] = [];
  for (const c of opts.comparisons) {
    for (const aspect of c.compared) {
      const tally = (aspects[aspect] ??= { compared: 0, agreed: 0 });
      tally.compared++;
      if (!c.disagreements.some((d) => d.aspect === aspect)) tally.agreed++;
    }
    for (const plugin of c.plugins) {
      const tally = (plugins[plugin] ??= { compared: 0, agreed: 0 });
      tally.compared++;
      if (!c.disagreements.some((d) => d.aspect === 'pluginScores' && d.plugin === plugin)) tally.agreed++;
    }
    const explainedBy = new Set<string>();
    for (const d of c.disagreements) {
      const entry = documentedBy(d, opts.differences);
      if (entry) explainedBy.add(entry.id);
      disagreements.push({ ...d, ...(entry ? { documented: entry.id } : {}), caseFile: opts.caseFileOf(c.caseName) });
    }
    for (const id of explainedBy) documentedCases[id] = (documentedCases[id] ?? 0) + 1;
  }
  return {
    seed: opts.seed,
    cases: opts.comparisons.length,
    kubeSchedulerVersion: opts.kubeSchedulerVersion,
    aspects,
    plugins,
    documentedCases,
    disagreements,
    undocumented: disagreements.filter((d) => d.documented === undefined).length,
  };
}

const percent = (a: Agreement): string => (a.compared === 0 ? '–' : `${((100 * a.agreed) / a.compared).toFixed(1)} %`);

/** The Markdown summary of a report. */
export function renderMarkdown(report: FidelityReport, differences: readonly DeliberateDifference[]): string {
  const lines = [
    `# schedmesh vs kube-scheduler ${report.kubeSchedulerVersion}: fidelity`,
    '',
    `${report.cases} cases, seed ${report.seed}. Replay one case: \`npm run fidelity -- --case <file>\`.`,
    '',
    '| aspect | agreed | compared | agreement |',
    '|---|---|---|---|',
    ...Object.entries(report.aspects).map(([a, t]) => `| ${a} | ${t.agreed} | ${t.compared} | ${percent(t)} |`),
    '',
    '| plugin (weighted score per node) | agreed | compared | agreement |',
    '|---|---|---|---|',
    ...Object.entries(report.plugins).map(([p, t]) => `| ${p} | ${t.agreed} | ${t.compared} | ${percent(t)} |`),
    '',
    '## Documented differences',
    '',
    ...(differences.length === 0 ? ['None.'] : differences.map((d) => `- **${d.id}** (${d.aspects.join(', ')}${d.plugin ? `, ${d.plugin}` : ''}): ${report.documentedCases[d.id] ?? 0} case(s). ${d.why}`)),
    '',
    `## Disagreements (${report.disagreements.length}, ${report.undocumented} undocumented)`,
    '',
    ...report.disagreements.map((d) => `- ${d.documented ? `[${d.documented}] ` : '**undocumented** '}${d.caseName} ${d.aspect}${d.plugin ? ` ${d.plugin}` : ''}: ${d.detail} (\`${d.caseFile}\`)`),
    '',
  ];
  return lines.join('\n');
}

/** Writes report.json, report.md and the disagreeing cases' YAML into `dir`. */
export function writeReport(dir: string, report: FidelityReport, differences: readonly DeliberateDifference[], cases: ReadonlyMap<string, FidelityCase>): void {
  mkdirSync(join(dir, 'cases'), { recursive: true });
  for (const name of new Set(report.disagreements.map((d) => d.caseName))) {
    const c = cases.get(name);
    if (c) writeCaseFile(join(dir, 'cases', `${name}.yaml`), c);
  }
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'report.md'), renderMarkdown(report, differences));
}
