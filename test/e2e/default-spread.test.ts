// Default pod topology spreading on a real control plane, schedmesh beside a
// stock kube-scheduler: each binds a pod of a Service away from the zone that
// holds the Service's pods (bound there under different owners, or none),
// against the pull of resource scoring, as upstream's system default
// constraints do; a pod of no Service follows resource scoring alone. Each
// scheduler has a namespace with the same Service and pods; the nodes and
// their load are shared. The mesh runs in-process over real etcd,
// kube-apiserver, NATS and Redis.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { createFakeNodes, pollUntil, startKubeScheduler } from '@schedmesh/testkit';
import type { ControlPlane, KubeScheduler } from '@schedmesh/testkit';
import { startE2eControlPlane, startE2eMesh } from './mesh.js';
import type { E2eMesh } from './mesh.js';

const ZONE_OF: Record<string, string> = { a1: 'a', a2: 'a', b1: 'b', b2: 'b' };
/** The namespace of each scheduler's pods. */
const NAMESPACE_OF: Record<string, string> = { schedmesh: 'spread-mesh', 'default-scheduler': 'spread-stock' };

let cp: ControlPlane;
let mesh: E2eMesh | undefined;
let stock: KubeScheduler | undefined;

const replicaSetRef = (name: string): V1OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid: `00000000-0000-0000-0000-${name.replace(/\D/g, '').padStart(12, '0')}`, controller: true });

function pod(name: string, opts: { app: string; cpu: string; memory: string; nodeName?: string; schedulerName?: string; owner?: string }): V1Pod {
  return {
    metadata: { name, labels: { app: opts.app }, ...(opts.owner ? { ownerReferences: [replicaSetRef(opts.owner)] } : {}) },
    spec: {
      ...(opts.nodeName ? { nodeName: opts.nodeName } : { schedulerName: opts.schedulerName }),
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: opts.cpu, memory: opts.memory } } }],
    },
  };
}

async function zoneOf(namespace: string, name: string): Promise<string | undefined> {
  const nodeName = await pollUntil(async () => (await cp.core.readNamespacedPod({ namespace, name })).spec?.nodeName || undefined, { what: `${namespace}/${name} bound`, timeoutMs: 90_000 });
  return ZONE_OF[nodeName];
}

beforeAll(async () => {
  cp = await startE2eControlPlane(Object.values(NAMESPACE_OF));
  await createFakeNodes(cp.kubeConfig, Object.entries(ZONE_OF).map(([name, zone]) => ({ name, zone })));
  for (const namespace of Object.values(NAMESPACE_OF)) {
    await cp.core.createNamespacedService({ namespace, body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
    // Zone a holds the Service's three small pods (two owners and none); zone b, unrelated load.
    for (const body of [
      pod('web-1-x', { app: 'web', cpu: '10m', memory: '16Mi', nodeName: 'a1', owner: 'web-1' }),
      pod('web-solo', { app: 'web', cpu: '10m', memory: '16Mi', nodeName: 'a1' }),
      pod('web-2-x', { app: 'web', cpu: '10m', memory: '16Mi', nodeName: 'a2', owner: 'web-2' }),
      pod('load-b1', { app: 'load', cpu: '500m', memory: '2Gi', nodeName: 'b1' }),
      pod('load-b2', { app: 'load', cpu: '500m', memory: '2Gi', nodeName: 'b2' }),
    ]) {
      await cp.core.createNamespacedPod({ namespace, body });
    }
  }
  mesh = await startE2eMesh(cp, { name: 'spread-e2e', nodes: 4 });
  stock = await startKubeScheduler(cp);
}, 240_000);

afterAll(async () => {
  await stock?.stop();
  await mesh?.stop();
  await cp?.stop();
}, 120_000);

test.each(Object.entries(NAMESPACE_OF))('%s: a pod of no Service goes where resource scoring sends it, the emptier zone a', async (schedulerName, namespace) => {
  await cp.core.createNamespacedPod({ namespace, body: pod('other', { app: 'other', cpu: '10m', memory: '16Mi', schedulerName }) });
  expect(await zoneOf(namespace, 'other')).toBe('a');
}, 120_000);

test.each(Object.entries(NAMESPACE_OF))("%s: a pod of the Service, of yet another owner, is spread to zone b, away from the Service's pods", async (schedulerName, namespace) => {
  await cp.core.createNamespacedPod({ namespace, body: pod('web-new', { app: 'web', cpu: '10m', memory: '16Mi', schedulerName, owner: 'web-3' }) });
  expect(await zoneOf(namespace, 'web-new')).toBe('b');
}, 120_000);
