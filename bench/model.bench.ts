/**
 * Micro-benchmark of @schedmesh/model: quantity parsing and the edge
 * conversion of Pods and Nodes, each against a baseline measured in the same
 * run (a JSON round trip of the same object), so that the ratio stays
 * meaningful on a noisy machine.
 *
 *     npx tsc -b libs/model && npx tsx bench/model.bench.ts
 *
 * Each case is warmed up, then timed in ROUNDS rounds of about ROUND_MS;
 * the table shows the median round.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertNode, convertPod, milliValue, parseQuantity, value } from '@schedmesh/model';

const ROUNDS = 7;
const ROUND_MS = 300;
const WARMUP_MS = 500;

const testdata = join(__dirname, '..', 'libs', 'model', 'src', 'testdata');
const podText = readFileSync(join(testdata, 'pod-web.json'), 'utf8');
const nodeText = readFileSync(join(testdata, 'node-worker.json'), 'utf8');
const pod: unknown = JSON.parse(podText);
const node: unknown = JSON.parse(nodeText);

// A mix of the forms found in real objects, CPU (milli) and the rest (units).
const CPU_QUANTITIES = ['100m', '1', '1.5', '.5', '250m', '2', '500m', '0.1', '7910m', '1e3', '+1', '64'];
const BYTE_QUANTITIES = ['2Ki', '512Mi', '1.5Gi', '4Gi', '100Mi', '1k', '16Ti', '31391844Ki', '95551679124', '1e9', '64Mi', '0.5Gi'];
const ALL_QUANTITIES = [...CPU_QUANTITIES, ...BYTE_QUANTITIES];

// Results are folded into sink so that no call can be optimized away.
let sink = 0;

interface Case {
  readonly name: string;
  /** Operations (quantities, objects) per call of run. */
  readonly opsPerCall: number;
  readonly run: () => void;
}

function timeRound(c: Case, ms: number): number {
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 64; i++) c.run();
    calls += 64;
    elapsed = process.hrtime.bigint() - start;
  }
  return (calls * c.opsPerCall) / (Number(elapsed) / 1e9);
}

function measure(c: Case): number {
  timeRound(c, WARMUP_MS);
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rates.push(timeRound(c, ROUND_MS));
  rates.sort((a, b) => a - b);
  return rates[Math.floor(ROUNDS / 2)] as number;
}

const cases: { group: string; subject: Case; baseline: Case }[] = [
  {
    group: 'quantity',
    subject: {
      name: 'milliValue/value (mixed forms)',
      opsPerCall: ALL_QUANTITIES.length,
      run: () => {
        for (const q of CPU_QUANTITIES) sink += milliValue(q);
        for (const q of BYTE_QUANTITIES) sink += value(q);
      },
    },
    baseline: {
      name: 'Number.parseFloat (same strings)',
      opsPerCall: ALL_QUANTITIES.length,
      run: () => {
        for (const q of ALL_QUANTITIES) sink += Number.parseFloat(q) || 0;
      },
    },
  },
  {
    group: 'quantity (exact)',
    subject: {
      name: 'parseQuantity → bigint mantissa',
      opsPerCall: ALL_QUANTITIES.length,
      run: () => {
        for (const q of ALL_QUANTITIES) sink += parseQuantity(q).exponent;
      },
    },
    baseline: {
      name: 'Number.parseFloat (same strings)',
      opsPerCall: ALL_QUANTITIES.length,
      run: () => {
        for (const q of ALL_QUANTITIES) sink += Number.parseFloat(q) || 0;
      },
    },
  },
  {
    group: 'pod edge',
    subject: {
      name: 'convertPod (pod-web.json)',
      opsPerCall: 1,
      run: () => {
        sink += convertPod(pod).requests?.milliCpu ?? 0;
      },
    },
    baseline: {
      name: 'JSON.parse(JSON.stringify(pod))',
      opsPerCall: 1,
      run: () => {
        sink += (JSON.parse(JSON.stringify(pod)) as { kind?: string }).kind === 'Pod' ? 1 : 0;
      },
    },
  },
  {
    group: 'node edge',
    subject: {
      name: 'convertNode (node-worker.json)',
      opsPerCall: 1,
      run: () => {
        sink += convertNode(node).allocatable?.milliCpu ?? 0;
      },
    },
    baseline: {
      name: 'JSON.parse(JSON.stringify(node))',
      opsPerCall: 1,
      run: () => {
        sink += (JSON.parse(JSON.stringify(node)) as { kind?: string }).kind === 'Node' ? 1 : 0;
      },
    },
  },
];

function fmtRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)} M/s`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)} k/s`;
  return `${r.toFixed(0)} /s`;
}

function fmtNs(r: number): string {
  return `${(1e9 / r).toFixed(0)} ns`;
}

const rows: string[][] = [['case', 'rate', 'per op', 'baseline', 'baseline rate', 'vs baseline']];
for (const c of cases) {
  const subject = measure(c.subject);
  const baseline = measure(c.baseline);
  rows.push([`${c.group}: ${c.subject.name}`, fmtRate(subject), fmtNs(subject), c.baseline.name, fmtRate(baseline), `${(subject / baseline).toFixed(2)}×`]);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
const line = (r: string[]): string => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
console.log(`node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms after ${WARMUP_MS} ms warm-up (median round)\n`);
console.log(line(rows[0]!));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows.slice(1)) console.log(line(r));
console.log(`\n(sink ${sink % 10})`);
