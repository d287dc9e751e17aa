// The mesh as the processes a deployment runs, for end-to-end tests: each
// service's configuration (meshConfig), and the mesh run as the processes a
// deployment runs (startMeshProcesses) — each service's built main with its
// configuration in a YAML file (SCHEDMESH_CONFIG), on loopback ports chosen
// up front, stopped with SIGTERM as Kubernetes stops a pod.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { freePort, pollUntil, spawnManaged } from '@schedmesh/testkit';
import type { ManagedProcess, ProcessExit } from '@schedmesh/testkit';
import { stringify } from 'yaml';
import { MESH_SERVICES, meshConfig } from './mesh-config';
import type { AddressOf, MeshService, MeshSetting } from './mesh-config';

/** The mesh as processes. */
export interface MeshProcesses {
  readonly processes: ReadonlyMap<MeshService, ManagedProcess>;
  readonly address: (service: MeshService) => string;
  /** The extender's urlPrefix ("http://127.0.0.1:PORT/schedmesh"). */
  readonly extenderUrl: string;
  /** SIGTERM to every service (the scheduler first), each given `graceMs` to exit; their exits, by service. */
  stop(graceMs?: number): Promise<Map<MeshService, ProcessExit>>;
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
  /** How long the services may take to become ready, in ms (default 120 s). */
  readonly readyTimeoutMs?: number;
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

/**
 * Starts every service as its own process and resolves once each one's
 * /readyz answers 200. A service that exits or does not become ready fails
 * the start with the tail of its log; every process started is stopped then.
 */
export async function startMeshProcesses(options: MeshProcessOptions): Promise<MeshProcesses> {
  const { setting, root, dir } = options;
  mkdirSync(dir, { recursive: true });
  const free = await distinctPorts(MESH_SERVICES.length * 2 + 1);
  const ports = new Map(MESH_SERVICES.map((s, i) => [s, { grpc: free[2 * i]!, http: free[2 * i + 1]! }]));
  const extenderPort = free[free.length - 1]!;
  const address: AddressOf = (s) => `127.0.0.1:${ports.get(s)!.grpc}`;
  const addressOf = (s: MeshService): string => address(s)!;
  const processes = new Map<MeshService, ManagedProcess>();

  const stop = async (graceMs = 15_000): Promise<Map<MeshService, ProcessExit>> => {
    const exits = new Map<MeshService, ProcessExit>();
    // The callers first: the scheduler stops taking pods before the services it calls go.
    for (const s of [...MESH_SERVICES].reverse()) {
      const proc = processes.get(s);
      if (!proc) continue;
      await proc.stop(graceMs);
      exits.set(s, (await proc.exited));
    }
    return exits;
  };

  try {
    for (const service of MESH_SERVICES) {
      const config = meshConfig(service, setting, address) as { grpc: object; http: object; extender?: object };
      const { grpc, http } = ports.get(service)!;
      config.grpc = { ...config.grpc, port: grpc };
      config.http = { ...config.http, port: http };
      if (config.extender) config.extender = { ...config.extender, port: extenderPort };
      const file = join(dir, `${service}.yaml`);
      writeFileSync(file, stringify(config));
      processes.set(
        service,
        spawnManaged({
          name: service,
          command: process.execPath,
          args: [join(root, 'services', service, 'dist', 'main.js')],
          logPath: join(dir, `${service}.log`),
          env: { ...serviceEnv(), ...options.env, SCHEDMESH_CONFIG: file },
        }),
      );
    }
    for (const service of MESH_SERVICES) {
      const proc = processes.get(service)!;
      const readyz = `http://127.0.0.1:${ports.get(service)!.http}/readyz`;
      const gaveUp = new AbortController();
      const ready = pollUntil(
        async () => {
          const res = await fetch(readyz, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
          await res?.body?.cancel();
          return res?.status === 200 ? true : undefined;
        },
        { what: `${service} ready (${readyz}); its log: ${proc.logPath}`, timeoutMs: options.readyTimeoutMs ?? 120_000, intervalMs: 250, signal: gaveUp.signal },
      );
      ready.catch(() => undefined);
      const exit = await Promise.race([ready.then(() => undefined), proc.exited]);
      if (exit) {
        gaveUp.abort();
        throw new Error(`${service} exited (${exit.code ?? exit.signal}) before it was ready:\n${proc.logTail(30)}`);
      }
    }
  } catch (err) {
    await stop(2_000);
    throw err;
  }
  return { processes, address: addressOf, extenderUrl: `http://127.0.0.1:${extenderPort}/schedmesh`, stop };
}
