// filterscore benchmark: Evaluate latency (p50/p99) and pods/s at 500, 5,000
// and 15,000 nodes, in-process (the engine on a local replica) and over gRPC
// (real NATS JetStream → snapshot service → Watch → filterscore replica), on
// the same cluster, in interleaved rounds. The ratio is the cost of the
// network hop and the proto encoding; the 1-node rows isolate that cost, and
// the floor is the same request answered with the same reply by a bare
// nice-grpc server (no middleware, no cycle) to a bare client.
//   npm run build && npx tsx bench/filterscore.bench.ts
// BENCH_SIZES=500,5000 and BENCH_EVALS=300 narrow it; BENCH_PODS_PER_NODE (default 5);
// BENCH_SPREAD=0 leaves every pod plain (no spread constraint), as SchedulingBasic's are;
// BENCH_CPU_PROF=DIR adds a profiled pass of each mode (bench/cpuprofile-top.ts reads the files).
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import type { EvaluateResponse, FilterScoreServiceImplementation } from '@schedmesh/proto/v1/filterscore';
import { Pod, UnsatisfiableConstraintAction } from '@schedmesh/proto/v1/types';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, ensureClusterStreamFrom } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import { clusterEvent, freePort, makeNode, makePod, startNats } from '@schedmesh/testkit';
import { createChannel, createClient, createServer, ServerError, Status } from 'nice-grpc';
import { printTable, profiled, publishAll, runBench } from './support.js';

const SIZES = (process.env.BENCH_SIZES ?? '500,5000,15000').split(',').map(Number);
const EVALS = Number(process.env.BENCH_EVALS ?? 300);
const WARMUP = 50;
const ROUNDS = 6;
const PODS_PER_NODE = Number(process.env.BENCH_PODS_PER_NODE ?? 5);
const SPREAD = process.env.BENCH_SPREAD !== '0';
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

/** The pods evaluated: plain requests, and (every other one, unless BENCH_SPREAD=0) a soft zone spread over its siblings. */
function incoming(i: number): Pod {
  const pod = makePod(`incoming-${i}`, 'ns-0').requests('1', '2Gi').label('app', `app-${i % 20}`).build();
  if (SPREAD && i % 2 === 1) {
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

type Run = (i: number) => Promise<unknown>;

/**
 * The floor of one Evaluate over loopback: a bare nice-grpc server (no
 * middleware) that decodes the request and answers `reply` at once, and a
 * bare client.
 */
async function floorServer(reply: EvaluateResponse): Promise<{ evaluate: Run; stop: () => Promise<void> }> {
  const unimplemented = async (): Promise<never> => {
    throw new ServerError(Status.UNIMPLEMENTED, 'not in this benchmark');
  };
  const impl: FilterScoreServiceImplementation = { evaluate: async () => reply, filter: unimplemented, score: unimplemented, findPreemptionCandidates: unimplemented };
  const server = createServer();
  server.add(FilterScoreServiceDefinition, impl);
  const port = await server.listen('127.0.0.1:0');
  const channel = createChannel(`127.0.0.1:${port}`);
  const client = createClient(FilterScoreServiceDefinition, channel);
  return {
    evaluate: (i) => client.evaluate({ pod: incoming(i), maxRanked: MAX_RANKED }),
    stop: async () => {
      channel.close();
      await server.shutdown();
    },
  };
}

/**
 * Each run's calls, one at a time, in ROUNDS interleaved rounds (a, b, c, a,
 * b, c, …): the shared machine's noise falls on every mode alike, so their
 * ratio means something even when the absolute figures swing.
 */
async function measureInterleaved<K extends string>(runs: Record<K, Run>): Promise<Record<K, Stats>> {
  const names = Object.keys(runs) as K[];
  const acc = new Map(names.map((k) => [k, { samples: [] as number[], wallMs: 0, cpuUs: 0 }]));
  for (const k of names) for (let i = 0; i < WARMUP; i++) await runs[k](i);
  const perRound = Math.ceil(EVALS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const k of names) {
      const a = acc.get(k)!;
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = round * perRound; i < (round + 1) * perRound; i++) {
        const t0 = performance.now();
        await runs[k](i);
        a.samples.push(performance.now() - t0);
      }
      a.wallMs += performance.now() - started;
      const used = process.cpuUsage(cpu);
      a.cpuUs += used.user + used.system;
    }
  }
  const out = {} as Record<K, Stats>;
  for (const k of names) {
    const { samples, wallMs, cpuUs } = acc.get(k)!;
    samples.sort((x, y) => x - y);
    const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
    out[k] = { p50: at(0.5), p99: at(0.99), podsPerSecond: (samples.length * 1000) / wallMs, cpuMs: cpuUs / 1000 / samples.length };
  }
  return out;
}

/** With BENCH_CPU_PROF: one more pass of each run alone, under the profiler. */
async function profileEach(prefix: string, runs: Record<string, Run>): Promise<void> {
  if (!process.env.BENCH_CPU_PROF) return;
  for (const [name, run] of Object.entries(runs)) {
    await profiled(`${prefix}-${name}`, async () => {
      for (let i = 0; i < EVALS; i++) await run(i);
    });
  }
}

async function main(): Promise<void> {
  const pods = SPREAD ? 'every other pod with a soft zone spread' : 'plain pods';
  log(`filterscore benchmark: ${EVALS} Evaluate calls per mode after ${WARMUP} warm-up, in ${ROUNDS} interleaved rounds; ${PODS_PER_NODE} pods per node, ${pods}, max_ranked ${MAX_RANKED}, default profile`);
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
    // One named node: the same call doing almost no scheduling work, so what is left is the hop's own cost.
    const oneNode = (i: number): string[] => [`node-${i % size}`];
    const probe = await app.engine.evaluate(incoming(0), options, MAX_RANKED);
    const floor = await floorServer(await client.evaluate({ pod: incoming(0), maxRanked: MAX_RANKED }));
    const runs = {
      inProcess: (i: number) => app.engine.evaluate(incoming(i), options, MAX_RANKED),
      grpc: (i: number) => client.evaluate({ pod: incoming(i), maxRanked: MAX_RANKED }),
      oneNodeInProcess: (i: number) => app.engine.evaluate(incoming(i), { ...options, nodeNames: oneNode(i) }, MAX_RANKED),
      oneNodeGrpc: (i: number) => client.evaluate({ pod: incoming(i), options: { nodeNames: oneNode(i) }, maxRanked: MAX_RANKED }),
      floor: floor.evaluate,
    };
    const m = await measureInterleaved(runs);
    await profileEach(`filterscore-${size}`, runs);
    const allRanked = await measureInterleaved({ grpc: (i: number) => client.evaluate({ pod: incoming(i) }) });
    const hopCpu = m.oneNodeGrpc.cpuMs - m.oneNodeInProcess.cpuMs;
    rows.push([
      fmt(size, 0),
      fmt(probe.result.nodesEvaluated, 0),
      fmt(m.inProcess.p50),
      fmt(m.inProcess.p99),
      fmt(m.grpc.p50),
      fmt(m.grpc.p99),
      `${fmt(m.grpc.p50 / m.inProcess.p50, 1)}×`,
      fmt(m.inProcess.cpuMs),
      fmt(m.grpc.cpuMs),
      `${fmt(m.grpc.cpuMs / m.inProcess.cpuMs, 1)}×`,
      fmt(m.oneNodeGrpc.p50),
      fmt(hopCpu),
      fmt(m.floor.p50),
      fmt(m.floor.cpuMs),
      `${fmt((m.inProcess.cpuMs + m.floor.cpuMs) / m.inProcess.cpuMs, 1)}×`,
      fmt(allRanked.grpc.p99),
      fmt(loadMs / 1000, 1),
    ]);
    channel.close();
    await floor.stop();
    await app.stop();
    await snapshot.stop();
    await nats.stop();
  }
  const header = [
    'nodes',
    'filtered',
    'in-proc p50 ms',
    'in-proc p99 ms',
    'gRPC p50 ms',
    'gRPC p99 ms',
    'gRPC/in-proc p50',
    'in-proc CPU ms/call',
    'gRPC CPU ms/call',
    'gRPC/in-proc CPU',
    '1-node gRPC p50 ms',
    'hop CPU ms/call',
    'floor p50 ms',
    'floor CPU ms/call',
    '(in-proc + floor)/in-proc CPU',
    'gRPC all-ranked p99 ms',
    'load+sync s',
  ];
  printTable(log, header, rows);
  log('filtered = nodes filtered per cycle (numFeasibleNodesToFind: adaptive percentage, then PreScore/Score on those found feasible).');
  log("CPU ms/call = this process's CPU time (client, filterscore, snapshot) per call. 1-node = the same Evaluate on one named node;");
  log('hop CPU = its gRPC CPU minus its in-process CPU: what one call over gRPC costs beyond the cycle (both sides, encoding, middleware).');
  log('floor = the same request and reply over loopback between a bare nice-grpc server and client (no middleware, no cycle);');
  log('(in-proc + floor)/in-proc = the CPU ratio an Evaluate over gRPC would have if the hop cost only that.');
}

runBench('filterscore', main);
