// filterscore benchmark: Evaluate latency (p50/p99) and pods/s at 500, 5,000
// and 15,000 nodes, in-process (the engine on a local replica) and over gRPC
// (real NATS JetStream → snapshot service → Watch → filterscore replica), on
// the same cluster. The ratio is the cost of the network hop and the proto
// encoding.
//   npm run build && npx tsx bench/filterscore.bench.ts
// BENCH_SIZES=500,5000 and BENCH_EVALS=300 narrow it; BENCH_PODS_PER_NODE (default 5);
// BENCH_CPU_PROF=DIR writes a CPU profile of each measured phase (bench/cpuprofile-top.ts reads it).
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import { Pod, UnsatisfiableConstraintAction } from '@schedmesh/proto/v1/types';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, ensureClusterStreamFrom } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import { clusterEvent, freePort, makeNode, makePod, startNats } from '@schedmesh/testkit';
import { printTable, profiled, publishAll, runBench } from './support.js';

const SIZES = (process.env.BENCH_SIZES ?? '500,5000,15000').split(',').map(Number);
const EVALS = Number(process.env.BENCH_EVALS ?? 300);
const WARMUP = 50;
const PODS_PER_NODE = Number(process.env.BENCH_PODS_PER_NODE ?? 5);
const MAX_RANKED = 10;
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 2): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function cluster(nodes: number): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  for (let n = 0; n < nodes; n++) {
    events.push(clusterEvent(makeNode(`node-${n}`).capacity('32', '128Gi', 110).zone(`zone-${n % 3}`).rack(`rack-${n % 40}`).pool(`pool-${n % 4}`).build()));
  }
  for (let n = 0; n < nodes; n++) {
    for (let p = 0; p < PODS_PER_NODE; p++) {
      events.push(clusterEvent(makePod(`app-${n}-${p}`, `ns-${p % 3}`).requests('500m', '1Gi').label('app', `app-${(n + p) % 20}`).on(`node-${n}`).build()));
    }
  }
  return events;
}

/** The pods evaluated: plain requests, and (every other one) a soft zone spread over its siblings. */
function incoming(i: number): Pod {
  const pod = makePod(`incoming-${i}`, 'ns-0').requests('1', '2Gi').label('app', `app-${i % 20}`).build();
  if (i % 2 === 1) {
    pod.topologySpreadConstraints.push({
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_SCHEDULE_ANYWAY,
      labelSelector: { matchLabels: { app: `app-${i % 20}` }, matchExpressions: [] },
      minDomains: undefined,
      nodeAffinityPolicy: 0,
      nodeTaintsPolicy: 0,
      matchLabelKeys: [],
    });
  }
  return Pod.fromPartial(pod);
}

interface Stats {
  p50: number;
  p99: number;
  podsPerSecond: number;
  /** CPU time of this process (client and services together) per call. */
  cpuMs: number;
}

async function measure(run: (i: number) => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < WARMUP; i++) await run(i);
  const samples: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < EVALS; i++) {
    const t0 = performance.now();
    await run(i);
    samples.push(performance.now() - t0);
  }
  const total = performance.now() - started;
  const used = process.cpuUsage(cpu);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), podsPerSecond: (EVALS * 1000) / total, cpuMs: (used.user + used.system) / 1000 / EVALS };
}

async function main(): Promise<void> {
  log(`filterscore benchmark: ${EVALS} Evaluate calls per row after ${WARMUP} warm-up, ${PODS_PER_NODE} pods per node, max_ranked ${MAX_RANKED}, default profile`);
  const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };
  const rows: string[][] = [];
  for (const size of SIZES) {
    const nats = await startNats();
    const snapshotPort = await freePort();
    const snapshotConfig = snapshotConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: snapshotPort }, nats: { url: nats.url } });
    await ensureClusterStreamFrom(snapshotConfig.nats); // no informer here: the bench stands in for it
    const snapshot = await startSnapshotApp(snapshotConfig, { handleSignals: false });
    const events = cluster(size);
    const loadStarted = performance.now();
    const head = await publishAll(nats.url, events);
    const app = await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: 0 }, snapshot: { address: `127.0.0.1:${snapshotPort}` } }), { handleSignals: false });
    while (!(app.replica.gate.synced && app.replica.generation >= head)) await new Promise((r) => setTimeout(r, 20));
    const loadMs = performance.now() - loadStarted;
    const channel = connectChannel(`127.0.0.1:${app.grpcPort}`);
    const client = createServiceClient(FilterScoreServiceDefinition, channel, { defaultDeadlineMs: 10_000 });

    const signal = new AbortController().signal;
    const options = { profile: '', minGeneration: 0, nodeNames: [], signal };
    const probe = await app.engine.evaluate(incoming(0), options, MAX_RANKED);
    const inProcess = await profiled(`filterscore-${size}-in-process`, () => measure((i) => app.engine.evaluate(incoming(i), options, MAX_RANKED)));
    const overGrpc = await profiled(`filterscore-${size}-grpc`, () => measure((i) => client.evaluate({ pod: incoming(i), maxRanked: MAX_RANKED })));
    const allRanked = await measure((i) => client.evaluate({ pod: incoming(i) }));
    rows.push([
      fmt(size, 0),
      fmt(probe.result.nodesEvaluated, 0),
      fmt(inProcess.p50),
      fmt(inProcess.p99),
      fmt(inProcess.podsPerSecond, 0),
      fmt(overGrpc.p50),
      fmt(overGrpc.p99),
      fmt(overGrpc.podsPerSecond, 0),
      `${fmt(overGrpc.p50 / inProcess.p50, 1)}×`,
      fmt(inProcess.cpuMs),
      fmt(overGrpc.cpuMs),
      fmt(allRanked.p99),
      fmt(loadMs / 1000, 1),
    ]);
    channel.close();
    await app.stop();
    await snapshot.stop();
    await nats.stop();
  }
  const header = ['nodes', 'filtered', 'in-proc p50 ms', 'in-proc p99 ms', 'in-proc pods/s', 'gRPC p50 ms', 'gRPC p99 ms', 'gRPC pods/s', 'gRPC/in-proc p50', 'in-proc CPU ms/call', 'gRPC CPU ms/call', 'gRPC all-ranked p99 ms', 'load+sync s'];
  printTable(log, header, rows);
  log('filtered = nodes filtered per cycle (numFeasibleNodesToFind: adaptive percentage, then PreScore/Score on those found feasible).');
}

runBench('filterscore', main);
