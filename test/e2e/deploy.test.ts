// The kustomize deployment (deploy/) against a real etcd + kube-apiserver
// (test/cluster/build.sh): every overlay renders with `kubectl kustomize` and
// is accepted by `kubectl apply --dry-run=server`; the base's RBAC, applied
// for real, grants each ServiceAccount what its code calls and refuses the
// rest (`kubectl auth can-i --as`). Missing binaries fail the suite with the
// build command.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

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
}

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
  }, 60_000);

  // [service account, verb, resource, namespace, subresource, allowed]
  test.each<[string, string, string, string, string | undefined, boolean]>([
    ['schedmesh-informer', 'watch', 'pods', 'default', undefined, true],
    ['schedmesh-informer', 'list', 'nodes', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'admissionpolicies.schedmesh.io', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'poddisruptionbudgets.policy', 'default', undefined, true],
    ['schedmesh-informer', 'watch', 'configmaps', NAMESPACE, undefined, true],
    ['schedmesh-informer', 'patch', 'pods', 'default', 'status', true],
    ['schedmesh-informer', 'create', 'events.events.k8s.io', 'default', undefined, true],
    ['schedmesh-informer', 'list', 'configmaps', 'default', undefined, false],
    ['schedmesh-informer', 'list', 'secrets', NAMESPACE, undefined, false],
    ['schedmesh-informer', 'create', 'pods', 'default', 'binding', false],
    ['schedmesh-informer', 'patch', 'pods', 'default', undefined, false],
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
