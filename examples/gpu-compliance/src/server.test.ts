import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ATTESTATION_ANNOTATION, signAttestation } from './attestation.js';
import { startGpuCompliancePlugin } from './server.js';
import type { GpuCompliancePlugin } from './server.js';

const keys = generateKeyPairSync('ed25519');
const now = 1_800_000_000;
let dir: string;
let plugin: GpuCompliancePlugin;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpu-compliance-'));
  const publicKeyFile = join(dir, 'ed25519.pub');
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  plugin = await startGpuCompliancePlugin({ publicKeyFile, gpuResources: ['nvidia.com/gpu', 'amd.com/gpu'], nowSeconds: () => now });
});
afterAll(async () => {
  await plugin.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, plugin.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const attestation = signAttestation(keys.privateKey, { namespace: 'ml', serviceAccount: 'trainer' }, now + 600);
function request(pod: Record<string, unknown>, nodes: Array<{ name: string; labels?: Record<string, string> }> = []): Record<string, unknown> {
  return { apiVersion: 'schedmesh.io/plugin/v1', kind: 'PluginRequest', requestId: 'r', plugin: 'p', extensionPoint: 'preFilter', pod: { uid: 'u', namespace: 'ml', serviceAccountName: 'trainer', ...pod }, nodes };
}
const gpu = (resource = 'nvidia.com/gpu', count: number | string = 1) => ({ requests: { milliCpu: 100, scalar: { [resource]: count } } });

describe('POST /attestation (verdict)', () => {
  test.each<[string, Record<string, unknown>, unknown]>([
    ['a pod without GPUs needs nothing', { requests: { milliCpu: 100 } }, { allowed: true }],
    ['a GPU pod with a valid attestation is allowed', { ...gpu(), annotations: { [ATTESTATION_ANNOTATION]: attestation } }, { allowed: true }],
    ['any configured GPU resource counts', { ...gpu('amd.com/gpu', '2') }, { allowed: false, reason: 'Missing security attestation' }],
    ['a GPU pod without one is refused with the source design\'s reason', gpu(), { allowed: false, reason: 'Missing security attestation' }],
    [
      'a GPU pod of another service account is refused, saying why',
      { ...gpu(), serviceAccountName: 'intruder', annotations: { [ATTESTATION_ANNOTATION]: attestation } },
      { allowed: false, reason: `Missing security attestation: ${ATTESTATION_ANNOTATION} is not valid (the signature does not verify for service account ml/intruder)` },
    ],
    ['zero GPUs is no GPU', gpu('nvidia.com/gpu', 0), { allowed: true }],
  ])('%s', async (_what, pod, verdict) => {
    await expect(post('/attestation', request(pod))).resolves.toEqual({ status: 200, body: verdict });
  });
});

describe('POST /nodes (v1 filter)', () => {
  const nodes = [{ name: 'a', labels: { 'schedmesh.io/gpu-attested': 'true' } }, { name: 'b' }, { name: 'c', labels: { 'schedmesh.io/gpu-attested': 'false' } }];
  test('a GPU pod is kept off nodes without the attested label', async () => {
    const reason = 'node has no attested GPUs (label schedmesh.io/gpu-attested=true)';
    await expect(post('/nodes', request(gpu(), nodes))).resolves.toEqual({
      status: 200,
      body: {
        apiVersion: 'schedmesh.io/plugin/v1',
        rejected: [
          { node: 'b', status: 'UnschedulableAndUnresolvable', reasons: [reason] },
          { node: 'c', status: 'UnschedulableAndUnresolvable', reasons: [reason] },
        ],
      },
    });
  });
  test('a pod without GPUs may go anywhere', async () => {
    await expect(post('/nodes', request({}, nodes))).resolves.toEqual({ status: 200, body: { apiVersion: 'schedmesh.io/plugin/v1', rejected: [] } });
  });
});

describe('bad requests get a 4xx with the reason', () => {
  test.each<[string, string, unknown, number, string]>([
    ['not JSON', '/attestation', '{', 400, 'the body is not JSON'],
    ['not an object', '/attestation', [1], 400, 'the body is not a JSON object'],
    ['another apiVersion', '/nodes', { ...request({}), apiVersion: 'v9' }, 400, 'unsupported apiVersion "v9"'],
    ['no pod', '/attestation', { apiVersion: 'schedmesh.io/plugin/v1', nodes: [] }, 400, 'pod: must be an object'],
    ['nodes that are not a list', '/nodes', { ...request({}), nodes: {} }, 400, 'nodes: must be an array'],
    ['an unknown route', '/admit', request({}), 404, 'routes: POST /attestation (verdict), POST /nodes (v1 filter)'],
  ])('%s', async (_what, path, body, status, error) => {
    await expect(post(path, body)).resolves.toEqual({ status, body: { error } });
  });

  test('the gateway plugin definitions point at the two routes, fail-closed', () => {
    expect(plugin.gatewayPlugins.map((p) => [p.name, p.protocol, new URL(p.endpoint).pathname, p.extensionPoints, p.failurePolicy])).toEqual([
      ['gpu-attestation', 'verdict', '/attestation', ['preFilter'], 'Fail'],
      ['gpu-attested-nodes', 'schedmesh.io/plugin/v1', '/nodes', ['filter'], 'Fail'],
    ]);
  });
});
