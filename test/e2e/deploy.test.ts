// The kustomize deployment (deploy/) against a real etcd + kube-apiserver
// (test/cluster/build.sh): every overlay renders with `kubectl kustomize` and
// is accepted by `kubectl apply --dry-run=server` (production once a user's
// overlay sets its NATS and Redis hosts: as shipped it must be refused, and
// its replicas, budgets, spread and mTLS wiring are checked); the base's RBAC, applied
// for real, grants each ServiceAccount what its code calls and refuses the
// rest (`kubectl auth can-i --as`). Missing binaries fail the suite with the
// build command.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { requireBinary, startControlPlane, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { parseAllDocuments } from 'yaml';

const DEPLOY = join(__dirname, '../../deploy');
const NAMESPACE = 'schedmesh-system';
const OVERLAYS = ['base', 'overlays/standalone', 'overlays/extender', 'overlays/dev'] as const;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Container {
  name: string;
  command?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    volumes?: { name: string; secret?: { secretName: string; items?: unknown[] } }[];
    topologySpreadConstraints?: { topologyKey: string; whenUnsatisfiable: string }[];
  };
}

const podTemplate = (d: Manifest): PodTemplate => (d.spec as { template: PodTemplate }).template;

let cp: ControlPlane;

const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

const render = (dir: string): Promise<string> => kubectl(['kustomize', join(DEPLOY, dir)]);

/** The objects of rendered YAML. */
function manifests(yamlText: string): Promise<Manifest[]> {
  return Promise.resolve(parseAllDocuments(yamlText).map((d) => d.toJS() as Manifest));
}

/** `kubectl auth can-i` answers with its exit code (0 yes, 1 no); anything else is an error. */
function canI(serviceAccount: string, verb: string, resource: string, namespace = 'default', subresource?: string): Promise<boolean> {
  const args = ['--kubeconfig', cp.kubeconfigPath, 'auth', 'can-i', verb, resource, '-n', namespace, `--as=system:serviceaccount:${NAMESPACE}:${serviceAccount}`];
  if (subresource) args.push(`--subresource=${subresource}`);
  return new Promise((resolve, reject) => {
    execFile(requireBinary('kubectl'), args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const answer = stdout.trim();
      if (answer === 'yes' && !err) resolve(true);
      else if (answer === 'no' && err?.code === 1) resolve(false);
      else reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err?.message || answer}`));
    });
  });
}

beforeAll(async () => {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kubectl');
  cp = await startControlPlane();
  // A dry run creates nothing, so the namespaced objects need their namespace to exist.
  await kubectl(['create', 'namespace', NAMESPACE]);
}, 120_000);

afterAll(async () => {
  await cp?.stop();
}, 60_000);

describe.each(OVERLAYS)('deploy/%s', (dir) => {
  test('renders and is accepted by the API server (dry run)', async () => {
    const rendered = await render(dir);
    const objects = await manifests(rendered);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      if (o.kind === 'Namespace' || o.kind.startsWith('Cluster') || o.kind === 'CustomResourceDefinition') continue;
      expect(`${o.kind}/${o.metadata.name}: ${o.metadata.namespace ?? '(none)'}`).toMatch(/: (schedmesh-system|kube-system)$/);
    }
    const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], rendered);
    expect(out).toContain('deployment.apps/schedmesh-informer created (server dry run)');
  }, 60_000);
});

// Review L3: an overlay whose services answer /metrics and /debug/pprof/ to anyone fails here.
test.each([...OVERLAYS, 'overlays/production'])('deploy/%s: every mesh service reads the metrics bearer token from the Secret schedmesh-metrics-token', async (dir) => {
  const mesh = (await manifests(await render(dir))).filter(
    (o) => o.kind === 'Deployment' && podTemplate(o).spec.containers[0]?.command?.join(' ').startsWith('node services/'),
  );
  expect(mesh.length).toBeGreaterThanOrEqual(7);
  for (const d of mesh) {
    const { spec } = podTemplate(d);
    const container = spec.containers[0]!;
    const env = new Map((container.env ?? []).map((e) => [e.name, e.value]));
    const mount = container.volumeMounts?.find((m) => m.name === 'metrics-token')?.mountPath;
    const volume = spec.volumes?.find((v) => v.name === 'metrics-token');
    expect([d.metadata.name, env.get('SCHEDMESH_HTTP__BEARER_TOKEN_FILE'), mount, volume]).toEqual([
      d.metadata.name,
      '/etc/schedmesh-metrics/token',
      '/etc/schedmesh-metrics',
      { name: 'metrics-token', secret: { secretName: 'schedmesh-metrics-token', items: [{ key: 'token', path: 'token' }] } },
    ]);
  }
}, 60_000);

test.each([
  ['overlays/standalone', 'schedmesh-scheduler', 'schedmesh-extender'],
  ['overlays/extender', 'schedmesh-extender', 'schedmesh-scheduler'],
  ['overlays/dev', 'schedmesh-scheduler', 'schedmesh-extender'],
])('%s runs %s and not %s', async (dir, present, absent) => {
  const deployments = (await manifests(await render(dir)))
    .filter((o) => o.kind === 'Deployment')
    .map((o) => o.metadata.name);
  expect(deployments).toContain(present);
  expect(deployments).not.toContain(absent);
  if (dir === 'overlays/extender') expect(deployments).toContain('schedmesh-kube-scheduler');
  if (dir === 'overlays/dev') expect(deployments).toEqual(expect.arrayContaining(['nats', 'redis', 'jaeger']));
});

test('every schedmesh container runs restricted, probed and bounded', async () => {
  const deployments = (await manifests(await render('base'))).filter((o) => o.kind === 'Deployment');
  expect(deployments).toHaveLength(8);
  for (const d of deployments) {
    const pod = (d.spec as { template: { spec: { securityContext: Record<string, unknown>; containers: Record<string, unknown>[] } } }).template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    for (const c of pod.containers) {
      expect(c).toMatchObject({
        image: 'schedmesh:dev',
        command: ['node', `services/${d.metadata.name.replace('schedmesh-', '')}/dist/main.js`],
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
        readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
        resources: { requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { cpu: expect.any(String), memory: expect.any(String) } },
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      });
    }
  }
});

test('a wrong field fails the dry run with the API server message', async () => {
  const objects = await manifests(await render('base'));
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'schedmesh-snapshot')!;
  (deployment.spec as Record<string, unknown>).replica = 2;
  await expect(kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(deployment))).rejects.toThrow(/unknown field "spec.replica"/);
});

describe('RBAC, applied for real', () => {
  beforeAll(async () => {
    const rbac = (await manifests(await render('base'))).filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'CustomResourceDefinition'].includes(o.kind));
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
    // scheduler-plugins' PodGroup CRD, which deploy/ does not ship: can-i resolves a resource through discovery.
    await kubectl(['apply', '-f', join(__dirname, 'fixtures/podgroup-crd.yaml')]);
    await kubectl(['wait', '--for', 'condition=established', '--timeout=60s', 'crd/podgroups.scheduling.x-k8s.io']);
  }, 60_000);

  // [service account, verb, resource, namespace, subresource, allowed]
  test.each<[string, string, string, string, string | undefined, boolean]>([
    ['schedmesh-informer', 'watch', 'pods', 'default', undefined, true],
    ['schedmesh-informer', 'list', 'nodes', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'admissionpolicies.schedmesh.io', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'poddisruptionbudgets.policy', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'podgroups.scheduling.x-k8s.io', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'services', 'default', undefined, true],
    ['schedmesh-informer', 'list', 'replicasets.apps', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'statefulsets.apps', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'replicationcontrollers', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'deployments.apps', 'default', undefined, false],
    ['schedmesh-informer', 'get', 'services', 'default', undefined, false],
    ['schedmesh-informer', 'watch', 'configmaps', NAMESPACE, undefined, true],
    ['schedmesh-informer', 'patch', 'pods', 'default', 'status', true],
    ['schedmesh-informer', 'create', 'events.events.k8s.io', 'default', undefined, true],
    ['schedmesh-informer', 'list', 'configmaps', 'default', undefined, false],
    ['schedmesh-informer', 'list', 'secrets', NAMESPACE, undefined, false],
    ['schedmesh-informer', 'create', 'pods', 'default', 'binding', false],
    ['schedmesh-informer', 'patch', 'pods', 'default', undefined, false],
    ['schedmesh-informer', 'create', 'leases.coordination.k8s.io', NAMESPACE, undefined, true],
    ['schedmesh-informer', 'update', 'leases.coordination.k8s.io/schedmesh-informer', NAMESPACE, undefined, true],
    ['schedmesh-informer', 'get', 'leases.coordination.k8s.io/schedmesh-informer', NAMESPACE, undefined, true],
    ['schedmesh-informer', 'update', 'leases.coordination.k8s.io/kube-scheduler', NAMESPACE, undefined, false],
    ['schedmesh-informer', 'update', 'leases.coordination.k8s.io/schedmesh-informer', 'default', undefined, false],
    ['schedmesh-admission', 'create', 'subjectaccessreviews.authorization.k8s.io', 'default', undefined, true],
    ['schedmesh-admission', 'list', 'pods', 'default', undefined, false],
    ['schedmesh-admission', 'create', 'pods', 'default', 'binding', false],
    ['schedmesh-scheduler', 'create', 'pods', 'default', 'binding', true],
    ['schedmesh-scheduler', 'patch', 'pods', 'default', 'status', true],
    ['schedmesh-scheduler', 'patch', 'pods', 'default', undefined, true],
    ['schedmesh-scheduler', 'get', 'pods', 'default', undefined, true],
    ['schedmesh-scheduler', 'create', 'events.events.k8s.io', 'default', undefined, true],
    ['schedmesh-scheduler', 'delete', 'pods', 'default', undefined, false],
    ['schedmesh-scheduler', 'create', 'pods', 'default', 'eviction', true],
    ['schedmesh-scheduler', 'list', 'secrets', 'default', undefined, false],
    ['schedmesh-extender', 'create', 'pods', 'default', 'binding', true],
    ['schedmesh-extender', 'get', 'nodes', 'default', undefined, true],
    ['schedmesh-extender', 'get', 'pods', 'default', undefined, true],
    ['schedmesh-extender', 'patch', 'pods', 'default', 'status', false],
    ['schedmesh-extender', 'list', 'nodes', 'default', undefined, false],
    ['schedmesh-snapshot', 'list', 'pods', 'default', undefined, false],
    ['schedmesh-filterscore', 'get', 'nodes', 'default', undefined, false],
    ['schedmesh-reservation', 'get', 'pods', 'default', undefined, false],
    ['schedmesh-gateway', 'get', 'configmaps', NAMESPACE, undefined, false],
  ])('%s %s %s in %s (subresource %s): %s', async (sa, verb, resource, namespace, subresource, allowed) => {
    await expect(canI(sa, verb, resource, namespace, subresource)).resolves.toBe(allowed);
  });
});

describe('deploy/overlays/production', () => {
  let objects: Manifest[];
  const deployments = (): Manifest[] => objects.filter((o) => o.kind === 'Deployment');
  const service = (d: Manifest): string => d.metadata.name.replace('schedmesh-', '');

  beforeAll(async () => {
    objects = await manifests(await render('overlays/production'));
  }, 60_000);

  test('left as shipped, the dry run fails on the NATS and Redis hosts still to be set', async () => {
    await expect(kubectl(['apply', '--dry-run=server', '-f', '-'], await render('overlays/production'))).rejects.toThrow(
      /Service "schedmesh-(nats|redis)" is invalid: spec\.externalName: Invalid value: "SET-ME_(NATS|REDIS)-HOST"/,
    );
  }, 60_000);

  test('with the hosts set as deploy/README.md shows, the API server accepts it (dry run)', async () => {
    // A user's overlay on top of production, in a directory of its own.
    const dir = mkdtempSync(join(tmpdir(), 'schedmesh-prod-'));
    try {
      const host = (name: string, externalName: string) =>
        ({ patch: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NAMESPACE }, spec: { externalName } }) });
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        JSON.stringify({
          resources: [relative(dir, join(DEPLOY, 'overlays/production'))],
          patches: [host('schedmesh-nats', 'nats.infra.svc.cluster.local'), host('schedmesh-redis', 'redis.infra.svc.cluster.local')],
        }),
      );
      const rendered = await kubectl(['kustomize', dir]);
      for (const o of await manifests(rendered)) {
        if (o.kind === 'Namespace' || o.kind.startsWith('Cluster') || o.kind === 'CustomResourceDefinition') continue;
        expect(`${o.kind}/${o.metadata.name}: ${o.metadata.namespace ?? '(none)'}`).toMatch(/: schedmesh-system$/);
      }
      const out = await kubectl(['apply', '--dry-run=server', '-f', '-'], rendered);
      expect(out).toContain('deployment.apps/schedmesh-scheduler created (server dry run)');
      expect(out).toContain('poddisruptionbudget.policy/schedmesh-scheduler created (server dry run)');
      expect(out).toContain('service/schedmesh-nats created (server dry run)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('every service runs 2 replicas (the informer: a leader and a standby), spread across nodes, under a PodDisruptionBudget', () => {
    const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    for (const d of deployments()) {
      const replicas = (d.spec as { replicas: number }).replicas;
      expect(`${d.metadata.name}: ${replicas}`).toBe(`${d.metadata.name}: 2`);
      const budget = budgets.find((b) => (b.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels['app.kubernetes.io/name'] === d.metadata.name);
      expect(`${d.metadata.name}: ${budget ? 'budget' : 'none'}`).toBe(`${d.metadata.name}: ${replicas > 1 ? 'budget' : 'none'}`);
      expect(podTemplate(d).spec.topologySpreadConstraints).toEqual(
        expect.arrayContaining([expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' })]),
      );
    }
  });

  test('every service reads its own NATS user\'s password (a user of deploy/nats/auth.conf) from a Secret', () => {
    const natsUsers = [...readFileSync(join(DEPLOY, 'nats/auth.conf'), 'utf8').matchAll(/\{ user: ([a-z]+),/g)].map((m) => m[1]);
    for (const d of deployments()) {
      const svc = service(d);
      const { spec } = podTemplate(d);
      const container = spec.containers[0]!;
      const env = new Map((container.env ?? []).map((e) => [e.name, e.value]));
      const mountOf = (volume: string): string | undefined => container.volumeMounts?.find((m) => m.name === volume)?.mountPath;
      expect([svc, env.get('SCHEDMESH_NATS__USER'), env.get('SCHEDMESH_NATS__PASSWORD_FILE')]).toEqual([svc, svc, '/etc/schedmesh-nats/password']);
      expect(natsUsers).toContain(svc);
      expect(spec.volumes).toContainEqual({ name: 'nats-credentials', secret: { secretName: `schedmesh-${svc}-nats`, items: [{ key: 'password', path: 'password' }] } });
      expect([svc, mountOf('nats-credentials')]).toEqual([svc, '/etc/schedmesh-nats']);
    }
  });

  test('every gRPC server and every address a service dials use its certificate Secret (mTLS)', () => {
    for (const d of deployments()) {
      const svc = service(d);
      const { spec } = podTemplate(d);
      expect(spec.volumes).toContainEqual({ name: 'tls', secret: { secretName: `schedmesh-${svc}-tls` } });
      const container = spec.containers[0]!;
      expect(container.volumeMounts).toContainEqual(expect.objectContaining({ name: 'tls', mountPath: '/etc/schedmesh-tls' }));
      const env = new Map((container.env ?? []).map((e) => [e.name, e.value]));
      expect(env.get('SCHEDMESH_GRPC__TLS__CLIENT_CA_FILE')).toBe('/etc/schedmesh-tls/ca.crt');
      // Every block of the service's config.yaml with an address is a client of another mesh service.
      const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `schedmesh-${svc}-config`)!;
      const dialled = Object.entries(parseAllDocuments(config.data!['config.yaml']!)[0]!.toJS() as Record<string, Record<string, unknown>>)
        .filter(([, block]) => typeof block === 'object' && block !== null && 'address' in block)
        .map(([key]) => key.toUpperCase());
      for (const key of dialled) {
        expect([svc, key, env.get(`SCHEDMESH_${key}__TLS__CA_FILE`), env.get(`SCHEDMESH_${key}__TLS__CERT_FILE`)]).toEqual([
          svc,
          key,
          '/etc/schedmesh-tls/ca.crt',
          '/etc/schedmesh-tls/tls.crt',
        ]);
      }
    }
  });
});
