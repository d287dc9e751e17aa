// The side-by-side fidelity check in CI: a fixed seed of small cases on the
// real kube-scheduler (-v=10) and schedmesh's filterscore over the same real
// kube-apiserver. It fails on any disagreement that
// deliberate-differences.yaml does not document (the report in
// .tmp/fidelity-ci names each one with its replayable case file).
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { requireBinary } from '@schedmesh/testkit';
import { CASE_GATE, CASE_NAMESPACE, FOREIGN_SCHEDULER } from './case.js';
import type { FidelityCase } from './case.js';
import { compareCase } from './compare.js';
import { documentedBy, loadDeliberateDifferences } from './differences.js';
import { generateCase, generateCases } from './generator.js';
import { PREEMPTOR_CLASS } from './preemption-generator.js';
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
    expect(report.aspects.preemption?.compared).toBeGreaterThan(0);
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

test("room another scheduler's preemption holds: schedmesh keeps it free, kube-scheduler takes it (the documented foreign-nominations difference)", async () => {
  const cpuPod = (name: string, cpu: string) => ({ name, image: 'registry.invalid/tiny:1', resources: { requests: { cpu, memory: '64Mi' } } });
  const held: FidelityCase = {
    name: 'foreign-nomination',
    nodes: ['a', 'b'].map((n) => ({ name: `foreign-nomination-${n}`, capacity: { cpu: '4', memory: '8Gi', pods: '110' } })),
    existing: [{ metadata: { name: 'foreign-nomination-load', namespace: CASE_NAMESPACE }, spec: { nodeName: 'foreign-nomination-b', priorityClassName: 'fidelity-low', containers: [cpuPod('main', '3')] } }],
    nominated: [
      {
        metadata: { name: 'foreign-nomination-held', namespace: CASE_NAMESPACE },
        spec: { schedulerName: FOREIGN_SCHEDULER, priorityClassName: 'fidelity-high', containers: [cpuPod('main', '3')] },
        status: { nominatedNodeName: 'foreign-nomination-a' },
      },
    ],
    pending: { metadata: { name: 'foreign-nomination-pending', namespace: CASE_NAMESPACE }, spec: { schedulingGates: [{ name: CASE_GATE }], priorityClassName: 'fidelity-low', containers: [cpuPod('main', '2')] } },
  };
  const side = await runner!.run(held);
  expect(side.kube.node).toBe('foreign-nomination-a');
  expect(side.mesh.ranked).toEqual([]);
  expect(side.mesh.summary).toMatch(/^0\/2 nodes are available: 2 Insufficient cpu\./);
  const [difference, ...more] = compareCase(side).disagreements;
  expect(more).toEqual([]);
  expect(difference?.aspect).toBe('feasibility');
  expect(documentedBy(difference!, loadDeliberateDifferences())?.id).toBe('foreign-nominations');
}, 120_000);

test('preemption with a PodDisruptionBudget: both pick the node whose victims the budget does not guard, and evict the same pod', async () => {
  const pod = (name: string, node: string, priorityClassName: string, app: string) => ({
    metadata: { name: `preempt-pdb-${name}`, namespace: CASE_NAMESPACE, labels: { app } },
    spec: { nodeName: `preempt-pdb-${node}`, priorityClassName, containers: [{ name: 'main', image: 'registry.invalid/tiny:1', resources: { requests: { cpu: '1', memory: '64Mi' } } }] },
  });
  // Without the budget, a (victim priorities 1 and 2) is the cheaper node; the budget over app=db spares a's pods first.
  const guarded: FidelityCase = {
    name: 'preempt-pdb',
    nodes: ['a', 'b'].map((n) => ({ name: `preempt-pdb-${n}`, capacity: { cpu: '2', memory: '8Gi', pods: '110' } })),
    existing: [pod('db-1', 'a', 'fidelity-victim-1', 'db'), pod('db-2', 'a', 'fidelity-victim-2', 'db'), pod('web-3', 'b', 'fidelity-victim-3', 'web'), pod('web-4', 'b', 'fidelity-victim-4', 'web')],
    budgets: [{ metadata: { name: 'preempt-pdb-db', namespace: CASE_NAMESPACE }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } }],
    pending: {
      metadata: { name: 'preempt-pdb-pending', namespace: CASE_NAMESPACE },
      spec: { schedulingGates: [{ name: CASE_GATE }], priorityClassName: PREEMPTOR_CLASS.name, containers: [{ name: 'main', image: 'registry.invalid/tiny:1', resources: { requests: { cpu: '1', memory: '64Mi' } } }] },
    },
  };
  const side = await runner!.run(guarded);
  expect(side.preemption?.kube).toEqual({ nominatedNode: 'preempt-pdb-b', victims: ['preempt-pdb-web-3'] });
  expect(side.preemption?.mesh.candidates.map((c) => [c.nodeName, c.numPdbViolations, c.victims.map((v) => v.pod?.name)])).toEqual([
    ['preempt-pdb-b', 0, ['preempt-pdb-web-3']],
    ['preempt-pdb-a', 1, ['preempt-pdb-db-1']],
  ]);
  const comparison = compareCase(side);
  expect(comparison.compared).toContain('preemption');
  expect(comparison.disagreements).toEqual([]);
  // The same kube-scheduler outcome beside another schedmesh pick is a disagreement the comparison names.
  const [, other] = side.preemption!.mesh.candidates;
  const swapped = compareCase({ ...side, preemption: { ...side.preemption!, mesh: { ...side.preemption!.mesh, candidates: [other!] } } });
  expect(swapped.disagreements.map((d) => d.aspect)).toEqual(['preemption']);
}, 120_000);
