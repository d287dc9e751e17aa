import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { httpGet } from './cluster/http.js';
import { spawnManaged } from './cluster/process.js';
import type { ManagedProcess } from './cluster/process.js';
import { waitReady } from './cluster/wait.js';

/** This repository: `services/<name>/dist/main.js` after `npm run build`. */
const REPO_ROOT = resolve(__dirname, '../../..');

/** Options of {@link startServiceProcess}. */
export interface ServiceProcessOptions {
  /** The service folder name: "scheduler", "snapshot", … */
  readonly service: string;
  /**
   * Its configuration as a container gets it: SCHEDMESH_* variables
   * (SCHEDMESH_CONFIG for a file). Nothing is added: ports and hosts are the caller's.
   */
  readonly env: Readonly<Record<string, string>>;
  /** The HTTP port the configuration gives it, where `/readyz` is asked. */
  readonly httpPort: number;
  /** Command-line arguments after main.js (e.g. `--fixture FILE`). */
  readonly args?: readonly string[];
  /** The tree holding `services/<service>/dist/main.js` (default: this repository, built). */
  readonly root?: string;
  /** `<service>.log` is written here. */
  readonly logDir: string;
}

/** A schedmesh service running as its own process, as in a container. */
export interface ServiceProcess extends ManagedProcess {
  readonly httpPort: number;
  /** Resolves once `/readyz` answers 200; fails with the log tail if the process exits first. */
  ready(timeoutMs?: number): Promise<void>;
}

/**
 * Starts `node services/<service>/dist/main.js` with `env` over this
 * process's environment minus every SCHEDMESH_* variable (the test run's own,
 * such as SCHEDMESH_TEST_NATS_URL, would be read as configuration), stdout
 * and stderr in `<logDir>/<service>.log`. Stop it with `stop()` (SIGTERM,
 * the service's graceful shutdown).
 */
export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const main = join(options.root ?? REPO_ROOT, 'services', options.service, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SCHEDMESH_')));
  const proc = spawnManaged({
    name: options.service,
    command: process.execPath,
    args: [main, ...(options.args ?? [])],
    logPath: join(options.logDir, `${options.service}.log`),
    env: { ...inherited, ...options.env },
  });
  return {
    ...proc,
    httpPort: options.httpPort,
    ready: (timeoutMs = 60_000) =>
      waitReady(proc, `${options.service} /readyz`, timeoutMs, async () => {
        const res = await httpGet(`http://127.0.0.1:${options.httpPort}/readyz`);
        return res.status === 200 ? true : undefined;
      }).then(() => undefined),
  };
}
