// Reservation service benchmark: `npx tsx bench/reservation.bench.ts`.
//
// Starts its own redis-server and nats-server (the test kit), publishes a small
// cluster to a private stream, and runs the reservation service as a child
// process (tsx, so no build is needed). Then, on the same Redis in the same run:
//   1. a bare SET NX PX + DEL loop (the cheapest possible "lock") — the baseline;
//   2. Reserve+Unreserve pairs over gRPC, one client, sequential;
//   3. the same with 8 clients contending for the same two nodes, with p50/p99
//      Reserve latency; and 8 clients of the bare loop for the ratio;
//   4. ReserveBatch + UnreserveBatch of 1, 8 and 32 pods per call, one client,
//      counted per pod (a "pair" is one pod reserved and released);
//   5. the coalescing client of libs/mesh (what the scheduler uses): 32
//      callers each calling reserve() then unreserve() per pod, gathered into
//      batch calls (at most 32 pods, same tick);
//   6. the path of a pod to its Binding as the scheduler's attempt makes it:
//      Reserve + Renew(binding) + Unreserve (the lease marked binding by the
//      renewal right before the Binding, as before) against Reserve(binding)
//      + Unreserve (marked at its grant, as now), one client, per pod;
//   7. Confirm (PostBind) per pod: one Confirm call per pod (the baseline of
//      this table), ConfirmBatch of 8 and 32 pods per call, and the
//      coalescing client with 32 callers of confirm(); the leases are
//      granted before and released after each phase, outside its counts;
//   and, for scale, the floor of any pair of calls to the service: two
//   Unreserve calls for a pod with no lease (one GET each).
// Every phase is bounded in count and in time. The machines are shared and
// noisy: read the ratios, not the absolute figures; the CPU time per pair of
// the service, of this process (the clients: the scheduler's side of each
// call) and of redis-server (not counting waits for a core) is the steadier
// figure on a loaded machine.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import type { Lease, ReservationServiceClient } from '@schedmesh/proto/v1/reservation';
import { coalescingReservationClient } from '@schedmesh/mesh';
import type { ReservationClient } from '@schedmesh/mesh';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { ensureClusterStream, publishClusterEvent } from '@schedmesh/runtime';
import { freePort, startNats, startRedis } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { createChannel, createClient } from 'nice-grpc';
import { runBench } from './support.js';

const SEQUENTIAL_PAIRS = 3_000;
const CONTENDED_PAIRS_PER_CLIENT = 600;
const CLIENTS = 8;
const PHASE_LIMIT_MS = 10_000;
const READY_LIMIT_MS = 180_000;
const WARMUP_PAIRS = 300;
const BATCH_SIZES = [1, 8, 32] as const;
const COALESCED_CALLERS = 32;
const CONFIRM_PODS = 2_048;
const CONFIRM_BATCH_SIZES = [1, 8, 32] as const;
/** The most entries of one batch call (the service's bound). */
const MAX_BATCH = 256;

interface PhaseResult {
  name: string;
  pairs: number;
  ms: number;
  reserveLatenciesMs: number[];
  /** CPU time of the service process and of redis-server in the phase, µs: waiting for a core does not count. */
  serviceCpuUs: number;
  redisCpuUs: number;
  /** CPU time of this process (the clients) in the phase, µs. */
  clientCpuUs: number;
  /** Commands redis-server processed in the phase (INFO stats; includes the service's background checks, a few a second). */
  redisCommands: number;
}

const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU time of a process so far, µs (from /proc; 0 where there is none). */
function processCpuUs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields after the command name: state is the 3rd, utime the 14th, stime the 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
  } catch {
    return 0;
  }
}

/** redis-server's own CPU time so far (INFO cpu: used_cpu_sys + used_cpu_user, µs) and the commands it processed. */
async function redisCounters(redis: Redis): Promise<{ cpuUs: number; commands: number }> {
  const info = await redis.info();
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  // The INFO call itself is one command.
  return { cpuUs: (field('used_cpu_sys') + field('used_cpu_user')) * 1e6, commands: field('total_commands_processed') + 1 };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function bareLoop(redis: Redis, pairs: number, tag: string): Promise<number> {
  const deadline = performance.now() + PHASE_LIMIT_MS;
  let done = 0;
  for (; done < pairs && performance.now() < deadline; done++) {
    const key = `bench:lock:${tag}:${done % 64}`;
    await redis.set(key, tag, 'PX', 30_000, 'NX');
    await redis.del(key);
  }
  return done;
}

/** How a pair marks its lease binding before the release: not at all, by a Renew(binding) call, or at its grant (Reserve(binding)). */
type Marking = 'none' | 'renew' | 'grant';

async function reservePairs(client: ReservationServiceClient, pairs: number, tag: string, nodes: readonly string[], latencies: number[], marking: Marking = 'none'): Promise<number> {
  const deadline = performance.now() + PHASE_LIMIT_MS;
  let done = 0;
  for (; done < pairs && performance.now() < deadline; done++) {
    const uid = `bench-${tag}-${done % 64}`;
    const nodeName = nodes[done % nodes.length]!;
    const started = performance.now();
    const reply = await client.reserve({ ...benchRequest(uid, nodeName, tag), binding: marking === 'grant' });
    latencies.push(performance.now() - started);
    if (reply.result?.$case !== 'lease') throw new Error(`unexpected refusal: ${JSON.stringify(reply.result)}`);
    const { fencingVersion } = reply.result.value;
    if (marking === 'renew') await client.renew({ podUid: uid, nodeName, fencingVersion, binding: true });
    await client.unreserve({ podUid: uid, fencingVersion });
  }
  return done;
}

/** Pods reserved and released in batch calls of `size` pods (each pod one pair); the latency is the ReserveBatch call's. */
async function batchPairs(client: ReservationServiceClient, pairs: number, size: number, tag: string, nodes: readonly string[], latencies: number[]): Promise<number> {
  const deadline = performance.now() + PHASE_LIMIT_MS;
  let done = 0;
  while (done < pairs && performance.now() < deadline) {
    const pods = Array.from({ length: size }, (_, j) => benchRequest(`bench-${tag}-${j}`, nodes[(done + j) % nodes.length]!, tag));
    const started = performance.now();
    const reply = await client.reserveBatch({ pods });
    latencies.push(performance.now() - started);
    const leases = reply.pods.map((p) => {
      if (p.result?.$case !== 'lease') throw new Error(`unexpected answer: ${JSON.stringify(p.result)}`);
      return p.result.value;
    });
    await client.unreserveBatch({ pods: leases.map((l) => ({ podUid: l.pod!.uid, fencingVersion: l.fencingVersion })) });
    done += size;
  }
  return done;
}

/** Pairs through the coalescing client: `callers` loops of reserve() then unreserve(), one pod each, gathered into batch calls. */
async function coalescedPairs(client: ReservationClient, pairsPerCaller: number, callers: number, nodes: readonly string[], latencies: number[]): Promise<number> {
  const deadline = performance.now() + PHASE_LIMIT_MS;
  const caller = async (c: number): Promise<number> => {
    let done = 0;
    for (; done < pairsPerCaller && performance.now() < deadline; done++) {
      const started = performance.now();
      const reply = await client.reserve(benchRequest(`bench-co-${c}`, nodes[(c + done) % nodes.length]!, 'coalesced'));
      latencies.push(performance.now() - started);
      if (reply.result?.$case !== 'lease') throw new Error(`unexpected refusal: ${JSON.stringify(reply.result)}`);
      await client.unreserve({ podUid: `bench-co-${c}`, fencingVersion: reply.result.value.fencingVersion });
    }
    return done;
  };
  return (await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)))).reduce((a, b) => a + b, 0);
}

/** Reserved leases for `count` fresh pods, granted in batch calls (outside any phase's counts). */
async function grantLeases(client: ReservationServiceClient, count: number, tag: string, nodes: readonly string[]): Promise<Lease[]> {
  const leases: Lease[] = [];
  for (let from = 0; from < count; from += MAX_BATCH) {
    const pods = Array.from({ length: Math.min(MAX_BATCH, count - from) }, (_, j) => benchRequest(`bench-${tag}-${from + j}`, nodes[(from + j) % nodes.length]!, tag));
    for (const p of (await client.reserveBatch({ pods })).pods) {
      if (p.result?.$case !== 'lease') throw new Error(`unexpected answer: ${JSON.stringify(p.result)}`);
      leases.push(p.result.value);
    }
  }
  return leases;
}

/** Releases the leases (confirmed or not), outside any phase's counts. */
async function releaseLeases(client: ReservationServiceClient, leases: readonly Lease[]): Promise<void> {
  for (let from = 0; from < leases.length; from += MAX_BATCH) {
    await client.unreserveBatch({ pods: leases.slice(from, from + MAX_BATCH).map((l) => ({ podUid: l.pod!.uid, fencingVersion: l.fencingVersion })) });
  }
}

/** Confirms the leases `size` per call, one call at a time (1: the plain Confirm); the latency is the call's. */
async function confirmCalls(client: ReservationServiceClient, leases: readonly Lease[], size: number, latencies: number[]): Promise<number> {
  const deadline = performance.now() + PHASE_LIMIT_MS;
  let done = 0;
  while (done < leases.length && performance.now() < deadline) {
    const pods = leases.slice(done, done + size).map((l) => ({ podUid: l.pod!.uid, fencingVersion: l.fencingVersion }));
    const started = performance.now();
    if (size === 1) await client.confirm(pods[0]!);
    else if ((await client.confirmBatch({ pods })).pods.some((p) => p.result?.$case !== 'lease')) throw new Error('a Confirm of the batch failed');
    latencies.push(performance.now() - started);
    done += pods.length;
  }
  return done;
}

/** Confirms through the coalescing client: `callers` loops of confirm(), one pod each. */
async function coalescedConfirms(client: ReservationClient, leases: readonly Lease[], callers: number, latencies: number[]): Promise<number> {
  const deadline = performance.now() + PHASE_LIMIT_MS;
  const caller = async (c: number): Promise<number> => {
    let done = 0;
    for (let i = c; i < leases.length && performance.now() < deadline; i += callers, done++) {
      const started = performance.now();
      await client.confirm({ podUid: leases[i]!.pod!.uid, fencingVersion: leases[i]!.fencingVersion });
      latencies.push(performance.now() - started);
    }
    return done;
  };
  return (await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)))).reduce((a, b) => a + b, 0);
}

function benchRequest(uid: string, nodeName: string, holder: string) {
  return {
    pod: { uid, namespace: 'bench', name: uid },
    nodeName,
    requests: { milliCpu: 100, memory: 1 << 20, ephemeralStorage: 0, pods: 0, scalar: {} },
    ttl: { seconds: 30 },
    holder,
  };
}

async function floorPairs(client: ReservationServiceClient, pairs: number): Promise<number> {
  const deadline = performance.now() + PHASE_LIMIT_MS;
  let done = 0;
  for (; done < pairs && performance.now() < deadline; done++) {
    // A version, as every caller must name one: the call reaches Redis and finds no lease.
    await client.unreserve({ podUid: 'bench-no-lease', fencingVersion: 1 });
    await client.unreserve({ podUid: 'bench-no-lease', fencingVersion: 1 });
  }
  return done;
}

/** Where the CPU of a phase is counted: the service's process and redis-server. */
interface CpuProbes {
  servicePid: number | undefined;
  redis: Redis;
}

async function timed(name: string, cpu: CpuProbes, run: (latencies: number[]) => Promise<number>): Promise<PhaseResult> {
  const latencies: number[] = [];
  const [service0, redis0] = [processCpuUs(cpu.servicePid), await redisCounters(cpu.redis)];
  const client0 = process.cpuUsage();
  const started = performance.now();
  const pairs = await run(latencies);
  const ms = performance.now() - started;
  const client = process.cpuUsage(client0);
  const [service1, redis1] = [processCpuUs(cpu.servicePid), await redisCounters(cpu.redis)];
  return {
    name,
    pairs,
    ms,
    reserveLatenciesMs: latencies.sort((a, b) => a - b),
    serviceCpuUs: service1 - service0,
    redisCpuUs: redis1.cpuUs - redis0.cpuUs,
    clientCpuUs: client.user + client.system,
    redisCommands: redis1.commands - redis0.commands - 1,
  };
}

async function waitReady(httpPort: number, child: ChildProcess): Promise<void> {
  // Generous: on a shared 2-core machine under load the service takes long to start.
  const deadline = Date.now() + READY_LIMIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the reservation service exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the reservation service did not become ready within ${READY_LIMIT_MS / 1000} s`);
}

/** Prints phases against their baselines; the service's CPU is left out for phases that do not call it (`bareLoops`). */
function printPhases(header: readonly string[], phases: readonly (readonly [PhaseResult, PhaseResult])[], bareLoops: readonly PhaseResult[]): void {
  const rate = (r: PhaseResult): number => (r.pairs / r.ms) * 1000;
  const rows = phases.map(([r, base]) => [
    r.name,
    String(r.pairs),
    rate(r).toFixed(0),
    r === base ? '1.00' : (rate(r) / rate(base)).toFixed(3),
    r.reserveLatenciesMs.length ? percentile(r.reserveLatenciesMs, 50).toFixed(2) : '-',
    r.reserveLatenciesMs.length ? percentile(r.reserveLatenciesMs, 99).toFixed(2) : '-',
    bareLoops.includes(r) ? '-' : (r.serviceCpuUs / r.pairs).toFixed(0),
    (r.clientCpuUs / r.pairs).toFixed(0),
    (r.redisCpuUs / r.pairs).toFixed(0),
    (r.redisCommands / r.pairs).toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

async function main(): Promise<void> {
  const [redisServer, natsServer] = await Promise.all([startRedis(), startNats()]);
  let service: ChildProcess | undefined;
  const redis = new Redis(redisServer.url);
  const nc = await connect({ servers: natsServer.url });
  try {
    const stream = 'BENCH_CLUSTER';
    await ensureClusterStream(await jetstreamManager(nc), { name: stream, memory: true });
    const js = jetstream(nc);
    const nodes = ['bench-n1', 'bench-n2'];
    for (const name of nodes) {
      await publishClusterEvent(
        js,
        ClusterEvent.fromPartial({
          type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT,
          object: { $case: 'node', value: { name, allocatable: { milliCpu: 1_000_000, memory: 2 ** 40, pods: 10_000 } } },
        }),
      );
    }

    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    // SCHEDMESH_BENCH_CPU_PROF=<dir>: the service writes a V8 CPU profile there when it exits.
    const profileDir = process.env.SCHEDMESH_BENCH_CPU_PROF;
    const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    service = spawn(process.execPath, [...profile, '--import', 'tsx', join(__dirname, '..', 'services', 'reservation', 'src', 'main.ts')], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        SCHEDMESH_GRPC__HOST: '127.0.0.1',
        SCHEDMESH_GRPC__PORT: String(grpcPort),
        SCHEDMESH_HTTP__HOST: '127.0.0.1',
        SCHEDMESH_HTTP__PORT: String(httpPort),
        SCHEDMESH_LOG__LEVEL: 'warn',
        SCHEDMESH_REDIS__URL: redisServer.url,
        SCHEDMESH_NATS__URL: natsServer.url,
        SCHEDMESH_NATS__STREAM: stream,
      },
    });
    await waitReady(httpPort, service);

    const channels = Array.from({ length: CLIENTS }, () => createChannel(`127.0.0.1:${grpcPort}`));
    const clients: ReservationClient[] = channels.map((ch) => createClient(ReservationServiceDefinition, ch));
    const bareClients = Array.from({ length: CLIENTS }, () => new Redis(redisServer.url));

    // Warm up both paths (JIT, connections, script cache).
    await bareLoop(redis, WARMUP_PAIRS, 'warmup');
    await reservePairs(clients[0]!, WARMUP_PAIRS, 'warmup', nodes, []);

    const cpu: CpuProbes = { servicePid: service.pid, redis };
    const bare = await timed('bare SET NX PX + DEL, 1 client', cpu, async () => bareLoop(redis, SEQUENTIAL_PAIRS * 3, 'seq'));
    const grpc = await timed('Reserve + Unreserve over gRPC, 1 client', cpu, async (lat) => reservePairs(clients[0]!, SEQUENTIAL_PAIRS, 'seq', nodes, lat));
    const floor = await timed('floor: 2 x Unreserve of no lease over gRPC, 1 client', cpu, async () => floorPairs(clients[0]!, SEQUENTIAL_PAIRS));
    const bare8 = await timed(`bare SET NX PX + DEL, ${CLIENTS} clients`, cpu, async () =>
      (await Promise.all(bareClients.map((c, i) => bareLoop(c, CONTENDED_PAIRS_PER_CLIENT * 3, `c${i}`)))).reduce((a, b) => a + b, 0),
    );
    const grpc8 = await timed(`Reserve + Unreserve over gRPC, ${CLIENTS} clients, 2 nodes`, cpu, async (lat) =>
      (await Promise.all(clients.map((c, i) => reservePairs(c, CONTENDED_PAIRS_PER_CLIENT, `c${i}`, nodes, lat)))).reduce((a, b) => a + b, 0),
    );

    const batched: PhaseResult[] = [];
    for (const size of BATCH_SIZES) {
      batched.push(await timed(`ReserveBatch + UnreserveBatch, ${size} pod(s)/call, 1 client, per pod`, cpu, async (lat) => batchPairs(clients[0]!, SEQUENTIAL_PAIRS, size, `b${size}`, nodes, lat)));
    }
    const coalescing = coalescingReservationClient(clients[0]!, { maxPods: COALESCED_CALLERS, windowMs: 0, confirmWindowMs: 0 });
    const coalesced = await timed(`coalescing client, ${COALESCED_CALLERS} callers of reserve()+unreserve(), per pod`, cpu, async (lat) =>
      coalescedPairs(coalescing, Math.ceil(SEQUENTIAL_PAIRS / COALESCED_CALLERS) * 4, COALESCED_CALLERS, nodes, lat),
    );

    const markedByRenew = await timed('Reserve + Renew(binding) + Unreserve, 1 client (bind path before)', cpu, async (lat) =>
      reservePairs(clients[0]!, SEQUENTIAL_PAIRS, 'renew', nodes, lat, 'renew'),
    );
    const markedAtGrant = await timed('Reserve(binding) + Unreserve, 1 client (bind path now)', cpu, async (lat) =>
      reservePairs(clients[0]!, SEQUENTIAL_PAIRS, 'grant', nodes, lat, 'grant'),
    );

    // Confirm per pod: the leases of each phase granted before it and released after it.
    const confirms: PhaseResult[] = [];
    const confirmPhase = async (name: string, tag: string, run: (leases: readonly Lease[], lat: number[]) => Promise<number>): Promise<void> => {
      const leases = await grantLeases(clients[0]!, CONFIRM_PODS, tag, nodes);
      confirms.push(await timed(name, cpu, (lat) => run(leases, lat)));
      await releaseLeases(clients[0]!, leases);
    };
    for (const size of CONFIRM_BATCH_SIZES) {
      const name = size === 1 ? 'Confirm, 1 pod/call, 1 client, per pod' : `ConfirmBatch, ${size} pods/call, 1 client, per pod`;
      await confirmPhase(name, `cf${size}`, (leases, lat) => confirmCalls(clients[0]!, leases, size, lat));
    }
    const confirming = coalescingReservationClient(clients[0]!, { maxPods: COALESCED_CALLERS, windowMs: 0, confirmWindowMs: 0 });
    await confirmPhase(`coalescing client, ${COALESCED_CALLERS} callers of confirm(), per pod`, 'cfco', (leases, lat) => coalescedConfirms(confirming, leases, COALESCED_CALLERS, lat));

    process.stdout.write(`reservation benchmark (redis-server and the service on this machine; ${CLIENTS} clients on separate channels/connections)\n`);
    const pairs = [[bare, bare], [floor, bare], [grpc, bare], ...batched.map((b) => [b, bare] as const), [coalesced, bare], [markedByRenew, bare], [markedAtGrant, bare], [bare8, bare8], [grpc8, bare8]] as const;
    printPhases(['phase', 'pairs', 'pairs/s', 'vs bare', 'Reserve p50 ms', 'Reserve p99 ms', 'service CPU µs/pair', 'client CPU µs/pair', 'redis CPU µs/pair', 'redis commands/pair'], pairs, [bare, bare8]);
    const rate = (r: PhaseResult): number => (r.pairs / r.ms) * 1000;
    const perPod = (r: PhaseResult, total: number): string => (total / r.pairs).toFixed(0);
    process.stdout.write(
      `binding at grant vs by Renew (same run, per pod): ${(rate(markedAtGrant) / rate(markedByRenew)).toFixed(2)}x pods/s; ` +
        `service CPU ${perPod(markedAtGrant, markedAtGrant.serviceCpuUs)} vs ${perPod(markedByRenew, markedByRenew.serviceCpuUs)} µs; ` +
        `redis CPU ${perPod(markedAtGrant, markedAtGrant.redisCpuUs)} vs ${perPod(markedByRenew, markedByRenew.redisCpuUs)} µs; ` +
        `redis commands ${(markedAtGrant.redisCommands / markedAtGrant.pairs).toFixed(2)} vs ${(markedByRenew.redisCommands / markedByRenew.pairs).toFixed(2)}\n`,
    );
    process.stdout.write(`\nConfirm per pod (${CONFIRM_PODS} leases a phase), against one Confirm call per pod\n`);
    const confirmRows = confirms.map((c) => [c, confirms[0]!] as const);
    printPhases(['phase', 'pods', 'pods/s', 'vs 1/call', 'call p50 ms', 'call p99 ms', 'service CPU µs/pod', 'client CPU µs/pod', 'redis CPU µs/pod', 'redis commands/pod'], confirmRows, []);

    for (const ch of channels) ch.close();
    for (const c of bareClients) c.disconnect();
  } finally {
    if (service && service.exitCode === null) {
      const exited = new Promise((resolve) => service!.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
    }
    redis.disconnect();
    await nc.close();
    await Promise.all([redisServer.stop(), natsServer.stop()]);
  }
}

runBench('reservation', main);
