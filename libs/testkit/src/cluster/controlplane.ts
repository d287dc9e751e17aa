import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

import { clusterBinDir, requireBinary } from './binaries.js';
import { httpGet } from './http.js';
import { freePorts, LOOPBACK } from './net.js';
import { forgetDirOnExit, removeDirOnExit, spawnManaged } from './process.js';
import type { ManagedProcess } from './process.js';
import { defaultBaseDir } from './tmp.js';
import { retryOnPortClash, waitReady } from './wait.js';

/** Options of startControlPlane; every field has a default. */
export interface ControlPlaneOptions {
  /** Where the binaries are; default clusterBinDir(). */
  readonly binDir?: string;
  /** Parent of the run's temporary directory; default /dev/shm when writable (etcd on tmpfs), else os.tmpdir(). */
  readonly baseDir?: string;
  /** Budget for etcd + kube-apiserver to become ready, in ms; default 90 s. */
  readonly startTimeoutMs?: number;
  /**
   * More kube-apiserver flags, appended after the defaults. A repeated scalar
   * flag overrides the default; a repeated list flag adds to it.
   */
  readonly apiServerArgs?: readonly string[];
  /**
   * Admission plugins to turn off; default ServiceAccount (no controller
   * creates the default service account) and TaintNodesByCondition (it taints
   * every new node not-ready and no node controller lifts it; createFakeNodes
   * copes with it on anyway).
   */
  readonly disableAdmissionPlugins?: readonly string[];
  /** kube-apiserver log verbosity (--v); default 1. */
  readonly verbosity?: number;
  /** Keep the temporary directory (logs, kubeconfig) after stop(); default false. */
  readonly keepDir?: boolean;
}

/** A running etcd + kube-apiserver on loopback ports, with admin credentials. */
export interface ControlPlane {
  /** Temporary directory of this run: logs, kubeconfig, certificates, etcd data. */
  readonly dir: string;
  /** Admin kubeconfig (token in system:masters, CA embedded). */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Bearer token of the admin user (group system:masters). */
  readonly token: string;
  /** PEM of the CA that signed the apiserver's serving certificate. */
  readonly caPem: string;
  /** The admin kubeconfig, loaded. */
  readonly kubeConfig: KubeConfig;
  /** A core/v1 client with the admin credentials. */
  readonly core: CoreV1Api;
  /** http://127.0.0.1:<port> of etcd. */
  readonly etcdUrl: string;
  /** etcd and kube-apiserver. */
  readonly processes: readonly ManagedProcess[];
  /** Milliseconds from spawning etcd to the `default` namespace being served. */
  readonly startupMs: number;
  /**
   * Stops kube-apiserver (etcd keeps the data), waits `downMs` (or until
   * `whileDown` resolves: what a test does while it is away), and starts it
   * again on the same port with the same certificates: every client's watch
   * breaks, as in an apiserver upgrade or crash.
   */
  restartApiServer(down?: number | (() => Promise<void>)): Promise<void>;
  /** Stops kube-apiserver then etcd (whole process groups) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

const ADMIN_USER = 'schedmesh-admin';
const DEFAULT_DISABLED_ADMISSION = ['ServiceAccount', 'TaintNodesByCondition'];

/** Writes a kubeconfig for `server` authenticating with `token`; returns its YAML. */
export function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: schedmesh-e2e',
    '    cluster:',
    `      server: ${server}`,
    `      certificate-authority-data: ${ca}`,
    'users:',
    `  - name: ${ADMIN_USER}`,
    '    user:',
    `      token: ${token}`,
    'contexts:',
    '  - name: schedmesh-e2e',
    '    context:',
    '      cluster: schedmesh-e2e',
    `      user: ${ADMIN_USER}`,
    '      namespace: default',
    'current-context: schedmesh-e2e',
    '',
  ].join('\n');
}

/**
 * Starts etcd and kube-apiserver (real binaries from test/cluster/bin) on free
 * loopback ports and waits until the apiserver is ready and serves the
 * `default` namespace. By default admission plugins ServiceAccount and
 * TaintNodesByCondition are off, so pods need no service account and nodes are
 * not tainted not-ready (no controller-manager runs to lift that taint).
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  return retryOnPortClash(() => startControlPlaneOnce(opts));
}

async function startControlPlaneOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const binDir = opts.binDir ?? clusterBinDir();
  const etcdBin = requireBinary('etcd', binDir);
  const apiserverBin = requireBinary('kube-apiserver', binDir);
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const remaining = (): number => Math.max(1, deadline - Date.now());

  const dir = mkdtempSync(join(opts.baseDir ?? defaultBaseDir(), 'schedmesh-cp-'));
  removeDirOnExit(dir);
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const processes: ManagedProcess[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // The apiserver first: etcd going away under it only adds noise to its log.
      for (const p of [...processes].reverse()) await p.stop(5_000);
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
      forgetDirOnExit(dir);
    })();
    return stopping;
  };

  try {
    const [etcdPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const etcdUrl = `http://${LOOPBACK}:${etcdPort}`;
    const peerUrl = `http://${LOOPBACK}:${etcdPeerPort}`;
    const etcd = spawnManaged({
      name: 'etcd',
      command: etcdBin,
      logPath: join(dir, 'etcd.log'),
      args: [
        '--name=schedmesh-e2e',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=schedmesh-e2e=${peerUrl}`,
        // Throw-away test data: durability buys nothing and fsync costs start-up time.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
    });
    processes.push(etcd);
    await waitReady(etcd, `etcd /health on ${etcdUrl}`, remaining(), async () => {
      const res = await httpGet(`${etcdUrl}/health`, { timeoutMs: 2_000 });
      return res.status === 200 && res.body.includes('"true"') ? true : undefined;
    });

    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, { mode: 0o600 });
    const sa = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(join(pki, 'sa.key'), sa.privateKey, { mode: 0o600 });
    writeFileSync(join(pki, 'sa.pub'), sa.publicKey);

    const server = `https://${LOOPBACK}:${apiPort}`;
    const apiserverArgs = [
        `--etcd-servers=${etcdUrl}`,
        `--bind-address=${LOOPBACK}`,
        // Also keeps the apiserver from looking for a default route, which an offline machine lacks.
        `--advertise-address=${LOOPBACK}`,
        `--secure-port=${apiPort}`,
        // No --tls-cert-file: the apiserver self-signs into cert-dir (apiserver.crt holds the CA too).
        `--cert-dir=${pki}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        `--disable-admission-plugins=${(opts.disableAdmissionPlugins ?? DEFAULT_DISABLED_ADMISSION).join(',')}`,
        // The `kubernetes` Endpoints may not point at loopback; nothing here needs it.
        '--endpoint-reconciler-type=none',
        '--allow-privileged=true',
        '--profiling=false',
        `--v=${opts.verbosity ?? 1}`,
        ...(opts.apiServerArgs ?? []),
    ];
    const certPath = join(pki, 'apiserver.crt');
    let restarts = 0;
    // Starts kube-apiserver and waits until it serves the default namespace; returns the serving CA.
    const startApiServer = async (limitMs: number): Promise<string> => {
      const until = Date.now() + limitMs;
      const left = (): number => Math.max(1, until - Date.now());
      const apiserver = spawnManaged({
        name: 'kube-apiserver',
        command: apiserverBin,
        logPath: join(dir, restarts === 0 ? 'kube-apiserver.log' : `kube-apiserver.${restarts}.log`),
        args: apiserverArgs,
      });
      processes.push(apiserver);
      const pem = await waitReady(apiserver, `kube-apiserver /readyz on ${server}`, left(), async () => {
        const cert = readFileSync(certPath, 'utf8');
        const res = await httpGet(`${server}/readyz`, { ca: cert, token, timeoutMs: 5_000 });
        return res.status === 200 ? cert : undefined;
      });
      await waitReady(apiserver, 'namespace default', left(), async () => {
        const res = await httpGet(`${server}/api/v1/namespaces/default`, { ca: pem, token, timeoutMs: 5_000 });
        return res.status === 200 ? true : undefined;
      });
      return pem;
    };
    const caPem = await startApiServer(remaining());
    const restartApiServer = async (down: number | (() => Promise<void>) = 0): Promise<void> => {
      const current = processes.findLast((p) => p.name === 'kube-apiserver');
      await current?.stop(5_000);
      if (current) processes.splice(processes.indexOf(current), 1);
      if (typeof down === 'function') await down();
      else if (down > 0) await new Promise((r) => setTimeout(r, down));
      restarts++;
      await startApiServer(timeoutMs);
    };

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, caPem, token), { mode: 0o600 });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);

    return {
      dir,
      kubeconfigPath,
      server,
      token,
      caPem,
      kubeConfig,
      core: kubeConfig.makeApiClient(CoreV1Api),
      etcdUrl,
      processes,
      startupMs: Date.now() - started,
      restartApiServer,
      stop,
    };
  } catch (err) {
    // The logs go with the directory; a ClusterStartError already carries the tail.
    await stop();
    throw err;
  }
}
