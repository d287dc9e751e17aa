// The manifests and the code cannot drift apart: the standalone and the
// production overlay are rendered with `kubectl kustomize`, and each Deployment's container runs as
// a local process (its built dist/main.js) with the configuration the
// manifest gives it — the config.yaml of its ConfigMap, its env with
// configMapKeyRef and fieldRef resolved as the kubelet does, and the API
// access of its own ServiceAccount under the overlay's RBAC. Only the
// addresses change, each rewrite listed in REWRITES (both: the metrics token
// Secret as a file; production: one process per Deployment, its certificate
// Secret's files issued by a test CA, the NATS password Secrets as files, and
// a nats-server with deploy/nats/auth.conf).
// Then a pod with schedulerName: schedmesh is created on the real
// kube-apiserver and must be bound. Real NATS (JetStream) and Redis from
// testkit. Needs `npm run build`.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connect } from '@nats-io/transport-node';
import {
  createFakeNodes,
  fakeNodeSpecs,
  freePort,
  kubeconfigYaml,
  makeTestPki,
  pollUntil,
  requireBinary,
  startControlPlane,
  startNats,
  startRedis,
  startServiceProcess,
  kubectl as runKubectl,
} from '@schedmesh/testkit';
import type { ControlPlane, ServiceProcess, TestPki, TestServer } from '@schedmesh/testkit';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';

const DEPLOY = join(__dirname, '../../deploy');
const NATS_AUTH_CONF = resolve(DEPLOY, 'nats/auth.conf');
/** The overlays' metrics token and production's NATS user passwords, as their Secrets would hold them. */
const METRICS_TOKEN = 'drift-metrics-token-0123456789abcdef';
const natsPassword = (svc: string): string => `drift-${svc}-nats-password`;
const NAMESPACE = 'schedmesh-system';
/** The standalone overlay's Deployments, in start order: the informer creates the stream the others wait for. */
const SERVICES = ['informer', 'snapshot', 'reservation', 'gateway', 'filterscore', 'admission', 'scheduler'] as const;
type Service = (typeof SERVICES)[number];

/**
 * Every change made to the rendered configuration, and why. Anything else
 * that names a cluster address is left alone and fails the test.
 */
const REWRITES = {
  grpcPort: 'config.yaml grpc.port 50051 → a free port per service (they share one host here, not one pod each)',
  httpPort: 'config.yaml http.port 9090 → a free port per service (same reason)',
  serviceAddress: 'config.yaml <client>.address "schedmesh-<svc>:50051" (the Service) → "127.0.0.1:<that service\'s gRPC port>"',
  configPath: 'env SCHEDMESH_CONFIG (the ConfigMap volume\'s mount path) → the same config.yaml written to a temp dir',
  natsUrl: 'env SCHEDMESH_NATS__URL (schedmesh-endpoints nats-url) → the test\'s nats-server',
  redisUrl: 'env SCHEDMESH_REDIS__URL (schedmesh-endpoints redis-url) → the test\'s redis-server',
  serviceAccount: 'the mounted ServiceAccount token (in-cluster config) → KUBECONFIG with a token of the same ServiceAccount',
  tlsFiles:
    'env /etc/schedmesh-tls/* (the certificate Secret volume) → files in a temp dir: a test CA\'s certificate for the Service names plus 127.0.0.1, as the addresses are rewritten',
  metricsToken: 'env /etc/schedmesh-metrics/token (the Secret schedmesh-metrics-token) → a file in a temp dir holding a test token',
  natsPassword:
    'env /etc/schedmesh-nats/password (the Secret schedmesh-<svc>-nats) → a file in a temp dir holding the password the test nats-server (deploy/nats/auth.conf) gives that user',
  replicas: 'replicas 2 → one process per Deployment',
} as const;
type Rewrite = keyof typeof REWRITES;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } };
}
interface Deployment {
  kind: 'Deployment';
  metadata: { name: string };
  spec: {
    template: {
      spec: {
        serviceAccountName: string;
        automountServiceAccountToken?: boolean;
        containers: { name: string; command: string[]; env?: EnvVar[]; volumeMounts?: { name: string; mountPath: string }[] }[];
        volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
      };
    };
    replicas?: number;
  };
}
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
}

// One overlay at a time (describe blocks run in order); each gets its own control plane, NATS and Redis.
let cp: ControlPlane;
let nats: TestServer;
let redis: TestServer;
let pki: TestPki | undefined;
let dir: string;
const procs = new Map<Service, ServiceProcess>();
const applied = new Map<Service, Set<Rewrite>>();

const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

function record(svc: Service, rewrite: Rewrite): void {
  applied.set(svc, (applied.get(svc) ?? new Set()).add(rewrite));
}

/** The kubelet's $(VAR) expansion of a value from the variables defined before it. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}

/** A container's environment as the kubelet builds it from the rendered objects. */
function resolveEnv(svc: Service, vars: EnvVar[], configMaps: Map<string, Record<string, string>>, podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of vars) {
    if (v.value !== undefined) env[v.name] = expand(v.value, env);
    else if (v.valueFrom?.configMapKeyRef) {
      const { name, key, optional } = v.valueFrom.configMapKeyRef;
      const found = configMaps.get(name)?.[key];
      if (found !== undefined) env[v.name] = found;
      else if (!optional) throw new Error(`${svc}: env ${v.name} refers to ConfigMap ${name} key ${key}, which the overlay does not render`);
    } else if (v.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[v.name] = podName;
    else throw new Error(`${svc}: env ${v.name} has a source this test does not resolve: ${JSON.stringify(v.valueFrom)}`);
  }
  return env;
}

/** A service's rendered config.yaml with the listed address rewrites. */
function rewriteConfig(svc: Service, config: Record<string, Record<string, unknown>>, ports: Map<Service, { grpc: number; http: number }>): Record<string, unknown> {
  const own = ports.get(svc)!;
  expect(config.grpc?.port).toBe(50051);
  config.grpc = { ...config.grpc, port: own.grpc };
  record(svc, 'grpcPort');
  expect(config.http?.port).toBe(9090);
  config.http = { ...config.http, port: own.http };
  record(svc, 'httpPort');
  for (const [key, block] of Object.entries(config)) {
    if (typeof block !== 'object' || block === null || !('address' in block)) continue;
    const target = /^schedmesh-([a-z]+):50051$/.exec(String(block.address))?.[1] as Service | undefined;
    if (!target || !ports.has(target)) throw new Error(`${svc}: ${key}.address ${String(block.address)} is not the Service of a service the overlay deploys`);
    config[key] = { ...block, address: `127.0.0.1:${ports.get(target)!.grpc}` };
    record(svc, 'serviceAddress');
  }
  return config;
}

/** A kubeconfig that authenticates as the Deployment's ServiceAccount, as its mounted token would. */
async function serviceAccountKubeconfig(serviceAccount: string): Promise<string> {
  const token = (await kubectl(['create', 'token', serviceAccount, '-n', NAMESPACE, '--duration=1h'])).trim();
  const path = join(dir, `${serviceAccount}.kubeconfig`);
  writeFileSync(path, kubeconfigYaml(cp.server, cp.caPem, token));
  return path;
}

/** The files of a certificate Secret (tls.crt, tls.key, ca.crt), issued by the test CA for the service's names. */
function certificateSecret(svc: Service, secretName: string): string {
  // The CN names the service: with mTLS, every call is authorized by the caller's identity (libs/runtime authorization.ts).
  const issued = pki!.issue(`schedmesh-${svc}`, { serverNames: [`schedmesh-${svc}`, `schedmesh-${svc}.${NAMESPACE}.svc`, '127.0.0.1'] });
  const secretDir = join(dir, secretName);
  mkdirSync(secretDir);
  copyFileSync(issued.cert, join(secretDir, 'tls.crt'));
  copyFileSync(issued.key, join(secretDir, 'tls.key'));
  copyFileSync(pki!.caCert, join(secretDir, 'ca.crt'));
  return secretDir;
}

/** A Secret volume's files in a temp dir, by what the Secret is, and the rewrite that stands for it. */
function secretFiles(svc: Service, secretName: string): { files: string; rewrite: Rewrite } {
  if (secretName === `schedmesh-${svc}-tls`) return { files: certificateSecret(svc, secretName), rewrite: 'tlsFiles' };
  const files = join(dir, `${svc}-${secretName}`);
  mkdirSync(files);
  if (secretName === 'schedmesh-metrics-token') {
    writeFileSync(join(files, 'token'), METRICS_TOKEN);
    return { files, rewrite: 'metricsToken' };
  }
  if (secretName === `schedmesh-${svc}-nats`) {
    writeFileSync(join(files, 'password'), natsPassword(svc));
    return { files, rewrite: 'natsPassword' };
  }
  throw new Error(`${svc}: Secret ${secretName} is one this test does not know how to fill`);
}

/** The env with each Secret volume's mount path pointing at its files. */
function rewriteSecretFiles(svc: Service, env: Record<string, string>, pod: Deployment['spec']['template']['spec']): void {
  const container = pod.containers[0]!;
  for (const mount of container.volumeMounts ?? []) {
    const secretName = pod.volumes?.find((v) => v.name === mount.name)?.secret?.secretName;
    if (!secretName) continue;
    const { files, rewrite } = secretFiles(svc, secretName);
    for (const [name, value] of Object.entries(env)) {
      if (value.startsWith(`${mount.mountPath}/`)) env[name] = join(files, value.slice(mount.mountPath.length + 1));
    }
    record(svc, rewrite);
  }
}

/** Starts an overlay; with `natsAuth`, NATS runs deploy/nats/auth.conf with a password per service. */
async function startOverlay(overlay: string, { natsAuth = false } = {}): Promise<void> {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kubectl');
  procs.clear();
  applied.clear();
  dir = mkdtempSync(join(tmpdir(), 'schedmesh-drift-'));
  // A password for every user the file names (the extender's too, though this overlay does not run it).
  const passwordVariables = [...readFileSync(NATS_AUTH_CONF, 'utf8').matchAll(/\$(SCHEDMESH_NATS_([A-Z]+)_PASSWORD)/g)];
  const natsOptions = natsAuth ? { configFile: NATS_AUTH_CONF, env: Object.fromEntries(passwordVariables.map(([, name, user]) => [name!, natsPassword(user!.toLowerCase())])) } : {};
  [cp, nats, redis] = await Promise.all([startControlPlane(), startNats(natsOptions), startRedis()]);

  const rendered = parseAllDocuments(await kubectl(['kustomize', join(DEPLOY, overlay)])).map((d) => d.toJS() as Manifest);
  // What a cluster would hold besides the pods: the namespace, the CRD, the ServiceAccounts and their RBAC.
  const cluster = rendered.filter((o) =>
    ['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind),
  );
  await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: cluster }));
  await kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd/admissionpolicies.schedmesh.io']);
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(3, { prefix: 'drift-node' }));

  const deployments = rendered.filter((o): o is Manifest & Deployment => o.kind === 'Deployment');
  expect(deployments.map((d) => d.metadata.name).sort()).toEqual(SERVICES.map((s) => `schedmesh-${s}`).sort());
  const configMaps = new Map(rendered.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
  const ports = new Map<Service, { grpc: number; http: number }>();
  for (const svc of SERVICES) ports.set(svc, { grpc: await freePort(), http: await freePort() });

  for (const svc of SERVICES) {
    const deployment = deployments.find((d) => d.metadata.name === `schedmesh-${svc}`)!;
    if ((deployment.spec.replicas ?? 1) > 1) record(svc, 'replicas');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    expect(container.command).toEqual(['node', `services/${svc}/dist/main.js`]);
    const env = resolveEnv(svc, container.env ?? [], configMaps, `${deployment.metadata.name}-drift-0`);

    // The config file: the ConfigMap behind the volume mounted where SCHEDMESH_CONFIG points.
    const mount = container.volumeMounts?.find((m) => env.SCHEDMESH_CONFIG?.startsWith(`${m.mountPath}/`));
    const configMap = pod.volumes?.find((v) => v.name === mount?.name)?.configMap?.name;
    const key = env.SCHEDMESH_CONFIG!.slice(mount!.mountPath.length + 1);
    const config = rewriteConfig(svc, parseYaml(configMaps.get(configMap!)![key]!) as Record<string, Record<string, unknown>>, ports);
    const configPath = join(dir, `${svc}.yaml`);
    writeFileSync(configPath, stringify(config));
    env.SCHEDMESH_CONFIG = configPath;
    record(svc, 'configPath');

    for (const [name, rewrite, url] of [
      ['SCHEDMESH_NATS__URL', 'natsUrl', nats.url],
      ['SCHEDMESH_REDIS__URL', 'redisUrl', redis.url],
    ] as const) {
      if (env[name] === undefined) continue;
      env[name] = url;
      record(svc, rewrite);
    }
    rewriteSecretFiles(svc, env, pod);
    if (pod.automountServiceAccountToken) {
      env.KUBECONFIG = await serviceAccountKubeconfig(pod.serviceAccountName);
      record(svc, 'serviceAccount');
    }
    const leftover = Object.entries(env).find(([, v]) => /\.svc\b|schedmesh-[a-z]+:\d|^\/etc\//.test(v));
    if (leftover) throw new Error(`${svc}: env ${leftover[0]}=${leftover[1]} is a cluster address or path this test does not rewrite`);

    const proc = startServiceProcess({ service: svc, env, httpPort: ports.get(svc)!.http, logDir: dir });
    procs.set(svc, proc);
    // In start order: the informer creates the cluster stream, the clients find their servers.
    await proc.ready(120_000);
  }
}

async function stopOverlay(): Promise<void> {
  for (const svc of [...SERVICES].reverse()) await procs.get(svc)?.stop();
  await Promise.all([cp?.stop(), nats?.stop(), redis?.stop()]);
  pki?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Creates a pod for the schedmesh scheduler and waits until it is bound to one of the fake nodes. */
async function expectPodBound(name: string): Promise<void> {
  await cp.core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name, namespace: 'default' },
      spec: {
        schedulerName: 'schedmesh',
        containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: '500m', memory: '256Mi' } } }],
      },
    },
  });
  const node = await pollUntil(async () => (await cp.core.readNamespacedPod({ namespace: 'default', name })).spec?.nodeName, {
    what: `pod default/${name} bound by the schedmesh scheduler`,
    timeoutMs: 120_000,
    intervalMs: 250,
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n--- scheduler log ---\n${procs.get('scheduler')?.logTail(30)}`);
  });
  expect(node).toMatch(/^drift-node-\d+$/);
  // The scheduler records the event after the Binding, on its own time.
  const scheduled = await pollUntil(
    async () =>
      (await cp.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items.find((e) => e.reason === 'Scheduled'),
    { what: `the Scheduled event of default/${name}`, timeoutMs: 60_000, intervalMs: 250 },
  );
  expect(scheduled.message).toBe(`Successfully assigned default/${name} to ${node}`);
  for (const [svc, proc] of procs) expect(`${svc}: ${proc.exit() ? 'exited' : 'running'}`).toBe(`${svc}: running`);
}

/** Review L3: every service's /metrics and /debug/pprof/ answer only the Secret's bearer token; /readyz answers anyone. */
async function expectMetricsBehindToken(): Promise<void> {
  for (const [svc, proc] of procs) {
    const get = async (path: string, token?: string): Promise<string> =>
      `${svc} ${path}${token ? ' (token)' : ''}: ${(await fetch(`http://127.0.0.1:${proc.httpPort}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {})).status}`;
    expect(await get('/metrics')).toBe(`${svc} /metrics: 401`);
    expect(await get('/metrics', 'wrong-token')).toBe(`${svc} /metrics (token): 401`);
    expect(await get('/metrics', METRICS_TOKEN)).toBe(`${svc} /metrics (token): 200`);
    expect(await get('/debug/pprof/heap')).toBe(`${svc} /debug/pprof/heap: 401`);
    expect(await get('/readyz')).toBe(`${svc} /readyz: 200`);
  }
}

const everyService = (extra: Partial<Record<Service, Rewrite[]>>, all: Rewrite[] = []): Record<string, Rewrite[]> => {
  const base: Record<Service, Rewrite[]> = {
    informer: ['configPath', 'grpcPort', 'httpPort', 'natsUrl', 'serviceAccount'],
    snapshot: ['configPath', 'grpcPort', 'httpPort', 'natsUrl'],
    reservation: ['configPath', 'grpcPort', 'httpPort', 'natsUrl', 'redisUrl'],
    gateway: ['configPath', 'grpcPort', 'httpPort', 'natsUrl'],
    filterscore: ['configPath', 'grpcPort', 'httpPort', 'natsUrl', 'serviceAddress'],
    admission: ['configPath', 'grpcPort', 'httpPort', 'natsUrl', 'serviceAccount', 'serviceAddress'],
    scheduler: ['configPath', 'grpcPort', 'httpPort', 'natsUrl', 'serviceAccount', 'serviceAddress'],
  };
  return Object.fromEntries(SERVICES.map((svc) => [svc, [...base[svc], ...all, ...(extra[svc] ?? [])].sort()]));
};

describe('deploy/overlays/standalone', () => {
  beforeAll(() => startOverlay('overlays/standalone'), 420_000);
  afterAll(stopOverlay, 120_000);

  test('only the listed rewrites were made', () => {
    expect(Object.fromEntries([...applied].map(([svc, r]) => [svc, [...r].sort()]))).toEqual(everyService({}, ['metricsToken']));
  });

  test('the services as the overlay configures them bind a pod with schedulerName: schedmesh', () => expectPodBound('drift'), 180_000);

  test('/metrics and /debug/pprof/ need the Secret\'s bearer token; the probes do not', expectMetricsBehindToken, 60_000);
});

describe('deploy/overlays/production (mTLS, metrics token, NATS users)', () => {
  beforeAll(() => {
    pki = makeTestPki('schedmesh-drift-ca');
    return startOverlay('overlays/production', { natsAuth: true });
  }, 420_000);
  afterAll(stopOverlay, 120_000);

  test('only the listed rewrites were made, and together with standalone each of them was needed', () => {
    const replicated: Service[] = ['informer', 'snapshot', 'filterscore', 'reservation', 'admission', 'gateway', 'scheduler'];
    expect(Object.fromEntries([...applied].map(([svc, r]) => [svc, [...r].sort()]))).toEqual(
      everyService(Object.fromEntries(replicated.map((svc) => [svc, ['replicas']])), ['tlsFiles', 'metricsToken', 'natsPassword']),
    );
    expect(new Set([...applied.values()].flatMap((r) => [...r]))).toEqual(new Set(Object.keys(REWRITES)));
  });

  test('every service serves gRPC with mTLS, and they bind a pod over it', async () => {
    for (const [svc, proc] of procs) expect(`${svc}: ${/"mtls":true/.test(proc.logTail(200))}`).toBe(`${svc}: true`);
    await expectPodBound('drift-mtls');
  }, 180_000);

  test('/metrics and /debug/pprof/ need the Secret\'s bearer token; the probes do not', expectMetricsBehindToken, 60_000);

  test('NATS runs deploy/nats/auth.conf: the services connected as their own users, and a connection without credentials is refused', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    const ok = await connect({ servers: nats.url, user: 'gateway', pass: natsPassword('gateway'), reconnect: false });
    await ok.close();
  });
});
