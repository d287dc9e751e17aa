// The mesh as the processes a deployment runs, for end-to-end tests: each
// service's configuration (meshConfig), and the mesh run as the processes a
// deployment runs (startMeshProcesses) — each service's built main with its
// configuration in a YAML file (SCHEDMESH_CONFIG), on loopback ports chosen
// up front, stopped with SIGTERM as Kubernetes stops a pod, or SIGKILLed and
// started again from the same configuration (kill, restart) as a fault test
// needs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { freePort, pollUntil, spawnManaged } from '@schedmesh/testkit';
import type { ManagedProcess, ProcessExit } from '@schedmesh/testkit';
import { stringify } from 'yaml';
import { MESH_SERVICES, meshConfig } from './mesh-config';
import type { AddressOf, MeshService, MeshSetting } from './mesh-config';

/** A process of the mesh: a service, or a further scheduler replica ("scheduler-2", sharing the durable consumer). */
export type MeshProcessName = MeshService | `scheduler-${number}`;

/** The mesh as processes. */
export interface MeshProcesses {
  /** The running process of each name (a restart replaces it). */
  readonly processes: ReadonlyMap<MeshProcessName, ManagedProcess>;
  readonly address: (service: MeshService) => string;
  /** "127.0.0.1:PORT" of a process's HTTP endpoints (/readyz, /metrics). */
  readonly httpAddress: (name: MeshProcessName) => string;
  /** The extender's urlPrefix ("http://127.0.0.1:PORT/schedmesh"). */
  readonly extenderUrl: string;
  /** SIGTERM to every service (the scheduler first), each given `graceMs` to exit; their exits, by service. */
  stop(graceMs?: number): Promise<Map<MeshProcessName, ProcessExit>>;
  /** SIGKILL to the process's group (no graceful shutdown); resolves once it exited. */
  kill(name: MeshProcessName): Promise<ProcessExit>;
  /** Starts an exited process again from its configuration, on its ports; resolves once it is ready. */
  restart(name: MeshProcessName): Promise<void>;
}

/** Options of {@link startMeshProcesses}. */
export interface MeshProcessOptions {
  readonly setting: MeshSetting;
  /** The repository root (services/<name>/dist/main.js must be built: `npm run build`). */
  readonly root: string;
  /** Where configurations and logs go. */
  readonly dir: string;
  /** Extra environment of every process (e.g. OTEL_BSP_SCHEDULE_DELAY). */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra environment of one service's processes (e.g. its SCHEDMESH_* keys: every schema is strict, so a key goes only to the service that has it). */
  readonly serviceEnv?: Partial<Record<MeshService, NodeJS.ProcessEnv>>;
  /** Node options of every process, before its main (e.g. --cpu-prof, which NODE_OPTIONS does not allow). */
  readonly nodeArgs?: readonly string[];
  /** How long the services may take to become ready, in ms (default 120 s). */
  readonly readyTimeoutMs?: number;
  /** Scheduler replicas (default 1): "scheduler", then "scheduler-2", … */
  readonly schedulerReplicas?: number;
}

/** This process's environment without its SCHEDMESH_* variables: a service would read them as configuration keys. */
function serviceEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCHEDMESH_')));
}

/** Distinct free loopback ports (the kernel may hand the same one out twice in a row). */
async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** The service a process runs. */
const serviceOf = (name: MeshProcessName): MeshService => (name.startsWith('scheduler-') ? 'scheduler' : (name as MeshService));

/**
 * Starts every service as its own process and resolves once each one's
 * /readyz answers 200. A service that exits or does not become ready fails
 * the start with the tail of its log; every process started is stopped then.
 */
export async function startMeshProcesses(options: MeshProcessOptions): Promise<MeshProcesses> {
  const { setting, root, dir } = options;
  mkdirSync(dir, { recursive: true });
  const names: MeshProcessName[] = [...MESH_SERVICES];
  for (let i = 2; i <= (options.schedulerReplicas ?? 1); i++) names.splice(names.indexOf('scheduler') + i - 1, 0, `scheduler-${i}`);
  const free = await distinctPorts(names.length * 2 + 1);
  const ports = new Map(names.map((s, i) => [s, { grpc: free[2 * i]!, http: free[2 * i + 1]! }]));
  const extenderPort = free[free.length - 1]!;
  const address: AddressOf = (s) => `127.0.0.1:${ports.get(s)!.grpc}`;
  const processes = new Map<MeshProcessName, ManagedProcess>();
  const starts = new Map<MeshProcessName, number>();

  const stop = async (graceMs = 15_000): Promise<Map<MeshProcessName, ProcessExit>> => {
    const exits = new Map<MeshProcessName, ProcessExit>();
    // The callers first: the scheduler stops taking pods before the services it calls go.
    for (const s of [...names].reverse()) {
      const proc = processes.get(s);
      if (!proc) continue;
      await proc.stop(graceMs);
      exits.set(s, (await proc.exited));
    }
    return exits;
  };

  const configFile = (name: MeshProcessName): string => {
    const service = serviceOf(name);
    const config = meshConfig(service, setting, address) as { grpc: object; http: object; extender?: object; scheduler?: object };
    const { grpc, http } = ports.get(name)!;
    config.grpc = { ...config.grpc, port: grpc };
    config.http = { ...config.http, port: http };
    if (config.extender) config.extender = { ...config.extender, port: extenderPort };
    // A further replica is its own instance on the same durable consumer.
    if (config.scheduler && name !== service) config.scheduler = { ...config.scheduler, instance: `mesh-${setting.runId}-${name}` };
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify(config));
    return file;
  };

  const spawn = (name: MeshProcessName): void => {
    const n = (starts.get(name) ?? 0) + 1;
    starts.set(name, n);
    processes.set(
      name,
      spawnManaged({
        name,
        command: process.execPath,
        args: [...(options.nodeArgs ?? []), join(root, 'services', serviceOf(name), 'dist', 'main.js')],
        // One log per start: a restarted process does not overwrite the log of the one killed.
        logPath: join(dir, n === 1 ? `${name}.log` : `${name}.${n}.log`),
        env: { ...serviceEnv(), ...options.env, ...options.serviceEnv?.[serviceOf(name)], SCHEDMESH_CONFIG: join(dir, `${name}.yaml`) },
      }),
    );
  };

  const ready = async (name: MeshProcessName): Promise<void> => {
    const proc = processes.get(name)!;
    const readyz = `http://127.0.0.1:${ports.get(name)!.http}/readyz`;
    const gaveUp = new AbortController();
    const isReady = pollUntil(
      async () => {
        const res = await fetch(readyz, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        await res?.body?.cancel();
        return res?.status === 200 ? true : undefined;
      },
      { what: `${name} ready (${readyz}); its log: ${proc.logPath}`, timeoutMs: options.readyTimeoutMs ?? 120_000, intervalMs: 250, signal: gaveUp.signal },
    );
    isReady.catch(() => undefined);
    const exit = await Promise.race([isReady.then(() => undefined), proc.exited]);
    if (exit) {
      gaveUp.abort();
      throw new Error(`${name} exited (${exit.code ?? exit.signal}) before it was ready:\n${proc.logTail(30)}`);
    }
  };

  const kill = async (name: MeshProcessName): Promise<ProcessExit> => {
    const proc = processes.get(name)!;
    if (!proc.exit()) process.kill(-proc.pid, 'SIGKILL');
    return proc.exited;
  };

  const restart = async (name: MeshProcessName): Promise<void> => {
    if (!processes.get(name)!.exit()) throw new Error(`${name} is still running (pid ${processes.get(name)!.pid}): kill it first`);
    spawn(name);
    await ready(name);
  };

  try {
    for (const name of names) configFile(name);
    const first = names.filter((n) => n === serviceOf(n));
    for (const name of first) spawn(name);
    for (const name of first) await ready(name);
    // Further replicas once the first made the shared durable consumer.
    for (const name of names.filter((n) => n !== serviceOf(n))) {
      spawn(name);
      await ready(name);
    }
  } catch (err) {
    await stop(2_000);
    throw err;
  }
  return { processes, address: (s: MeshService) => address(s)!, httpAddress: (name) => `127.0.0.1:${ports.get(name)!.http}`, extenderUrl: `http://127.0.0.1:${extenderPort}/schedmesh`, stop, kill, restart };
}
