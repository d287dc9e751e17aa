// The extender end to end with the real kube-scheduler: etcd + kube-apiserver,
// fake nodes, the mesh in-process (informer, snapshot, filterscore,
// reservation on real Redis, admission) and the extender, and the stock
// kube-scheduler configured with it (filter, prioritize, bind;
// nodeCacheCapable: true; ignorable: true) over HTTPS, as its enableHTTPS and
// tlsConfig.caData expect. Every check reads pods and events back from the
// API server.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { createFakeNodes, fakeNodeSpecs, makeTestPki, pollUntil, startKubeScheduler, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane, KubeScheduler, TestPki } from '@schedmesh/testkit';
import { extenderEntry } from './extender-entry.js';
import { startExtenderControlPlane, startExtenderMesh } from './extender-mesh.js';
import type { ExtenderMesh } from './extender-mesh.js';

const NODES = 10;
const PODS = 12;
const VERB_TIMEOUT_MS = 25_000;

let cp: ControlPlane;
let mesh: ExtenderMesh | undefined;
let kubeScheduler: KubeScheduler | undefined;
let pki: TestPki | undefined;

const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

function pod(name: string, namespace = 'default'): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'ext-e2e' } },
    spec: { containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: '250m', memory: '256Mi' } } }] },
  };
}

async function eventsOf(name: string, namespace = 'default'): Promise<{ reason?: string; message?: string }[]> {
  return (await cp.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;
}

beforeAll(async () => {
  cp = await startExtenderControlPlane({ kubeScheduler: true });
  await kubectl(['create', 'namespace', 'locked']);
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(NODES, { zones: 2, racksPerZone: 2 }));
  // The extender's certificate is valid for 127.0.0.1 (and localhost), signed by a throw-away CA.
  pki = makeTestPki('ext-e2e-ca');
  // Verb timeouts far above a verb's time even on a loaded machine: these tests count what the verbs did, and a verb past its timeout is retried or bypassed.
  mesh = await startExtenderMesh(cp, {
    tag: 'ext-e2e',
    nodes: NODES,
    extender: { tls: { certFile: pki.serverCert, keyFile: pki.serverKey }, verbTimeout: VERB_TIMEOUT_MS },
    caFile: pki.caCert,
  });
  expect(mesh.urlPrefix).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/schedmesh$/);
  const caPem = readFileSync(pki.caCert, 'utf8');
  kubeScheduler = await startKubeScheduler(cp, { config: { extenders: [extenderEntry(mesh, { ignorable: true, weight: 1, caPem, httpTimeout: `${VERB_TIMEOUT_MS / 1000 + 5}s` })] } });
}, 240_000);

afterAll(async () => {
  await kubeScheduler?.stop();
  await mesh?.stop();
  await cp?.stop();
  pki?.remove();
}, 120_000);

describe('the extender with the real kube-scheduler', () => {
  test('a pod an AdmissionPolicy rejects stays Pending with a FailedScheduling event carrying the extender reason', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'schedmesh.io/v1alpha1',
        kind: 'AdmissionPolicy',
        metadata: { name: 'lockdown' },
        spec: { targetNamespaces: { names: ['locked'] }, hibernation: { allApps: true } },
      }),
    );
    // The policy reaches admission through the stream; a pod created before that could be admitted.
    await pollUntil(
      async () => {
        const res = await mesh!.post('filter', { Pod: { ...pod('probe', 'locked'), metadata: { name: 'probe', namespace: 'locked', uid: 'probe-uid' } }, NodeNames: ['fake-node-0'] });
        return Object.keys((res.body as { FailedAndUnresolvableNodes: Record<string, string> }).FailedAndUnresolvableNodes).length > 0 ? true : undefined;
      },
      { what: 'admission applies the lockdown policy', timeoutMs: 60_000, intervalMs: 250 },
    );
    await cp.core.createNamespacedPod({ namespace: 'locked', body: pod('refused', 'locked') });
    const event = await pollUntil(
      async () => (await eventsOf('refused', 'locked')).find((e) => e.reason === 'FailedScheduling'),
      { what: 'FailedScheduling event for the refused pod', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(event.message).toMatch(new RegExp(`^0/${NODES} nodes are available: .*lockdown`));
    const read = await cp.core.readNamespacedPod({ namespace: 'locked', name: 'refused' });
    expect(read.spec?.nodeName ?? '').toBe('');
  }, 120_000);

  test(`${PODS} pods bind through the extender's bind verb, and a retried bind answers success`, async () => {
    const bindsBefore = await mesh!.requests('bind');
    const names = Array.from({ length: PODS }, (_, i) => `via-extender-${i}`);
    await Promise.all(names.map((n) => cp.core.createNamespacedPod({ namespace: 'default', body: pod(n) })));
    const pods = await pollUntil(
      async () => {
        const items = (await cp.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=ext-e2e' })).items.filter((p) => p.metadata!.name!.startsWith('via-extender-'));
        return items.length === PODS && items.every((p) => p.spec?.nodeName) ? items : undefined;
      },
      { what: `${PODS} pods bound`, timeoutMs: 120_000, intervalMs: 500 },
    );
    // ignorable: true would fall back to kube-scheduler's own binder on an extender error: the count proves the extender bound them.
    // The verb is counted when it answers, after the Binding and Confirm: wait for the last answers to be counted.
    await pollUntil(async () => ((await mesh!.requests('bind')) - bindsBefore >= PODS ? true : undefined), { what: `${PODS} bind answers counted`, timeoutMs: 30_000 });
    expect((await mesh!.requests('bind')) - bindsBefore).toBe(PODS);
    expect(await mesh!.requests('filter')).toBeGreaterThanOrEqual(PODS);

    const first = pods[0]!;
    const args = { PodName: first.metadata!.name, PodNamespace: 'default', PodUID: first.metadata!.uid, Node: first.spec!.nodeName };
    expect(await mesh!.post('bind', args)).toEqual({ status: 200, body: { Error: '' } });
    const other = first.spec!.nodeName === 'fake-node-0' ? 'fake-node-1' : 'fake-node-0';
    expect(((await mesh!.post('bind', { ...args, Node: other })).body as { Error: string }).Error).toMatch(/is already bound to node/);
    expect(((await mesh!.post('bind', { ...args, PodName: 'no-such-pod' })).body as { Error: string }).Error).toMatch(/does not exist/);
  }, 180_000);

  test('with ignorable: true and the extender stopped, pods still schedule', async () => {
    await mesh!.stopExtender();
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('without-extender') });
    const node = await pollUntil(async () => (await cp.core.readNamespacedPod({ namespace: 'default', name: 'without-extender' })).spec?.nodeName || undefined, {
      what: 'a pod bound with the extender down',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    expect(node).toMatch(/^fake-node-\d+$/);
  }, 150_000);
});
