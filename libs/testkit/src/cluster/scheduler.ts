import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse, stringify } from 'yaml';

import { clusterBinDir, requireBinary } from './binaries.js';
import type { ControlPlane } from './controlplane.js';
import { httpGet } from './http.js';
import { freePort, LOOPBACK } from './net.js';
import { forgetDirOnExit, removeDirOnExit, spawnManaged } from './process.js';
import type { ManagedProcess } from './process.js';
import { retryOnPortClash, waitReady } from './wait.js';

/** A KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) as plain data. */
export type KubeSchedulerConfiguration = Record<string, unknown>;

export interface KubeSchedulerOptions {
  /**
   * The configuration, as an object or YAML. clientConnection.kubeconfig is
   * set to the control plane's admin kubeconfig and leader election is turned
   * off whatever it says. Default: one profile, `default-scheduler`.
   */
  readonly config?: KubeSchedulerConfiguration | string;
  readonly binDir?: string;
  /** Budget to become ready, in ms; default 60 s. */
  readonly startTimeoutMs?: number;
  /** Log verbosity (--v); default 2 (one line per scheduling decision). */
  readonly verbosity?: number;
  /** More kube-scheduler flags. */
  readonly args?: readonly string[];
}

/** A running kube-scheduler. */
export interface KubeScheduler {
  /** https://127.0.0.1:<port> (self-signed; /healthz, /readyz, /metrics). */
  readonly url: string;
  readonly configPath: string;
  readonly process: ManagedProcess;
  /** Stops the scheduler's process group. Idempotent. */
  stop(): Promise<void>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The configuration kube-scheduler will run with: the caller's, pointed at `kubeconfigPath`, leader election off. */
export function resolveSchedulerConfig(
  config: KubeSchedulerConfiguration | string | undefined,
  kubeconfigPath: string,
): KubeSchedulerConfiguration {
  const parsed: unknown = typeof config === 'string' ? parse(config) : (config ?? {});
  if (!isRecord(parsed)) throw new TypeError('kube-scheduler config must be a YAML mapping / an object');
  const clientConnection = isRecord(parsed.clientConnection) ? parsed.clientConnection : {};
  const leaderElection = isRecord(parsed.leaderElection) ? parsed.leaderElection : {};
  return {
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    profiles: [{ schedulerName: 'default-scheduler' }],
    ...parsed,
    clientConnection: { ...clientConnection, kubeconfig: kubeconfigPath },
    leaderElection: { ...leaderElection, leaderElect: false },
  };
}

/** Starts the stock kube-scheduler against `cp` on a free loopback port and waits for /readyz. */
export async function startKubeScheduler(cp: ControlPlane, opts: KubeSchedulerOptions = {}): Promise<KubeScheduler> {
  return retryOnPortClash(() => startKubeSchedulerOnce(cp, opts));
}

async function startKubeSchedulerOnce(cp: ControlPlane, opts: KubeSchedulerOptions): Promise<KubeScheduler> {
  const bin = requireBinary('kube-scheduler', opts.binDir ?? clusterBinDir());
  const dir = mkdtempSync(join(cp.dir, 'kube-scheduler-'));
  removeDirOnExit(dir);
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, stringify(resolveSchedulerConfig(opts.config, cp.kubeconfigPath)));
  const port = await freePort();
  const url = `https://${LOOPBACK}:${port}`;
  const proc = spawnManaged({
    name: 'kube-scheduler',
    command: bin,
    logPath: join(dir, 'kube-scheduler.log'),
    args: [
      `--config=${configPath}`,
      `--bind-address=${LOOPBACK}`,
      `--secure-port=${port}`,
      `--cert-dir=${dir}`,
      // Delegated authn/z would need RBAC for the scheduler's own identity; tests only probe these.
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      `--v=${opts.verbosity ?? 2}`,
      ...(opts.args ?? []),
    ],
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await proc.stop(5_000);
      // The control plane's stop() removes cp.dir with it; this one may go now.
      rmSync(dir, { recursive: true, force: true });
      forgetDirOnExit(dir);
    })();
    return stopping;
  };
  try {
    await waitReady(proc, `kube-scheduler /readyz on ${url}`, opts.startTimeoutMs ?? 60_000, async () => {
      const res = await httpGet(`${url}/readyz`, { timeoutMs: 2_000 });
      return res.status === 200 ? true : undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, configPath, process: proc, stop };
}
