// Everything the demo runs, started in order and stopped in reverse: the
// control plane (etcd + kube-apiserver), Jaeger, NATS with JetStream and
// Redis on free loopback ports, then the mesh. One stop() for all of it,
// also when start-up fails half-way.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { startControlPlane, startJaeger, startNats, startRedis } from '@schedmesh/testkit';
import type { ControlPlane, Jaeger, ManagedProcess, TestServer } from '@schedmesh/testkit';

import { startMesh } from './mesh.js';
import type { Mesh } from './mesh.js';
import type { DemoPlugin } from './plugins.js';

export interface StackOptions {
  readonly root: string;
  readonly plugins: readonly DemoPlugin[];
  /** A fixed port for Jaeger's query API and UI. */
  readonly jaegerPort?: number;
  /** Told of each step as it starts. */
  readonly say: (line: string) => void;
  /** Runs once the control plane is up, before the mesh starts (CRDs, namespaces, nodes). */
  readonly prepare: (cp: ControlPlane) => Promise<void>;
}

export interface Stack {
  readonly runDir: string;
  /** Every temporary directory of the stack: the run's, the control plane's, Jaeger's. */
  readonly dirs: readonly string[];
  readonly cp: ControlPlane;
  readonly jaeger: Jaeger;
  readonly mesh: Mesh;
  /** Process ids of every process group the demo leads (services, plugins, etcd, apiserver, Jaeger). */
  groups(): number[];
}

/** What has been started so far, and how to stop it. */
export class StackHandles {
  private readonly stops: (() => Promise<void>)[] = [];
  private readonly managed: ManagedProcess[] = [];
  private stopping: Promise<void> | undefined;

  /** Registers how to stop something just started; once stop() has begun (a signal during start-up), stops it at once. */
  add(stop: () => Promise<void>): void {
    if (this.stopping) void this.stopping.then(stop).catch(() => undefined);
    else this.stops.push(stop);
  }

  /** Records a process whose stop another handle owns (the control plane's, Jaeger's). */
  track(p: ManagedProcess): void {
    this.managed.push(p);
  }

  addProcess(p: ManagedProcess): void {
    this.track(p);
    this.add(() => p.stop(5_000));
  }

  groups(): number[] {
    return this.managed.map((p) => p.pid);
  }

  /** Stops everything in reverse order of start; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const stop of [...this.stops].reverse()) await stop().catch(() => undefined);
    })();
    return this.stopping;
  }
}

export async function startStack(opts: StackOptions, handles: StackHandles): Promise<Stack> {
  const runDir = mkdtempSync(join(tmpdir(), 'schedmesh-demo-'));
  handles.add(async () => rmSync(runDir, { recursive: true, force: true }));
  opts.say('starting etcd + kube-apiserver, Jaeger, NATS (JetStream) and Redis on free loopback ports');
  const started = await Promise.allSettled([
    startControlPlane(),
    startJaeger(opts.jaegerPort !== undefined ? { queryPort: opts.jaegerPort } : {}),
    startNats(),
    startRedis(),
  ] as const);
  for (const r of started) if (r.status === 'fulfilled') handles.add(() => r.value.stop());
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const [cp, jaeger, nats, redis] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [ControlPlane, Jaeger, TestServer, TestServer];
  for (const p of [...cp.processes, jaeger.process]) handles.track(p);

  await opts.prepare(cp);
  opts.say('starting the schedmesh services and REST plugins, one process each');
  const mesh = await startMesh(
    { root: opts.root, runDir, cluster: { kubeconfig: cp.kubeconfigPath }, natsUrl: nats.url, redisUrl: redis.url, otlpEndpoint: `${jaeger.otlpHttpUrl}/v1/traces` },
    opts.plugins,
    (p) => handles.addProcess(p),
  );
  return { runDir, dirs: [runDir, cp.dir, dirname(jaeger.process.logPath)], cp, jaeger, mesh, groups: () => handles.groups() };
}
