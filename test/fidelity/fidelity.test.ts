// The side-by-side fidelity check in CI: a fixed seed of small cases on the
// real kube-scheduler (-v=10) and schedmesh's filterscore over the same real
// kube-apiserver. It fails on any disagreement that
// deliberate-differences.yaml does not document (the report in
// .tmp/fidelity-ci names each one with its replayable case file).
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { requireBinary } from '@schedmesh/testkit';
import type { FidelityCase } from './case.js';
import { generateCase, generateCases } from './generator.js';
import type { FidelityReport } from './report.js';
import { CaseRefusedError, SideBySideRunner } from './runner.js';
import { runCases } from './session.js';

const SEED = 20261201;
const CASES = 30;
const OUT = join(__dirname, '../../.tmp/fidelity-ci');

let runner: SideBySideRunner | undefined;
let report: FidelityReport | undefined;

beforeAll(async () => {
  requireBinary('kube-scheduler');
  runner = await SideBySideRunner.start();
}, 180_000);

afterAll(async () => {
  await runner?.stop();
}, 60_000);

describe(`fidelity, seed ${SEED}, ${CASES} cases`, () => {
  test('every case was compared, and the run placed some pods and refused others', async () => {
    report = await runCases(runner!, { seed: SEED, cases: generateCases(SEED, CASES, { minNodes: 5, maxNodes: 30 }), outDir: OUT });
    process.stdout.write(`fidelity seed ${SEED}: ${JSON.stringify(report.aspects)}; report ${OUT}/report.md\n`);
    expect(report.cases).toBe(CASES);
    expect(report.aspects.feasibility?.compared).toBe(CASES);
    expect(report.aspects.chosenNodeTopScored?.compared).toBeGreaterThan(0);
    expect(report.aspects.refusalReasons?.compared).toBeGreaterThan(0);
    expect(report.aspects.pluginScores?.compared).toBeGreaterThan(0);
  }, 420_000);

  test('no disagreement that deliberate-differences.yaml does not document', () => {
    expect(report?.disagreements.filter((d) => d.documented === undefined)).toEqual([]);
  });
});

test('a case the API server refuses stops the run with the object and the API server\'s message, and is cleared away', async () => {
  const valid = generateCase(SEED, 999, { minNodes: 5, maxNodes: 5 });
  const bad: FidelityCase = { ...valid, pending: { ...valid.pending, spec: { ...valid.pending.spec!, containers: [{ name: 'Not_A_DNS_Label', image: 'registry.invalid/x:1' }] } } };
  const err = await runner!.run(bad).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CaseRefusedError);
  expect((err as CaseRefusedError).apiMessage).toMatch(/spec\.containers\[0\]\.name/);
  expect((err as CaseRefusedError).object).toBe(bad.pending);
  // The refused case's nodes and pods went: run() waits until both schedulers hold exactly the next case, which leftovers would stop.
  const next = await runner!.run(valid);
  expect(next.kube.node ?? next.kube.message).toBeDefined();
}, 120_000);
