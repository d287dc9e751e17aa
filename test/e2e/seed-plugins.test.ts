// The source design's plugins end to end on a real control plane (etcd +
// kube-apiserver): the mesh of scheduler.test.ts (mesh.ts) without admission, and the
// gateway configured with the example GPU compliance plugin's two plugins —
// the attestation verdict at preFilter and the attested-node filter — and a
// cost-tracking service answering the design's inject_tags operation. Three
// fake nodes: one with attested GPUs, a bigger one whose GPUs are not attested
// (the scheduler would prefer it), one without GPUs. Every check reads pods and
// events back from the API server.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ATTESTATION_ANNOTATION, signAttestation, startGpuCompliancePlugin } from '@schedmesh/gpu-compliance-example';
import type { GpuCompliancePlugin } from '@schedmesh/gpu-compliance-example';
import { startExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { ExamplePlugin } from '@schedmesh/rest-plugin-example';
import { createFakeNodes, pollUntil } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { startE2eControlPlane, startE2eMesh } from './mesh.js';
import type { E2eMesh } from './mesh.js';

const NAMESPACE = 'ml';
const keys = generateKeyPairSync('ed25519');

let cp: ControlPlane;
let mesh: E2eMesh | undefined;
let plugin: GpuCompliancePlugin | undefined;
let costTracking: ExamplePlugin | undefined;

const attestation = (serviceAccount: string, ttlSeconds = 3600): string =>
  signAttestation(keys.privateKey, { namespace: NAMESPACE, serviceAccount }, Math.floor(Date.now() / 1000) + ttlSeconds);

function gpuPod(name: string, opts: { gpus?: number; serviceAccount?: string; attestation?: string } = {}): V1Pod {
  const gpus = String(opts.gpus ?? 1);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, ...(opts.attestation ? { annotations: { [ATTESTATION_ANNOTATION]: opts.attestation } } : {}) },
    spec: {
      schedulerName: 'schedmesh',
      serviceAccountName: opts.serviceAccount ?? 'trainer',
      containers: [{ name: 'main', image: 'registry.invalid/cuda:never-pulled', resources: { requests: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': gpus }, limits: { 'nvidia.com/gpu': gpus } } }],
    },
  };
}

const readPod = (name: string): Promise<V1Pod> => cp.core.readNamespacedPod({ namespace: NAMESPACE, name });
const failedScheduling = (name: string): Promise<string> =>
  pollUntil(
    async () => (await cp.core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${name}` })).items.find((e) => e.reason === 'FailedScheduling')?.message,
    { what: `a FailedScheduling event for ${name}`, timeoutMs: 60_000, intervalMs: 250 },
  );
const boundNode = (name: string): Promise<string> => pollUntil(async () => (await readPod(name)).spec?.nodeName || undefined, { what: `${name} bound`, timeoutMs: 60_000, intervalMs: 250 });

beforeAll(async () => {
  cp = await startE2eControlPlane([NAMESPACE, 'broken']);
  await createFakeNodes(cp.kubeConfig, [
    { name: 'gpu-attested', capacity: { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '2' }, labels: { 'schedmesh.io/gpu-attested': 'true' } },
    { name: 'gpu-unattested', capacity: { cpu: '64', memory: '256Gi', pods: '110', 'nvidia.com/gpu': '8' } },
    { name: 'cpu-only', capacity: { cpu: '64', memory: '256Gi', pods: '110' }, labels: { 'schedmesh.io/gpu-attested': 'true' } },
  ]);

  // The public key as a mounted Secret would hold it.
  const dir = mkdtempSync(join(tmpdir(), 'gpu-e2e-'));
  const publicKeyFile = join(dir, 'ed25519.pub');
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  plugin = await startGpuCompliancePlugin({ publicKeyFile });
  const pluginsFile = join(dir, 'plugins.yaml');
  // Pods of the "broken" namespace get a tag value of the wrong type: an answer the gateway must not use.
  costTracking = await startExamplePlugin({
    decide: (request) => ({
      body: { operation: 'inject_tags', parameters: request.pod.namespace === 'broken' ? { cost_center: 42 } : { cost_center: 'rd-department-42', project_code: 'PX-2025-05' } },
    }),
  });
  const costPlugin = { name: 'cost-tracking', type: 'rest', protocol: 'operation', endpoint: costTracking.url, timeout: '5000ms', retry: 3 };
  writeFileSync(pluginsFile, stringify({ plugins: [...plugin.gatewayPlugins, costPlugin] }));

  mesh = await startE2eMesh(cp, { name: 'seed-e2e', nodes: 3, pluginsFile });
}, 180_000);

afterAll(async () => {
  await mesh?.stop();
  await plugin?.close();
  await costTracking?.close();
  await cp?.stop();
}, 60_000);

describe('the source design\'s plugins through the gateway and the scheduler', () => {
  test('a GPU pod without an attestation is refused with "Missing security attestation" and stays pending', async () => {
    await cp.core.createNamespacedPod({ namespace: NAMESPACE, body: gpuPod('unattested') });
    expect(await failedScheduling('unattested')).toContain('Missing security attestation');
    const pod = await readPod('unattested');
    expect(pod.spec?.nodeName ?? '').toBe('');
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  }, 90_000);

  test('an attestation signed for another service account is refused, saying why', async () => {
    await cp.core.createNamespacedPod({ namespace: NAMESPACE, body: gpuPod('borrowed', { serviceAccount: 'intruder', attestation: attestation('trainer') }) });
    expect(await failedScheduling('borrowed')).toContain('Missing security attestation: schedmesh.io/gpu-attestation is not valid (the signature does not verify for service account ml/intruder)');
    expect((await readPod('borrowed')).spec?.nodeName ?? '').toBe('');
  }, 90_000);

  test('an attested GPU pod binds, and only to the node whose GPUs are attested, though the other has more room', async () => {
    await cp.core.createNamespacedPod({ namespace: NAMESPACE, body: gpuPod('attested', { gpus: 2, attestation: attestation('trainer') }) });
    expect(await boundNode('attested')).toBe('gpu-attested');
    // PreBind: the cost-tracking service's inject_tags became labels on the bound pod.
    expect((await readPod('attested')).metadata?.labels).toMatchObject({ cost_center: 'rd-department-42', project_code: 'PX-2025-05' });
    // gpu-attested is full now: the next attested GPU pod fits only on gpu-unattested, which the plugin filters out.
    await cp.core.createNamespacedPod({ namespace: NAMESPACE, body: gpuPod('attested-2', { attestation: attestation('trainer') }) });
    expect(await failedScheduling('attested-2')).toContain('node has no attested GPUs (label schedmesh.io/gpu-attested=true)');
    expect((await readPod('attested-2')).spec?.nodeName ?? '').toBe('');
  }, 90_000);

  test('a broken inject_tags answer at PreBind never lets the pod bind: it is retried, and counted under the plugin\'s name', async () => {
    const badAnswers = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${mesh!.gateway!.httpPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('schedmesh_gateway_plugin_errors_total{') && l.includes('plugin="cost-tracking"') && l.includes('point="preBind"') && l.includes('kind="bad_response"'));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const body: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tagged-badly', namespace: 'broken' }, spec: { schedulerName: 'schedmesh', containers: [{ name: 'main', image: 'registry.invalid/app:never-pulled', resources: { requests: { cpu: '100m' } } }] } };
    await cp.core.createNamespacedPod({ namespace: 'broken', body });
    // Two attempts reached PreBind and got the broken answer: the second is the scheduler's retry.
    await pollUntil(async () => ((await badAnswers()) >= 2 ? true : undefined), { what: 'two PreBind attempts refused on the broken answer', timeoutMs: 60_000, intervalMs: 250 });
    const pod = await cp.core.readNamespacedPod({ namespace: 'broken', name: 'tagged-badly' });
    expect(pod.spec?.nodeName ?? '').toBe('');
    expect(pod.metadata?.labels?.cost_center).toBeUndefined();
  }, 90_000);

  test('a pod without GPUs needs no attestation', async () => {
    const body: V1Pod = { ...gpuPod('cpu-job'), spec: { schedulerName: 'schedmesh', containers: [{ name: 'main', image: 'registry.invalid/app:never-pulled', resources: { requests: { cpu: '500m' } } }] } };
    await cp.core.createNamespacedPod({ namespace: NAMESPACE, body });
    expect(await boundNode('cpu-job')).toMatch(/^(gpu-attested|gpu-unattested|cpu-only)$/);
  }, 90_000);
});
