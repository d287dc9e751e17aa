// The mesh as it runs in pods: each schedmesh service (and each REST plugin)
// is its own process, started from its built dist/main.js with a YAML config
// file (SCHEDMESH_CONFIG), in its own process group, its log in the run dir.
// The run dir also holds the demo's GPU attestation key pair.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { freePort, LOOPBACK, spawnManaged, waitReady } from '@schedmesh/testkit';
import type { ManagedProcess } from '@schedmesh/testkit';
import { stringify } from 'yaml';

import { createDemoAttestation } from './attestation.js';
import type { DemoAttestation } from './attestation.js';
import { gatewayPluginsDocument } from './plugins.js';
import type { DemoPlugin, PluginContext } from './plugins.js';

/** Where the mesh's dependencies are. */
export interface MeshEnvironment {
  readonly root: string;
  readonly runDir: string;
  /** The cluster: an API server (kubeconfig), or a YAML fixture the informer publishes (no API server at all). */
  readonly cluster: { readonly kubeconfig: string } | { readonly fixture: string; readonly kubeconfig: string };
  readonly natsUrl: string;
  readonly redisUrl: string;
  /** OTLP/HTTP traces endpoint (…/v1/traces); none: no traces exported. */
  readonly otlpEndpoint?: string;
  /** The scheduler's lease TTL (default its own). */
  readonly leaseTtl?: string;
}

/** A started service: its process and where it listens. */
export interface MeshProcess {
  readonly name: string;
  readonly process: ManagedProcess;
  readonly grpcAddress: string;
  readonly httpUrl: string;
}

export interface Mesh {
  readonly services: readonly MeshProcess[];
  readonly plugins: readonly ManagedProcess[];
  /** host:port of the scheduler's gRPC (GetSchedulingStatus). */
  readonly schedulerAddress: string;
  /** Signs the sample's GPU attestations; the gpu-compliance plugin holds its public key. */
  readonly attestation: DemoAttestation;
}

type ServiceName = 'informer' | 'snapshot' | 'filterscore' | 'reservation' | 'gateway' | 'admission' | 'scheduler';

const START_TIMEOUT_MS = 120_000;

async function listenBlock(): Promise<{ grpc: { host: string; port: number }; http: { host: string; port: number } }> {
  return { grpc: { host: LOOPBACK, port: await freePort() }, http: { host: LOOPBACK, port: await freePort() } };
}

async function startProcess(env: MeshEnvironment, name: string, main: string, extraEnv: NodeJS.ProcessEnv): Promise<ManagedProcess> {
  return spawnManaged({
    name,
    command: process.execPath,
    args: [join(env.root, main)],
    logPath: join(env.runDir, `${name}.log`),
    cwd: env.runDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...extraEnv },
  });
}

/** Starts the REST plugins and waits until each answers HTTP; returns each one's base URL by name. */
async function startPlugins(
  env: MeshEnvironment,
  plugins: readonly DemoPlugin[],
  ctx: PluginContext,
  onStarted: (p: ManagedProcess) => void,
): Promise<{ procs: ManagedProcess[]; endpoints: Map<string, string> }> {
  const procs: ManagedProcess[] = [];
  const endpoints = new Map<string, string>();
  for (const p of plugins) {
    const port = await freePort();
    const proc = await startProcess(env, `plugin-${p.name}`, p.main, { ...p.env?.(ctx), PLUGIN_HOST: LOOPBACK, PLUGIN_PORT: String(port) });
    procs.push(proc);
    onStarted(proc);
    const url = `http://${LOOPBACK}:${port}/`;
    // Any HTTP answer (the protocol is POST only) means it listens.
    await waitReady(proc, `plugin ${p.name} on ${url}`, START_TIMEOUT_MS, async () => (await fetch(url).catch(() => undefined)) && true);
    endpoints.set(p.name, url);
  }
  return { procs, endpoints };
}

/**
 * Writes each service's configuration and starts them all at once (each waits
 * for what it needs: the stream, its upstream services), then waits for every
 * /readyz. `onStarted` sees each process as soon as it exists, so a failure
 * half-way leaves nothing the caller does not know about.
 */
export async function startMesh(env: MeshEnvironment, plugins: readonly DemoPlugin[], onStarted: (p: ManagedProcess) => void): Promise<Mesh> {
  const attestation = createDemoAttestation(env.runDir);
  const { procs: pluginProcs, endpoints } = await startPlugins(env, plugins, { attestationPublicKeyFile: attestation.publicKeyFile }, onStarted);
  const pluginsFile = join(env.runDir, 'plugins.yaml');
  writeFileSync(pluginsFile, stringify(gatewayPluginsDocument(plugins, endpoints)));

  const names: ServiceName[] = ['informer', 'snapshot', 'filterscore', 'reservation', 'gateway', 'admission', 'scheduler'];
  const listen = new Map<ServiceName, Awaited<ReturnType<typeof listenBlock>>>();
  for (const n of names) listen.set(n, await listenBlock());
  const address = (n: ServiceName): { address: string } => ({ address: `${LOOPBACK}:${listen.get(n)!.grpc.port}` });
  const nats = { url: env.natsUrl, memoryStorage: true };
  const kubernetes = { kubeconfig: env.cluster.kubeconfig };
  const fixture = 'fixture' in env.cluster ? env.cluster.fixture : undefined;
  const own: Record<ServiceName, Record<string, unknown>> = {
    informer: { nats, source: fixture ? { fixture } : kubernetes },
    snapshot: { nats },
    filterscore: { nats, snapshot: address('snapshot') },
    reservation: { nats, redis: { url: env.redisUrl } },
    gateway: { gateway: { pluginsFile } },
    // Without an API server there is no SubjectAccessReview: tenant RBAC then follows the policy's failurePolicy.
    admission: { nats, kubernetes: { ...kubernetes, accessReviews: !fixture }, gateway: address('gateway') },
    scheduler: {
      nats,
      kubernetes,
      filterscore: address('filterscore'),
      reservation: address('reservation'),
      admission: address('admission'),
      gateway: address('gateway'),
      ...(env.leaseTtl ? { scheduler: { leaseTtl: env.leaseTtl } } : {}),
    },
  };

  const services: MeshProcess[] = [];
  for (const n of names) {
    const file = join(env.runDir, `${n}.yaml`);
    const telemetry = env.otlpEndpoint ? { otlpEndpoint: env.otlpEndpoint } : {};
    const config = { ...listen.get(n), log: { level: 'info' }, telemetry, shutdown: { grace: '2s' }, ...own[n] };
    writeFileSync(file, stringify(config));
    const proc = await startProcess(env, n, `services/${n}/dist/main.js`, { SCHEDMESH_CONFIG: file });
    onStarted(proc);
    services.push({ name: n, process: proc, grpcAddress: address(n).address, httpUrl: `http://${LOOPBACK}:${listen.get(n)!.http.port}` });
  }
  await Promise.all(
    services.map((s) =>
      waitReady(s.process, `${s.name} ready (${s.httpUrl}/readyz)`, START_TIMEOUT_MS, async () => {
        const res = await fetch(`${s.httpUrl}/readyz`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      }),
    ),
  );
  return { services, plugins: pluginProcs, schedulerAddress: address('scheduler').address, attestation };
}
