/**
 * What keeping `schedmesh why`'s explanation costs the scheduler: the time a
 * finished attempt spends in AttemptRecords.finished, with the explanation
 * (reasons grouped, nodes named, top nodes kept) against the same records
 * without it (`explained: 0`), and against what the attempt already pays for
 * the same rejections — decoding filterscore's Evaluate reply that carries
 * them — measured in the same run; and the heap that 10,000 explained pods
 * hold against 10,000 plain records.
 *
 *     npm run build && npx tsx bench/records.bench.ts
 *
 * Attempts are built as a 5,000-node cluster returns them: an unschedulable
 * pod rejected on every node (3 reasons), one rejected on 100 nodes, and a
 * bound pod with 10 ranked nodes of 6 plugin scores and 20 rejections. Each
 * case is warmed up, then timed in ROUNDS rounds of about ROUND_MS; the table
 * shows the median round.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Status } from '@schedmesh/framework';
import type { AttemptResult } from '@schedmesh/mesh';
import { EvaluateResponse } from '@schedmesh/proto/v1/filterscore';
import type { NodeScore, Pod } from '@schedmesh/proto/v1/types';
import { AttemptRecords } from '@schedmesh/scheduler-service';
import { makePod } from '@schedmesh/testkit';

const ROUNDS = 7;
const ROUND_MS = 300;
const WARMUP_MS = 500;
const PODS = 10_000;

const REASONS = [
  Status.unschedulable('Insufficient cpu').withPlugin('NodeResourcesFit'),
  Status.unresolvable("node(s) didn't match Pod's node affinity/selector").withPlugin('NodeAffinity'),
  Status.unresolvable('node(s) had untolerated taint(s)').withPlugin('TaintToleration'),
];
const PLUGINS = ['TaintToleration', 'NodeResourcesFit', 'NodeResourcesBalancedAllocation', 'ImageLocality', 'PodTopologySpread', 'InterPodAffinity'];

function attempt(outcome: AttemptResult['outcome'], rejected: number, ranked: number): AttemptResult {
  const rejectedNodes = new Map<string, Status>();
  for (let i = 0; i < rejected; i++) rejectedNodes.set(`node-${String(i).padStart(5, '0')}`, REASONS[i % REASONS.length]!);
  const scores: NodeScore[] = Array.from({ length: ranked }, (_, i) => ({
    nodeName: `node-${String(rejected + i).padStart(5, '0')}`,
    total: 600 - i,
    plugins: PLUGINS.map((plugin, p) => ({ plugin, score: 100 - i - p, weight: p === 0 ? 3 : 1 })),
  }));
  return {
    outcome,
    status: outcome === 'scheduled' ? Status.SUCCESS : Status.unschedulable(`0/${rejected} nodes are available`).withPlugin('SchedmeshFilterScore'),
    nodeName: outcome === 'scheduled' ? scores[0]!.nodeName : '',
    message: outcome === 'scheduled' ? '' : `0/${rejected} nodes are available: ${rejected} Insufficient cpu.`,
    generation: 1,
    fencingVersion: 0,
    ranked: scores,
    steps: [],
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    rejectors: [],
    rejectedNodes,
    nominatedNodeName: '',
    patched: { labels: {}, annotations: {} },
    admissionPolicies: [],
    candidates: [],
    nominationCleared: false,
    heldElsewhere: false,
  };
}

const pods: Pod[] = Array.from({ length: PODS }, (_, i) => makePod(`pod-${i}`, 'bench').uid(`uid-${i}`).build());
let next = 0;

/** Calls per second of `fn`. */
function rate(fn: () => void, ms: number): number {
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  while (process.hrtime.bigint() - start < budget) {
    for (let i = 0; i < 16; i++) fn();
    calls += 16;
  }
  return calls / (Number(process.hrtime.bigint() - start) / 1e9);
}

function median(fn: () => void): number {
  rate(fn, WARMUP_MS);
  const rates = Array.from({ length: ROUNDS }, () => rate(fn, ROUND_MS)).sort((a, b) => a - b);
  return rates[Math.floor(ROUNDS / 2)]!;
}

/** records.finished for `result`, over the pods in turn (the LRU stays full). */
const finishing = (records: AttemptRecords, result: AttemptResult) => (): void => records.finished(pods[next++ % PODS]!, result);

/** Decoding filterscore's reply that carries the attempt's rejections and ranking (what the attempt already pays). */
function decoding(result: AttemptResult): () => void {
  const bytes = EvaluateResponse.encode(
    EvaluateResponse.fromPartial({ rejected: [...result.rejectedNodes].map(([nodeName, status]) => ({ nodeName, status: status.toProto() })), ranked: [...result.ranked] }),
  ).finish();
  return () => {
    if (EvaluateResponse.decode(bytes).rejected.length < 0) throw new Error('unreachable');
  };
}

const cases: [string, AttemptResult][] = [
  ['unschedulable, 5,000 nodes rejected (3 reasons)', attempt('unschedulable', 5_000, 0)],
  ['unschedulable, 100 nodes rejected (3 reasons)', attempt('unschedulable', 100, 0)],
  ['bound, 10 ranked (6 plugins), 20 rejected', attempt('scheduled', 20, 10)],
];

const fmtUs = (perSecond: number): string => `${(1e6 / perSecond).toFixed(1)} µs`;
console.log('per attempt (median of rounds): records.finished with the explanation, without it (explained: 0), and decoding the Evaluate reply');
console.log(`${'attempt'.padEnd(50)} ${'with'.padStart(10)} ${'without'.padStart(10)} ${'decode'.padStart(10)}  with ÷ decode`);
for (const [name, result] of cases) {
  const withExplanation = median(finishing(new AttemptRecords({ capacity: PODS }), result));
  const without = median(finishing(new AttemptRecords({ capacity: PODS, explained: 0 }), result));
  const decode = median(decoding(result));
  console.log(`${name.padEnd(50)} ${fmtUs(withExplanation).padStart(10)} ${fmtUs(without).padStart(10)} ${fmtUs(decode).padStart(10)}  ${(decode / withExplanation).toFixed(2)}`);
}

// Heap: the same 10,000 pods recorded with and without explanations, after a full collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapOf(explained: number, result: AttemptResult): { bytes: number; records: AttemptRecords } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const records = new AttemptRecords({ capacity: PODS, explained });
  // A fresh result per pod, as the scheduler keeps one per attempt: nothing shared between records but the strings.
  for (const pod of pods) records.finished(pod, { ...result, rejectedNodes: new Map(result.rejectedNodes), ranked: result.ranked.map((r) => ({ ...r, plugins: r.plugins.map((p) => ({ ...p })) })) });
  gc();
  return { bytes: process.memoryUsage().heapUsed - before, records };
}
console.log(`\nheap of ${PODS.toLocaleString('en')} recorded pods (after gc)`);
for (const [name, result] of [cases[1]!, cases[2]!]) {
  const plain = heapOf(0, result);
  const explained = heapOf(PODS, result);
  const perPod = (explained.bytes - plain.bytes) / PODS;
  console.log(
    `${name.padEnd(50)} records ${(plain.bytes / 2 ** 20).toFixed(1)} MiB, with explanations ${(explained.bytes / 2 ** 20).toFixed(1)} MiB (${(explained.bytes / plain.bytes).toFixed(1)}×; ${Math.round(perPod)} B per explanation)`,
  );
  // Keep both alive until measured.
  if (plain.records.size + explained.records.size !== 2 * PODS) throw new Error('records lost');
}
