// The run: the control plane and its nodes once, the floors, then every
// workload in every mode on the same cluster state (each phase's pods are
// deleted before the next), figures recorded per phase.
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { SchedulingV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from '@schedmesh/testkit';
import { createFakeNodes, fakeNodeSpecs, kubectl, pollUntil, requireBinary } from '@schedmesh/testkit';

import { apiRequestsBetween, readApiRequests } from './api-requests.js';
import { measureFloors } from './floor.js';
import { kubeSchedulerSteps, readKubeSchedulerTimes } from './ks-metrics.js';
import { MODE_LABELS, ModeRunner, requireBuiltServices } from './modes.js';
import type { RunningMode } from './modes.js';
import type { SchedulingBenchOptions } from './options.js';
import { createPods, deletePhasePods, runPhase } from './phase.js';
import { childrenNamed, meter } from './procstat.js';
import type { WatchedProcess } from './procstat.js';
import { printPhase, withFloor } from './report.js';
import type { PhaseRecord, SchedulingReport } from './report.js';
import { percentile, rpcCalls, startSpanReceiver, stepBreakdown } from './spans.js';
import type { SpanReceiver } from './spans.js';
import { startBenchServers } from './teardown.js';
import type { Teardown } from './teardown.js';
import { benchPod, HIGH_PRIORITY, LOW_PRIORITY, WORKLOADS } from './workloads.js';
import type { PhaseContext, WorkloadName } from './workloads.js';

type Log = (line: string) => void;

const ADMISSION_POLICY_CRD = join(__dirname, '..', '..', 'deploy', 'base', 'crds', 'admissionpolicy.yaml');

/** Stops before anything starts when a binary the run needs is missing. */
function requirePrerequisites(opts: SchedulingBenchOptions): void {
  for (const bin of ['etcd', 'kube-apiserver', 'kubectl'] as const) requireBinary(bin);
  if (opts.modes.some((m) => m.startsWith('ks'))) requireBinary('kube-scheduler');
  if (opts.modes.some((m) => m !== 'ks' && m !== 'ks-stock')) requireBuiltServices();
}

async function prepareCluster(cp: ControlPlane, opts: SchedulingBenchOptions, setup: Record<string, number>, progress: Log): Promise<string[]> {
  await kubectl(cp, ['apply', '-f', ADMISSION_POLICY_CRD]);
  await kubectl(cp, ['wait', '--for', 'condition=established', '--timeout=60s', 'crd/admissionpolicies.schedmesh.io']);
  const scheduling = cp.kubeConfig.makeApiClient(SchedulingV1Api);
  for (const [name, value] of [[LOW_PRIORITY, 100], [HIGH_PRIORITY, 1000]] as const) {
    await scheduling.createPriorityClass({ body: { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value } });
  }
  let t0 = performance.now();
  const nodes = (await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(opts.nodes, { zones: 3, racksPerZone: 4 }), { concurrency: 32 })).map((n) => n.metadata!.name!);
  setup.nodesSeconds = (performance.now() - t0) / 1000;
  progress(`${opts.nodes} fake nodes created in ${setup.nodesSeconds.toFixed(1)} s`);
  t0 = performance.now();
  // The initial pods are bound at creation (spec.nodeName), round-robin: the same state for every mode, no scheduler's time spent.
  const initial = Array.from({ length: opts.initialPods }, (_, i) => benchPod(`initial-${i}`, { phase: 'initial', schedulerName: 'default-scheduler' }, { spec: { nodeName: nodes[i % nodes.length]! } }));
  await createPods(cp, initial);
  setup.initialPodsSeconds = (performance.now() - t0) / 1000;
  progress(`${opts.initialPods} initial pods bound in ${setup.initialPodsSeconds.toFixed(1)} s`);
  return nodes;
}

/**
 * Waits until the services exported the spans of the phase's attempts: one
 * per pod bound when every attempt is traced; when only a share is, until no
 * span arrived for 2 s (four of the services' export intervals). Gives up
 * after a minute.
 */
async function awaitSpans(receiver: SpanReceiver, bound: number, sampleRatio: number): Promise<void> {
  const attempts = (): number => receiver.spans.filter((s) => s.name === 'schedule_one').length;
  let seen = -1;
  let quietSince = performance.now();
  const exported = async (): Promise<true | undefined> => {
    if (sampleRatio >= 1) return attempts() >= bound ? true : undefined;
    if (receiver.spans.length !== seen) {
      seen = receiver.spans.length;
      quietSince = performance.now();
    }
    return performance.now() - quietSince >= 2_000 ? true : undefined;
  };
  await pollUntil(exported, { what: 'spans of the phase exported', timeoutMs: 60_000, intervalMs: 250 }).catch(() => undefined);
}

interface PhaseSetting {
  readonly cp: ControlPlane;
  readonly opts: SchedulingBenchOptions;
  readonly nodes: readonly string[];
  readonly base: readonly WatchedProcess[];
  readonly receiver: SpanReceiver;
  readonly floors: SchedulingReport['floors'];
  /** What each process spent idle before the mode's first phase (absent: not measured). */
  readonly idleCores?: Readonly<Record<string, number>>;
}

async function runWorkload(s: PhaseSetting, mode: RunningMode, workload: WorkloadName, progress: Log): Promise<PhaseRecord> {
  const { cp, opts, nodes } = s;
  const phase = `${mode.name}-${workload}`.toLowerCase();
  const perNode = Math.floor(opts.initialPods / nodes.length);
  const index = new Map(nodes.map((n, i) => [n, i]));
  const ctx: PhaseContext = {
    phase,
    schedulerName: mode.schedulerName,
    pods: opts.pods,
    nodeNames: nodes,
    initialPerNode: (n) => perNode + (index.get(n)! < opts.initialPods % nodes.length ? 1 : 0),
    gangs: mode.gangs,
  };
  const pods = WORKLOADS[workload].build(ctx);
  progress(`${workload} / ${MODE_LABELS[mode.name]}: ${pods.prebound.length} pods bound first, ${pods.unfit.length} that fit nowhere, ${pods.measured.length} measured`);
  s.receiver.spans.length = 0;
  const ksBefore = mode.kubeSchedulerUrl ? await readKubeSchedulerTimes(mode.kubeSchedulerUrl) : undefined;
  const apiBefore = await readApiRequests(cp);
  const cost = meter([...s.base, ...mode.processes]);
  const timing = await runPhase(cp, phase, pods, opts.phaseLimitMs);
  const spent = cost();
  const apiRequests = apiRequestsBetween(apiBefore, await readApiRequests(cp), timing.measured);
  const traced = (mode.schedulerName === 'schedmesh' || mode.name === 'ks-extender') && opts.traceSample > 0;
  if (traced) await awaitSpans(s.receiver, timing.bound, opts.traceSample);
  const ksSteps = mode.kubeSchedulerUrl && ksBefore ? kubeSchedulerSteps(ksBefore, await readKubeSchedulerTimes(mode.kubeSchedulerUrl)) : [];
  const steps = [...ksSteps, ...stepBreakdown(s.receiver.spans)].map((step) => withFloor(step, s.floors));
  const isGangs = workload === 'Gangs' && !mode.gangs;
  return {
    workload,
    phase,
    mode: mode.name,
    modeLabel: MODE_LABELS[mode.name],
    ...(isGangs ? { note: 'plain pods: kube-scheduler has no gangs' } : {}),
    measured: timing.measured,
    bound: timing.bound,
    seenByListOnly: timing.seenByListOnly,
    watchRestarts: timing.watchRestarts,
    unfit: timing.unfit,
    unfitBound: timing.unfitBound,
    timedOut: timing.timedOut,
    seconds: timing.totalMs / 1000,
    podsPerSecond: (timing.bound * 1000) / timing.totalMs,
    createdPerSecond: (timing.measured * 1000) / timing.createMs,
    ratioToKubeScheduler: Number.NaN,
    latencyP50Ms: percentile(timing.latenciesMs, 50),
    latencyP99Ms: percentile(timing.latenciesMs, 99),
    cost: spent,
    ...(s.idleCores ? { idleCores: s.idleCores } : {}),
    apiRequests,
    steps,
    rpcCalls: traced ? rpcCalls(s.receiver.spans, timing.bound * opts.traceSample) : [],
    traceSampleRatio: traced ? opts.traceSample : 0,
  };
}

/**
 * A tenth of the pods (at most 100), bound and deleted before a mode's first
 * measured phase: the first pods of a fresh scheduler pay for its caches and
 * the JIT, which no later phase does.
 */
async function warmUp(cp: ControlPlane, mode: RunningMode, opts: SchedulingBenchOptions, progress: Log): Promise<void> {
  const phase = `${mode.name}-warmup`;
  const measured = Array.from({ length: Math.min(100, Math.ceil(opts.pods / 10)) }, (_, i) => benchPod(`${phase}-${i}`, { phase, schedulerName: mode.schedulerName }));
  const timing = await runPhase(cp, phase, { prebound: [], unfit: [], measured }, opts.phaseLimitMs);
  progress(`warm-up: ${timing.bound}/${timing.measured} pods bound in ${(timing.totalMs / 1000).toFixed(1)} s (not measured)`);
  await deletePhasePods(cp, phase);
}

/**
 * Each process's share of one core while nothing is scheduled: a mode's
 * CPU per pod includes it once per second of the phase, so a slower mode
 * pays more of it per pod.
 */
async function meterIdle(procs: readonly WatchedProcess[], seconds: number, progress: Log): Promise<Record<string, number>> {
  const spent = meter(procs);
  await delay(seconds * 1000);
  const idle = Object.fromEntries(spent().processes.map((p) => [p.name, p.cores]));
  progress(`idle for ${seconds} s: ${Object.entries(idle).map(([name, cores]) => `${name} ${cores.toFixed(3)}`).join(', ')} cores`);
  return idle;
}

/** Each phase's pods/s over kube-scheduler alone's on the same workload. */
function withRatios(phases: readonly PhaseRecord[]): PhaseRecord[] {
  return phases.map((p) => {
    const ks = phases.find((q) => q.workload === p.workload && q.mode === 'ks');
    return { ...p, ratioToKubeScheduler: ks ? p.podsPerSecond / ks.podsPerSecond : Number.NaN };
  });
}

/**
 * Runs the benchmark; everything it starts is added to `teardown` (the
 * caller runs it). `save` receives the report so far after every phase, so a
 * run that fails late keeps what it measured.
 */
export async function runSchedulingBench(opts: SchedulingBenchOptions, teardown: Teardown, log: Log, progress: Log, save: (report: SchedulingReport) => void): Promise<SchedulingReport> {
  requirePrerequisites(opts);
  const startedAt = new Date().toISOString();
  const setup: Record<string, number> = {};
  const receiver = await startSpanReceiver(opts.otlpPort);
  teardown.add('span receiver', () => receiver.stop());
  const { redis, nats, cp } = await startBenchServers(teardown);
  setup.controlPlaneSeconds = cp.startupMs / 1000;
  progress(`control plane up in ${setup.controlPlaneSeconds.toFixed(1)} s`);
  const nodes = await prepareCluster(cp, opts, setup, progress);
  const floors = await measureFloors(redis.url, opts.floorRounds);
  progress(`floors: ${floors.map((f) => `${f.name} p50 ${f.p50Ms.toFixed(3)} ms`).join('; ')}`);

  const base: WatchedProcess[] = [
    ...cp.processes.map((p) => ({ name: p.name, pid: p.pid })),
    { name: 'benchmark (pod creation, watch)', pid: process.pid },
    ...childrenNamed('redis-server'),
    ...childrenNamed('nats-server'),
  ];
  const exporting = opts.traceSample > 0 ? { otlpEndpoint: receiver.url } : {};
  const runner = new ModeRunner({ cp, natsUrl: nats.url, redisUrl: redis.url, ...exporting, traceSampleRatio: opts.traceSample, dir: join(cp.dir, 'mesh'), cpuProfDir: opts.cpuProfDir, extenderMaxFeasible: opts.extenderMaxFeasible });
  teardown.add('mesh', () => runner.close());
  const phases: PhaseRecord[] = [];
  const report = (): SchedulingReport => ({
    startedAt,
    command: `npm run bench:scheduling -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    options: { ...opts },
    setup,
    floors,
    phases: withRatios(phases),
  });
  for (const name of opts.modes) {
    const t0 = performance.now();
    const mode = await runner.start(name);
    setup[`start ${name} seconds`] = (performance.now() - t0) / 1000;
    progress(`${MODE_LABELS[name]} ready in ${setup[`start ${name} seconds`]!.toFixed(1)} s`);
    try {
      await warmUp(cp, mode, opts, progress);
      const idleCores = opts.idleSeconds > 0 ? await meterIdle([...base, ...mode.processes], opts.idleSeconds, progress) : undefined;
      for (const workload of opts.workloads) {
        phases.push(await runWorkload({ cp, opts, nodes, base, receiver, floors, ...(idleCores ? { idleCores } : {}) }, mode, workload, progress));
        const sofar = report();
        save(sofar);
        printPhase(log, sofar.phases.at(-1)!);
        await deletePhasePods(cp, phases.at(-1)!.phase);
      }
    } finally {
      await mode.stop();
    }
  }
  return report();
}
