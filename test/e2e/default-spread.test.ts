// Default pod topology spreading on a real control plane: the schedmesh
// scheduler binds a pod of a Service away from the zone that holds the
// Service's pods (bound there under different owners, or none), against the
// pull of resource scoring, as kube-scheduler's system default constraints
// do; a pod of no Service, beside it, follows resource scoring alone. The
// mesh runs in-process over real etcd, kube-apiserver, NATS and Redis.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { createFakeNodes, pollUntil } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { startE2eControlPlane, startE2eMesh } from './mesh.js';
import type { E2eMesh } from './mesh.js';

const NS = 'spread';
const ZONE_OF: Record<string, string> = { a1: 'a', a2: 'a', b1: 'b', b2: 'b' };

let cp: ControlPlane;
let mesh: E2eMesh | undefined;

const replicaSetRef = (name: string): V1OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid: `00000000-0000-0000-0000-${name.replace(/\D/g, '').padStart(12, '0')}`, controller: true });

function pod(name: string, opts: { app: string; cpu: string; memory: string; nodeName?: string; owner?: string }): V1Pod {
  return {
    metadata: { name, namespace: NS, labels: { app: opts.app }, ...(opts.owner ? { ownerReferences: [replicaSetRef(opts.owner)] } : {}) },
    spec: {
      ...(opts.nodeName ? { nodeName: opts.nodeName } : { schedulerName: 'schedmesh' }),
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: opts.cpu, memory: opts.memory } } }],
    },
  };
}

async function boundNode(name: string): Promise<string> {
  return pollUntil(async () => (await cp.core.readNamespacedPod({ namespace: NS, name })).spec?.nodeName || undefined, { what: `${name} bound`, timeoutMs: 90_000 });
}

beforeAll(async () => {
  cp = await startE2eControlPlane([NS]);
  await createFakeNodes(cp.kubeConfig, Object.entries(ZONE_OF).map(([name, zone]) => ({ name, zone })));
  await cp.core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
  // Zone a holds the Service's three small pods (two owners and none); zone b, unrelated load.
  for (const body of [
    pod('web-1-x', { app: 'web', cpu: '10m', memory: '16Mi', nodeName: 'a1', owner: 'web-1' }),
    pod('web-solo', { app: 'web', cpu: '10m', memory: '16Mi', nodeName: 'a1' }),
    pod('web-2-x', { app: 'web', cpu: '10m', memory: '16Mi', nodeName: 'a2', owner: 'web-2' }),
    pod('load-b1', { app: 'load', cpu: '1', memory: '4Gi', nodeName: 'b1' }),
    pod('load-b2', { app: 'load', cpu: '1', memory: '4Gi', nodeName: 'b2' }),
  ]) {
    await cp.core.createNamespacedPod({ namespace: NS, body });
  }
  mesh = await startE2eMesh(cp, { name: 'spread-e2e', nodes: 4 });
}, 240_000);

afterAll(async () => {
  await mesh?.stop();
  await cp?.stop();
}, 120_000);

test('a pod of no Service goes where resource scoring sends it: the emptier zone a', async () => {
  await cp.core.createNamespacedPod({ namespace: NS, body: pod('other', { app: 'other', cpu: '10m', memory: '16Mi' }) });
  expect(ZONE_OF[await boundNode('other')]).toBe('a');
}, 120_000);

test("a pod of the Service, of yet another owner, is spread to zone b, away from the Service's pods", async () => {
  await cp.core.createNamespacedPod({ namespace: NS, body: pod('web-new', { app: 'web', cpu: '10m', memory: '16Mi', owner: 'web-3' }) });
  expect(ZONE_OF[await boundNode('web-new')]).toBe('b');
}, 120_000);
