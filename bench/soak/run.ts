// The soak run: Redis, NATS, the control plane with its fake nodes and kept
// pods, the mesh as the processes a deployment runs (and kube-scheduler
// calling its extender), then rounds of churn while every mesh process's
// memory is sampled; the warm-up's samples are kept but not fitted.
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { createFakeNodes, fakeNodeSpecs, kubectl, pollUntil, requireBinary, startKubeScheduler } from '@schedmesh/testkit';

import { extenderEntry } from '../../test/e2e/extender-entry.js';
import { startMeshProcesses } from '../../test/e2e/mesh-processes.js';
import { requireBuiltServices } from '../scheduling/modes.js';
import { createPods } from '../scheduling/phase.js';
import { startBenchServers } from '../scheduling/teardown.js';
import type { Teardown } from '../scheduling/teardown.js';
import { benchPod, NAMESPACE, PHASE_LABEL } from '../scheduling/workloads.js';
import { churn } from './churn.js';
import type { ChurnFigures } from './churn.js';
import { BOUNDED_CACHES, smallBoundsEnv } from './bounds.js';
import { heapCommittedMiB, heapUsedMiB, metricValue, rssMiBOf, scrapeMetrics } from './memory.js';
import type { SoakOptions } from './options.js';
import { progressLine, summarize } from './report.js';
import type { SoakReport, SoakSample } from './report.js';

type Log = (line: string) => void;

const ROOT = join(__dirname, '..', '..');
const ADMISSION_POLICY_CRD = join(ROOT, 'deploy', 'base', 'crds', 'admissionpolicy.yaml');

/** How often the soak says where it is (a run at the default bounds lasts an hour or more). */
const PROGRESS_EVERY_MS = 60_000;

/** A process whose memory is sampled: its pid, and where its /metrics is. */
interface Sampled {
  readonly name: string;
  readonly pid: number;
  readonly httpAddress: string;
}

async function sampleAll(procs: readonly Sampled[], atSeconds: number, measured: boolean): Promise<SoakSample> {
  const texts = new Map(await Promise.all(procs.map(async (p) => [p.name, await scrapeMetrics(p.httpAddress)] as const)));
  return {
    atSeconds,
    measured,
    rssMiB: Object.fromEntries(procs.map((p) => [p.name, rssMiBOf(p.pid)])),
    heapMiB: Object.fromEntries(procs.map((p) => [p.name, heapUsedMiB(texts.get(p.name) ?? '')])),
    heapCommittedMiB: Object.fromEntries(procs.map((p) => [p.name, heapCommittedMiB(texts.get(p.name) ?? '')])),
    caches: Object.fromEntries(BOUNDED_CACHES.map((c) => [c.cache, metricValue(texts.get(c.service) ?? '', c.metric)])),
  };
}

/**
 * Creates what is missing until nothing is: a loaded apiserver drops a
 * connection now and then ("socket hang up"), and one failed create among
 * thousands must not end the run. `existing` lists what is there.
 */
async function createMissing(what: string, existing: () => Promise<Set<string>>, create: (have: Set<string>) => Promise<unknown>): Promise<void> {
  await pollUntil(
    async () => {
      await create(await existing());
      return true;
    },
    { what: `${what} created`, timeoutMs: 3_600_000, intervalMs: 2_000 },
  );
}

/** Runs the soak; everything it starts is added to `teardown` (the caller runs it). `save` receives the report after every sample. */
export async function runSoak(opts: SoakOptions, teardown: Teardown, progress: Log, save: (report: SoakReport) => void): Promise<SoakReport> {
  for (const bin of ['etcd', 'kube-apiserver', 'kubectl', ...(opts.extenderEvery > 0 ? (['kube-scheduler'] as const) : [])] as const) requireBinary(bin);
  requireBuiltServices();
  const startedAt = new Date().toISOString();
  const setup: Record<string, number> = {};
  const { redis, nats, cp } = await startBenchServers(teardown);
  setup.controlPlaneSeconds = cp.startupMs / 1000;
  await kubectl(cp, ['apply', '-f', ADMISSION_POLICY_CRD]);
  await kubectl(cp, ['wait', '--for', 'condition=established', '--timeout=60s', 'crd/admissionpolicies.schedmesh.io']);
  let t0 = performance.now();
  const specs = fakeNodeSpecs(opts.nodes, { zones: 3, racksPerZone: 4 });
  await createMissing(
    'fake nodes',
    async () => new Set((await cp.core.listNode()).items.map((n) => n.metadata!.name!)),
    (have) => createFakeNodes(cp.kubeConfig, specs.filter((s) => !have.has(s.name)), { concurrency: 32 }),
  );
  const nodes = specs.map((s) => s.name);
  setup.nodesSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const kept = Array.from({ length: opts.initialPods }, (_, i) => benchPod(`initial-${i}`, { phase: 'initial', schedulerName: 'default-scheduler' }, { spec: { nodeName: nodes[i % nodes.length]! } }));
  await createMissing(
    'kept pods',
    async () => new Set((await cp.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${PHASE_LABEL}=initial` })).items.map((p) => p.metadata!.name!)),
    (have) => createPods(cp, kept.filter((p) => !have.has(p.metadata!.name!))),
  );
  setup.initialPodsSeconds = (performance.now() - t0) / 1000;
  progress(`control plane, ${opts.nodes} nodes and ${opts.initialPods} kept pods ready`);

  t0 = performance.now();
  const mesh = await startMeshProcesses({
    setting: { natsUrl: nats.url, redisUrl: redis.url, kubeconfig: cp.kubeconfigPath, runId: `soak${process.pid}` },
    root: ROOT,
    dir: join(cp.dir, 'mesh'),
    readyTimeoutMs: 600_000,
    ...(opts.smallBounds ? { serviceEnv: smallBoundsEnv() } : {}),
  });
  teardown.add('mesh', () => mesh.stop(5_000));
  setup.meshSeconds = (performance.now() - t0) / 1000;
  if (opts.extenderEvery > 0) {
    const ks = await startKubeScheduler(cp, {
      config: { clientConnection: { qps: 5000, burst: 5000 }, extenders: [extenderEntry({ urlPrefix: mesh.extenderUrl }, { ignorable: false, weight: 1 })] },
      verbosity: 0,
    });
    teardown.add('kube-scheduler', () => ks.stop());
  }
  const procs: Sampled[] = [...mesh.processes].map(([name, p]) => ({ name, pid: p.pid, httpAddress: mesh.httpAddress(name) }));
  progress(`mesh ready in ${setup.meshSeconds.toFixed(1)} s${opts.smallBounds ? ' (bounds lowered: --small-bounds)' : ''}; churn of ${opts.batch} pods a round for ${(opts.warmUpMs + opts.measureMs) / 60_000} min (warm-up ${opts.warmUpMs / 1000} s)`);

  const samples: SoakSample[] = [];
  const figures: ChurnFigures = { rounds: 0, podsBound: 0, podsByExtender: 0, seconds: 0 };
  const report = (): SoakReport => ({
    startedAt,
    command: `npm run bench:soak -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    options: { ...opts },
    setup,
    churn: { ...figures, podsPerSecond: figures.podsBound / Math.max(figures.seconds, 1e-9) },
    ...summarize(
      procs.map((p) => p.name),
      samples,
      opts.smallBounds,
    ),
    samples,
  });
  const started = performance.now();
  const elapsedMs = (): number => performance.now() - started;
  const endMs = opts.warmUpMs + opts.measureMs;
  let churning = true;
  let lastProgress = 0;
  // The sampler's cadence is its only timer: each sample at its slot, whatever the churn is doing.
  const sampler = (async () => {
    // A sample that took longer than the interval skips the slots it overran, rather than bunching samples after it.
    for (let slot = 0; churning || slot * opts.intervalMs <= endMs; slot = Math.max(slot + 1, Math.ceil(elapsedMs() / opts.intervalMs))) {
      await delay(Math.max(0, slot * opts.intervalMs - elapsedMs()));
      const at = elapsedMs();
      samples.push(await sampleAll(procs, at / 1000, at >= opts.warmUpMs));
      save(report());
      if (at - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = at;
        progress(progressLine(samples, figures, opts));
      }
      if (at >= endMs) break;
    }
  })();
  try {
    await churn(cp, opts.batch, opts.extenderEvery, () => elapsedMs() >= endMs, figures);
  } finally {
    churning = false;
  }
  await sampler;
  return report();
}
