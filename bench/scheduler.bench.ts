// Scheduler benchmark: schedmesh against the stock kube-scheduler, binding
// pods on one real control plane (etcd + kube-apiserver of test/cluster) in
// the same run.
//   npm run build && SCHEDMESH_CLUSTER_BIN=/path/to/test/cluster/bin npx tsx bench/scheduler.bench.ts
// Knobs: BENCH_NODES (default 1,000 fake nodes), BENCH_PODS (default 2,000 pods
// per phase), BENCH_PHASE_TIMEOUT_MS (default 240,000: a phase that runs out
// reports the pods bound so far), BENCH_KUBE_SCHEDULER (default "stock,fast").
//
// What it does, in order, on the same M nodes (4 CPU, 16Gi, 110 pods each):
//   1. kube-scheduler (startKubeScheduler, one default profile) binds N pods of
//      schedulerName default-scheduler. "stock" is its configuration as shipped
//      (client QPS 50, burst 100); "fast" raises the client's QPS and burst to
//      5,000 as upstream's scheduler_perf does, so the figure is the scheduler's
//      and not its client rate limiter's. Each variant is its own phase.
//   2. schedmesh binds N pods of schedulerName schedmesh: the whole mesh in
//      this process as test/e2e/scheduler.test.ts composes it (informer,
//      snapshot, filterscore, reservation on a private Redis, admission with no
//      policy, gateway with no plugin configured, scheduler).
// Between phases the previous phase's pods are deleted (grace 0) and the list
// is waited empty, so every phase sees the same free capacity; the mesh starts
// only after the kube-scheduler phases (its informer would otherwise compete
// with kube-scheduler for the two cores).
// In every phase the pods are created through the API in parallel batches of
// 50 (kept-alive connections), and a watch records when each is first seen with spec.nodeName (a list
// every 5 s catches anything the watch missed). pods/s is N over the time from
// the first create to the last pod seen bound; the API's own clock
// (creationTimestamp → PodScheduled lastTransitionTime, 1 s resolution) is
// printed beside it as a check on the in-process watch lagging.
// Where schedmesh's time goes: the scheduler's runtime makes its own tracer
// provider (libs/runtime initTelemetry) and uses that provider's tracer, so a
// provider registered here would receive nothing. The scheduler is given
// telemetry.otlpEndpoint instead, pointed at a small OTLP/HTTP JSON receiver
// in this process; the children of each `schedule_one` span are grouped by
// name. The export (batched) is part of the measured run, as it would be in
// production with tracing on. CPU seconds per process and this process's event
// loop utilization per phase say what was busy.
// The machine is shared and noisy: read the ratios, not the absolute figures.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { availableParallelism } from 'node:os';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';

import { Watch } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { gatewayConfigSchema, startGatewayService } from '@schedmesh/gateway-service';
import type { GatewayServiceHandle } from '@schedmesh/gateway-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { schedulerConfigSchema, startSchedulerApp } from '@schedmesh/scheduler-service';
import type { SchedulerApp } from '@schedmesh/scheduler-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { createFakeNodes, fakeNodeSpecs, pollUntil, requireBinary, startControlPlane, startKubeScheduler, startNats, startRedis } from '@schedmesh/testkit';
import type { ControlPlane, KubeScheduler, KubeSchedulerConfiguration } from '@schedmesh/testkit';
import { runBench } from './support.js';

const NODES = Number(process.env.BENCH_NODES ?? 1_000);
const PODS = Number(process.env.BENCH_PODS ?? 2_000);
const PHASE_LIMIT_MS = Number(process.env.BENCH_PHASE_TIMEOUT_MS ?? 240_000);
const KUBE_VARIANTS = (process.env.BENCH_KUBE_SCHEDULER ?? 'stock,fast').split(',').filter((v) => v === 'stock' || v === 'fast');
const CREATE_BATCH = 50;
const PARALLELISM = 16; // the scheduler's default attempts in flight, passed explicitly
const NAMESPACE = 'default';
const CRD = join(__dirname, '..', 'deploy', 'base', 'crds', 'admissionpolicy.yaml');
const KUBE_CONFIGS: Record<string, { label: string; config?: KubeSchedulerConfiguration }> = {
  stock: { label: 'kube-scheduler (stock: client QPS 50, burst 100)' },
  fast: { label: 'kube-scheduler (client QPS/burst 5000)', config: { clientConnection: { qps: 5000, burst: 5000 } } },
};

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  log(line(header));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) log(line(r));
}

// ---- CPU accounting: /proc, per process and for the whole machine ----

const TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used, or NaN once it is gone. */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime); the slice starts at field 3.
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores). */
function machineCpu(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = cpu[3]! + cpu[4]!; // idle + iowait
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

interface CpuProbe {
  readonly name: string;
  read(): number;
}

interface CpuFigures {
  readonly perProcess: { name: string; seconds: number }[];
  readonly machineBusy: number;
  readonly machineTotal: number;
  /** This process's event loop utilization over the phase (0..1). */
  readonly elu: number;
}

function cpuMeter(probes: readonly CpuProbe[]): () => CpuFigures {
  const before = probes.map((p) => p.read());
  const machine = machineCpu();
  const elu = performance.eventLoopUtilization();
  return () => {
    const after = machineCpu();
    return {
      perProcess: probes.map((p, i) => ({ name: p.name, seconds: p.read() - before[i]! })),
      machineBusy: after.busy - machine.busy,
      machineTotal: after.total - machine.total,
      elu: performance.eventLoopUtilization(elu).utilization,
    };
  };
}

// ---- pods: creation, binding observed by a watch, deletion ----

function benchPod(name: string, phase: string, schedulerName: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'scheduler-bench', 'bench-phase': phase } },
    spec: {
      schedulerName,
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: '250m', memory: '256Mi' } } }],
    },
  };
}

/**
 * POSTs pods over kept-alive TLS connections. client-node's fetch opens a
 * connection per request, and a profile showed those handshakes taking a
 * seventh of this process's event loop, which the in-process mesh shares.
 */
function podCreator(cp: ControlPlane): { create(pod: V1Pod): Promise<void>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: CREATE_BATCH, ca: cp.caPem });
  const create = (pod: V1Pod): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(pod);
      const req = httpsRequest(
        `${cp.server}/api/v1/namespaces/${NAMESPACE}/pods`,
        { method: 'POST', agent, headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`create pod ${pod.metadata?.name}: HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`))));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`create pod ${pod.metadata?.name}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  return { create, close: () => agent.destroy() };
}

interface PhaseResult {
  readonly label: string;
  readonly pods: number;
  readonly bound: number;
  readonly timedOut: boolean;
  /** First create call to the last create answered, ms. */
  readonly createMs: number;
  /** First create call to the last pod seen bound, ms. */
  readonly totalMs: number;
  /** Per pod: create answered → seen bound, ms, sorted. */
  readonly podLatenciesMs: number[];
  /** The API's clock: earliest creationTimestamp → latest PodScheduled transition, s (1 s resolution). */
  readonly apiSeconds: number;
  readonly cpu: CpuFigures;
  /** Wall-clock create-answered time of each pod (epoch ms), for the span breakdown. */
  readonly createdAt: Map<string, number>;
}

const podsPerSecond = (r: PhaseResult): number => (r.bound * 1000) / r.totalMs;

/**
 * Creates `PODS` pods for `schedulerName` in parallel batches and waits (at
 * most PHASE_LIMIT_MS) until every one is seen bound.
 */
async function runPhase(cp: ControlPlane, label: string, phase: string, schedulerName: string, probes: readonly CpuProbe[]): Promise<PhaseResult> {
  const names = Array.from({ length: PODS }, (_, i) => `${phase}-${i}`);
  const createdAt = new Map<string, number>();
  const createdPerf = new Map<string, number>();
  const boundPerf = new Map<string, number>();
  const selector = `bench-phase=${phase}`;
  let allBound: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allBound = resolve));
  const seen = (pod: V1Pod, at: number): void => {
    const name = pod.metadata?.name;
    if (!name || !pod.spec?.nodeName || boundPerf.has(name)) return;
    boundPerf.set(name, at);
    if (boundPerf.size === PODS) allBound();
  };

  // The watch starts before the first create, from the (empty) list's resourceVersion.
  const initial = await cp.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: selector });
  const watcher = await new Watch(cp.kubeConfig).watch(
    `/api/v1/namespaces/${NAMESPACE}/pods`,
    { labelSelector: selector, resourceVersion: initial.metadata?.resourceVersion, allowWatchBookmarks: true },
    (type: string, obj: V1Pod) => {
      if (type === 'ADDED' || type === 'MODIFIED') seen(obj, performance.now());
    },
    () => undefined, // the periodic list below covers a watch that ended
  );
  let listing = false;
  const relist = setInterval(() => {
    if (listing) return;
    listing = true;
    const at = performance.now();
    void cp.core
      .listNamespacedPod({ namespace: NAMESPACE, labelSelector: selector })
      .then((list) => list.items.forEach((p) => seen(p, at)), () => undefined)
      .finally(() => (listing = false));
  }, 5_000);

  const creator = podCreator(cp);
  const meter = cpuMeter(probes);
  const started = performance.now();
  const deadline = started + PHASE_LIMIT_MS;
  let timedOut = false;
  try {
    for (let i = 0; i < names.length && performance.now() < deadline; i += CREATE_BATCH) {
      await Promise.all(
        names.slice(i, i + CREATE_BATCH).map(async (n) => {
          await creator.create(benchPod(n, phase, schedulerName));
          createdPerf.set(n, performance.now());
          createdAt.set(n, Date.now());
        }),
      );
    }
    const createMs = Math.max(...createdPerf.values()) - started;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(() => ((timedOut = true), resolve()), Math.max(0, deadline - performance.now()))))]);
    clearTimeout(timer);
    const cpu = meter();
    const lastBound = boundPerf.size > 0 ? Math.max(...boundPerf.values()) : performance.now();
    const podLatenciesMs = [...boundPerf].map(([n, at]) => at - (createdPerf.get(n) ?? started)).sort((a, b) => a - b);

    const pods = (await cp.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: selector })).items;
    const created = pods.map((p) => p.metadata?.creationTimestamp?.getTime() ?? Number.NaN).filter(Number.isFinite);
    const scheduled = pods
      .map((p) => p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True')?.lastTransitionTime?.getTime() ?? Number.NaN)
      .filter(Number.isFinite);
    const apiSeconds = created.length && scheduled.length ? (Math.max(...scheduled) - Math.min(...created)) / 1000 : Number.NaN;
    return { label, pods: PODS, bound: boundPerf.size, timedOut, createMs, totalMs: lastBound - started, podLatenciesMs, apiSeconds, cpu, createdAt };
  } finally {
    clearInterval(relist);
    watcher.abort();
    creator.close();
  }
}

async function deletePhasePods(cp: ControlPlane, phase: string): Promise<void> {
  // Grace 0: no kubelet runs to confirm a graceful deletion.
  await cp.core.deleteCollectionNamespacedPod({ namespace: NAMESPACE, labelSelector: `bench-phase=${phase}`, gracePeriodSeconds: 0 });
  await pollUntil(async () => ((await cp.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `bench-phase=${phase}`, limit: 1 })).items.length === 0 ? true : undefined), {
    what: `pods of phase ${phase} deleted`,
    timeoutMs: 120_000,
    intervalMs: 500,
  });
}

// ---- spans: a minimal OTLP/HTTP JSON receiver ----

interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly podName: string;
}

interface OtlpAnyValue {
  stringValue?: string;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: { key: string; value: OtlpAnyValue }[];
}
interface OtlpRequest {
  resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function startSpanReceiver(spans: ReceivedSpan[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const parsed = JSON.parse(body.toString('utf8')) as OtlpRequest;
        for (const rs of parsed.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const start = BigInt(String(s.startTimeUnixNano));
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
                startMs: Number(start / 1_000n) / 1000,
                durationMs: Number(BigInt(String(s.endTimeUnixNano)) - start) / 1e6,
                podName: s.attributes?.find((a) => a.key === 'k8s.pod.name')?.value.stringValue ?? '',
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/traces`, server })));
}

interface StepRow {
  name: string;
  count: number;
  p50: number;
  p99: number;
  mean: number;
  share: number;
}

/** The children of `schedule_one` grouped by name, and the attempt itself. */
function stepBreakdown(spans: readonly ReceivedSpan[]): { rows: StepRow[]; roots: ReceivedSpan[] } {
  const roots = spans.filter((s) => s.name === 'schedule_one');
  const rootIds = new Set(roots.map((s) => s.spanId));
  const byName = new Map<string, number[]>();
  for (const s of spans) {
    if (!rootIds.has(s.parentSpanId)) continue;
    const list = byName.get(s.name) ?? [];
    list.push(s.durationMs);
    byName.set(s.name, list);
  }
  const attemptTotal = roots.reduce((a, s) => a + s.durationMs, 0);
  const row = (name: string, values: number[]): StepRow => {
    const sorted = [...values].sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    return { name, count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sum / sorted.length, share: sum / attemptTotal };
  };
  const rows = [...byName].map(([name, values]) => row(name, values));
  // What the attempt spends outside its steps (the gateway's plugin list, selectHost, span bookkeeping).
  const childSum = rows.reduce((a, r) => a + r.mean * r.count, 0);
  rows.push({ ...row('(outside steps)', [attemptTotal - childSum]), count: roots.length, p50: Number.NaN, p99: Number.NaN, mean: (attemptTotal - childSum) / roots.length });
  rows.push(row('schedule_one (whole attempt)', roots.map((s) => s.durationMs)));
  return { rows, roots };
}

// ---- the mesh, as test/e2e/scheduler.test.ts composes it ----

interface Mesh {
  readonly scheduler: SchedulerApp;
  stop(): Promise<void>;
}

async function startMesh(cp: ControlPlane, natsUrl: string, redisUrl: string, otlpEndpoint: string): Promise<Mesh> {
  const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'error' }, shutdown: { grace: '1s' } };
  const grpc = { host: '127.0.0.1', port: 0 };
  const nats = { url: natsUrl, stream: 'BENCH_CLUSTER', subjectPrefix: 'bench', memoryStorage: true };
  const kubeconfig = cp.kubeconfigPath;
  const apps: { stop(): Promise<void> }[] = [];
  const keep = <T extends { stop(): Promise<void> }>(app: T): T => (apps.unshift(app), app);
  try {
    keep<InformerApp>(await startInformerApp(informerConfigSchema.parse({ ...common, grpc, nats, source: { kubeconfig } }), { handleSignals: false }));
    const snapshot = keep<SnapshotApp>(await startSnapshotApp(snapshotConfigSchema.parse({ ...common, grpc, nats }), { handleSignals: false }));
    const filterscore = keep<FilterScoreApp>(
      await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc, snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }), { handleSignals: false }),
    );
    const reservation = keep<ReservationApp>(
      await startReservation(reservationConfigSchema.parse({ ...common, grpc, nats, redis: { url: redisUrl, keyPrefix: 'bench' } }), { handleSignals: false }),
    );
    const gateway = keep<GatewayServiceHandle>(await startGatewayService(gatewayConfigSchema.parse({ ...common, grpc }), { handleSignals: false }));
    const admission = keep<AdmissionApp>(
      await startAdmissionApp(admissionConfigSchema.parse({ ...common, grpc, nats: { ...nats, lastKnownGoodBucket: 'bench_lkg' }, kubernetes: { kubeconfig } }), { handleSignals: false }),
    );
    const scheduler = keep<SchedulerApp>(
      await startSchedulerApp(
        schedulerConfigSchema.parse({
          ...common,
          grpc,
          nats,
          telemetry: { otlpEndpoint },
          filterscore: { address: `127.0.0.1:${filterscore.grpcPort}` },
          reservation: { address: `127.0.0.1:${reservation.grpcPort}` },
          admission: { address: `127.0.0.1:${admission.grpcPort}` },
          gateway: { address: `127.0.0.1:${gateway.grpcPort}` },
          kubernetes: { kubeconfig },
          scheduler: { durableName: 'bench', instance: 'bench-0', parallelism: PARALLELISM },
        }),
        { handleSignals: false },
      ),
    );
    await pollUntil(async () => (scheduler.source.gate.synced && scheduler.source.viewNodes() === NODES ? true : undefined), { what: 'scheduler view in sync', timeoutMs: 120_000 });
    return {
      scheduler,
      stop: async () => {
        for (const app of apps) await app.stop().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const app of apps) await app.stop().catch(() => undefined);
    throw err;
  }
}

function kubectl(cp: ControlPlane, args: string[]): Promise<string> {
  const bin = requireBinary('kubectl');
  return new Promise((resolve, reject) => {
    execFile(bin, ['--kubeconfig', cp.kubeconfigPath, ...args], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

/** attempts_total by outcome from the scheduler's Prometheus registry. */
async function attemptsByOutcome(app: SchedulerApp): Promise<string> {
  const metrics = await app.runtime.metrics.getMetricsAsJSON();
  const attempts = metrics.find((m) => m.name === 'schedmesh_scheduler_attempts_total');
  const values = (attempts?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  return values.map((v) => `${String(v.labels.outcome)}=${v.value}`).join(', ') || 'none';
}

// ---- the run ----

async function main(): Promise<void> {
  // Read by the scheduler's BatchSpanProcessor when it is built: room for every span of the run, exported often.
  process.env.OTEL_BSP_MAX_QUEUE_SIZE ??= '100000';
  process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ??= '2000';
  process.env.OTEL_BSP_SCHEDULE_DELAY ??= '500';

  log(`scheduler benchmark: ${PODS} pods (250m, 256Mi) onto ${NODES} fake nodes (4 CPU, 16Gi, 110 pods), created in parallel batches of ${CREATE_BATCH}; phase limit ${PHASE_LIMIT_MS / 1000} s`);
  const figures: [string, string][] = [];
  const [redis, nats] = await Promise.all([startRedis(), startNats()]);
  const spans: ReceivedSpan[] = [];
  const receiver = await startSpanReceiver(spans);
  let cp: ControlPlane | undefined;
  let kubeScheduler: KubeScheduler | undefined;
  let mesh: Mesh | undefined;
  try {
    cp = await startControlPlane();
    figures.push(['control plane start', `${fmt(cp.startupMs / 1000, 1)} s`]);
    await kubectl(cp, ['apply', '-f', CRD]);
    await kubectl(cp, ['wait', '--for', 'condition=established', '--timeout=30s', 'crd/admissionpolicies.schedmesh.io']);
    let t0 = performance.now();
    await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(NODES, { zones: 3, racksPerZone: 4 }), { concurrency: 32 });
    figures.push([`create ${NODES} fake nodes`, `${fmt((performance.now() - t0) / 1000, 1)} s`]);

    const [etcd, apiserver] = [cp.processes.find((p) => p.name === 'etcd')!, cp.processes.find((p) => p.name === 'kube-apiserver')!];
    const baseProbes: CpuProbe[] = [
      { name: 'kube-apiserver', read: () => cpuSecondsOf(apiserver.pid) },
      { name: 'etcd', read: () => cpuSecondsOf(etcd.pid) },
      { name: 'this process', read: () => process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 },
    ];

    const results: PhaseResult[] = [];
    for (const variant of KUBE_VARIANTS) {
      const { label, config } = KUBE_CONFIGS[variant]!;
      kubeScheduler = await startKubeScheduler(cp, config ? { config } : {});
      const ks = kubeScheduler;
      const probes = [...baseProbes, { name: 'kube-scheduler', read: () => cpuSecondsOf(ks.process.pid) }];
      const phase = `ks-${variant}`;
      results.push(await runPhase(cp, label, phase, 'default-scheduler', probes));
      await kubeScheduler.stop();
      kubeScheduler = undefined;
      await deletePhasePods(cp, phase);
    }

    t0 = performance.now();
    mesh = await startMesh(cp, nats.url, redis.url, receiver.url);
    figures.push(['mesh start to view in sync', `${fmt((performance.now() - t0) / 1000, 1)} s`]);
    const sm = await runPhase(cp, 'schedmesh (the whole mesh in this process)', 'schedmesh', 'schedmesh', baseProbes);
    results.push(sm);
    await mesh.scheduler.runtime.telemetry.flush();
    await new Promise((r) => setTimeout(r, 500));
    const attempts = await attemptsByOutcome(mesh.scheduler);

    // ---- throughput ----
    log('');
    const base = results[0]!;
    table(
      ['phase', 'bound', 'create s', 'total s', 'pods/s', `vs ${KUBE_VARIANTS[0] ?? 'first'}`, 'API-clock s', 'latency p50 ms', 'latency p99 ms'],
      results.map((r) => [
        r.label + (r.timedOut ? ' (TIMED OUT: partial)' : ''),
        `${r.bound}/${r.pods}`,
        fmt(r.createMs / 1000, 1),
        fmt(r.totalMs / 1000, 1),
        fmt(podsPerSecond(r), 1),
        r === base ? '1.00' : fmt(podsPerSecond(r) / podsPerSecond(base), 2),
        fmt(r.apiSeconds, 0),
        fmt(percentile(r.podLatenciesMs, 50), 0),
        fmt(percentile(r.podLatenciesMs, 99), 0),
      ]),
    );
    log('total = first create to last pod seen bound; latency = create answered to seen bound, per pod.');
    for (const r of results.slice(1)) {
      if (r !== sm) continue;
      for (const other of results.slice(0, -1)) log(`schedmesh / ${other.label}: ${fmt(podsPerSecond(sm) / podsPerSecond(other), 2)}`);
    }

    // ---- CPU ----
    log('');
    log(`CPU seconds per phase (${availableParallelism()} cores; "machine busy" counts everything on the machine: redis, nats and other users too)`);
    const names = [...new Set(results.flatMap((r) => r.cpu.perProcess.map((p) => p.name)))];
    table(
      ['phase', ...names, 'machine busy', 'machine busy %', 'event loop util'],
      results.map((r) => [
        r.label,
        ...names.map((n) => fmt(r.cpu.perProcess.find((p) => p.name === n)?.seconds ?? Number.NaN, 1)),
        fmt(r.cpu.machineBusy, 1),
        fmt((100 * r.cpu.machineBusy) / r.cpu.machineTotal, 0),
        fmt(r.cpu.elu, 2),
      ]),
    );

    // ---- where schedmesh's attempt time goes ----
    log('');
    const { rows, roots } = stepBreakdown(spans);
    log(`schedmesh attempts: ${attempts} (Prometheus attempts_total); ${roots.length} schedule_one spans received, ${spans.length} spans in all`);
    table(
      ['step (child span of schedule_one)', 'count', 'p50 ms', 'p99 ms', 'mean ms', 'share of attempt time'],
      rows.map((r) => [r.name, fmt(r.count), fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.mean, 2), `${fmt(100 * r.share, 0)}%`]),
    );
    // Before the attempt: create answered → attempt started (informer → NATS → durable consumer → queue → a free worker).
    const waits = roots
      .map((s) => (sm.createdAt.has(s.podName) ? s.startMs - sm.createdAt.get(s.podName)! : Number.NaN))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    log(`create answered → first attempt started: p50 ${fmt(percentile(waits, 50), 0)} ms, p99 ${fmt(percentile(waits, 99), 0)} ms (${waits.length} attempts)`);
    const attemptMs = roots.map((s) => s.durationMs);
    const meanAttempt = attemptMs.reduce((a, b) => a + b, 0) / Math.max(1, attemptMs.length);
    log(`with ${PARALLELISM} attempts in flight and a mean attempt of ${fmt(meanAttempt, 1)} ms, the workers allow at most ${fmt((PARALLELISM * 1000) / meanAttempt, 0)} pods/s`);

    log('');
    for (const [k, v] of figures) log(`${k}: ${v}`);
  } finally {
    await mesh?.stop();
    await kubeScheduler?.stop();
    await cp?.stop();
    receiver.server.close();
    await Promise.all([redis.stop(), nats.stop()]);
  }
}

runBench('scheduler', main);
