// The modes a workload runs in, on the same control plane: kube-scheduler
// alone (client QPS/burst raised as scheduler_perf does, or as shipped),
// kube-scheduler calling the schedmesh extender, and schedmesh standalone
// with one scheduler replica or two. The mesh runs as the processes a
// deployment runs (test/e2e/mesh-processes.ts), so each one's CPU and memory
// are its own. It is started once, with two scheduler replicas and the
// extender; each mode then runs what its deploy overlay deploys: the
// standalone modes no extender (deploy/overlays/standalone), the extender
// mode no schedmesh scheduler (deploy/overlays/extender), and only
// schedmesh-2 the second replica.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { startKubeScheduler } from '@schedmesh/testkit';
import type { ControlPlane, KubeSchedulerConfiguration } from '@schedmesh/testkit';

import { extenderEntry } from '../../test/e2e/extender-entry.js';
import { MESH_SERVICES } from '../../test/e2e/mesh-config.js';
import { startMeshProcesses } from '../../test/e2e/mesh-processes.js';
import type { MeshProcesses } from '../../test/e2e/mesh-processes.js';
import type { WatchedProcess } from './procstat.js';

export const MODE_NAMES = ['ks', 'ks-stock', 'ks-extender', 'schedmesh-1', 'schedmesh-2'] as const;
export type ModeName = (typeof MODE_NAMES)[number];

export const MODE_LABELS: Readonly<Record<ModeName, string>> = {
  ks: 'kube-scheduler (client QPS/burst 5000)',
  'ks-stock': 'kube-scheduler (stock: client QPS 50, burst 100)',
  'ks-extender': 'kube-scheduler + schedmesh extender',
  'schedmesh-1': 'schedmesh, 1 scheduler replica',
  'schedmesh-2': 'schedmesh, 2 scheduler replicas',
};

/** The mesh processes a mode may leave out (every other one runs in every mode that runs the mesh). */
type OptionalProcess = 'scheduler' | 'scheduler-2' | 'extender';

/** A mode, running. */
export interface RunningMode {
  readonly name: ModeName;
  readonly schedulerName: string;
  /** Whether the scheduler runs gangs (kube-scheduler does not). */
  readonly gangs: boolean;
  /** The scheduling processes of this mode (the control plane's are added by the caller). */
  readonly processes: WatchedProcess[];
  /** kube-scheduler's https://127.0.0.1:PORT (its /metrics), in the modes that run it. */
  readonly kubeSchedulerUrl?: string;
  /** Stops what only this mode runs (the mesh outlives it). */
  stop(): Promise<void>;
}

/** What the modes share. */
export interface ModeSetting {
  readonly cp: ControlPlane;
  readonly natsUrl: string;
  readonly redisUrl: string;
  /** Where the mesh exports its spans; absent: no exporter. */
  readonly otlpEndpoint?: string;
  /** Share of the attempts traced (each service's telemetry.sampleRatio). */
  readonly traceSampleRatio: number;
  /** Where the mesh's configurations and logs go. */
  readonly dir: string;
  /** Where the mesh's processes write V8 CPU profiles as they exit (absent: not profiled). */
  readonly cpuProfDir?: string;
  /** The extender's extender.maxFeasibleNodes (0: every feasible node). */
  readonly extenderMaxFeasible?: number;
}

const ROOT = join(__dirname, '..', '..');
const FAST_CLIENT = { clientConnection: { qps: 5000, burst: 5000 } };

/** The services' built mains the mesh runs; missing ones stop the run before anything starts. */
export function requireBuiltServices(): void {
  const missing = MESH_SERVICES.map((s) => join(ROOT, 'services', s, 'dist', 'main.js')).filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`the services are not built (missing ${missing.join(', ')}): run npm run build`);
}

/** Starts modes on demand; the mesh once, on first use. */
export class ModeRunner {
  private mesh: MeshProcesses | undefined;

  constructor(private readonly setting: ModeSetting) {}

  async start(name: ModeName): Promise<RunningMode> {
    switch (name) {
      case 'ks':
      case 'ks-stock':
        return this.kubeScheduler(name, name === 'ks' ? FAST_CLIENT : {});
      case 'ks-extender': {
        const mesh = await this.meshRunning({ scheduler: false, 'scheduler-2': false, extender: true });
        const ks = await this.kubeScheduler(name, { ...FAST_CLIENT, extenders: [extenderEntry({ urlPrefix: mesh.extenderUrl }, { ignorable: false, weight: 1 })] });
        return { ...ks, processes: [...ks.processes, ...this.meshProcesses()] };
      }
      case 'schedmesh-1':
      case 'schedmesh-2':
        await this.meshRunning({ scheduler: true, 'scheduler-2': name === 'schedmesh-2', extender: false });
        return { name, schedulerName: 'schedmesh', gangs: true, processes: this.meshProcesses(), stop: () => Promise.resolve() };
    }
  }

  /** Stops the mesh, if it was started. */
  async close(): Promise<void> {
    await this.mesh?.stop(5_000);
    this.mesh = undefined;
  }

  private async kubeScheduler(name: ModeName, config: KubeSchedulerConfiguration): Promise<RunningMode> {
    // --v=0: kube-scheduler's default verbosity, no line per decision.
    const ks = await startKubeScheduler(this.setting.cp, { config, verbosity: 0 });
    return { name, schedulerName: 'default-scheduler', gangs: false, processes: [{ name: 'kube-scheduler', pid: ks.process.pid }], kubeSchedulerUrl: ks.url, stop: () => ks.stop() };
  }

  /** The mesh, with each of its optional processes running or stopped as `wanted` says (stops first, to free their CPU). */
  private async meshRunning(wanted: Readonly<Record<OptionalProcess, boolean>>): Promise<MeshProcesses> {
    const { cp, natsUrl, redisUrl, otlpEndpoint, traceSampleRatio, dir, cpuProfDir, extenderMaxFeasible } = this.setting;
    const traces = otlpEndpoint ? { otlpEndpoint, traceSampleRatio } : {};
    this.mesh ??= await startMeshProcesses({
      setting: { natsUrl, redisUrl, kubeconfig: cp.kubeconfigPath, runId: `bench${process.pid}`, ...traces },
      root: ROOT,
      dir,
      // The batch span processor of every service: room for a whole phase's spans, exported often.
      env: { OTEL_BSP_MAX_QUEUE_SIZE: '100000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2000', OTEL_BSP_SCHEDULE_DELAY: '500' },
      ...(cpuProfDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] } : {}),
      ...(extenderMaxFeasible ? { serviceEnv: { extender: { SCHEDMESH_EXTENDER__MAX_FEASIBLE_NODES: String(extenderMaxFeasible) } } } : {}),
      readyTimeoutMs: 600_000,
      schedulerReplicas: 2,
    });
    const mesh = this.mesh;
    const running = (name: OptionalProcess): boolean => mesh.processes.get(name)!.exit() === undefined;
    const names = Object.keys(wanted) as OptionalProcess[];
    await Promise.all(names.filter((n) => !wanted[n] && running(n)).map((n) => mesh.processes.get(n)!.stop(15_000)));
    for (const n of names.filter((m) => wanted[m] && !running(m))) await mesh.restart(n);
    return mesh;
  }

  private meshProcesses(): WatchedProcess[] {
    if (!this.mesh) return [];
    return [...this.mesh.processes].filter(([, p]) => p.exit() === undefined).map(([name, p]) => ({ name, pid: p.pid }));
  }
}
