import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { pollUntil } from '@schedmesh/testkit';
import { ATTESTATION_ANNOTATION, signAttestation } from './attestation.js';
import type { KeyFileEvent } from './key-file.js';
import { MISSING_ATTESTATION } from './rules.js';
import { startGpuCompliancePlugin } from './server.js';
import type { GpuCompliancePlugin } from './server.js';

// A key rotation under a running plugin, as an operator does it with a Secret: add the new key, sign with it,
// remove the old one. The plugin re-reads the file every 50 ms here; each step waits for the verdict it expects.
const oldKey = generateKeyPairSync('ed25519');
const newKey = generateKeyPairSync('ed25519');
const subject = { namespace: 'ml', serviceAccount: 'trainer' };
const publicPem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
let dir: string;
let keyFile: string;
let plugin: GpuCompliancePlugin;
const events: KeyFileEvent[] = [];

/** Replaces the key file in one step, as the kubelet's symlink swap does for a mounted Secret. */
function writeKeys(text: string): void {
  writeFileSync(`${keyFile}.new`, text);
  renameSync(`${keyFile}.new`, keyFile);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpu-key-rotation-'));
  keyFile = join(dir, 'ed25519.pub');
  writeKeys(publicPem(oldKey.publicKey));
  plugin = await startGpuCompliancePlugin({ publicKeyFile: keyFile, keyReloadIntervalMs: 50, onKeyFileEvent: (e) => events.push(e) });
});
afterAll(async () => {
  await plugin.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The plugin's verdict, over HTTP, for a GPU pod carrying an attestation signed by `key`. */
async function verdictFor(key: KeyObject): Promise<{ allowed: boolean; reason?: string }> {
  const annotation = signAttestation(key, subject, Math.floor(Date.now() / 1000) + 3600);
  const pod = { uid: 'u', namespace: subject.namespace, serviceAccountName: subject.serviceAccount, annotations: { [ATTESTATION_ANNOTATION]: annotation }, requests: { scalar: { 'nvidia.com/gpu': 1 } } };
  const res = await fetch(new URL('attestation', plugin.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'schedmesh.io/plugin/v1', kind: 'PluginRequest', requestId: 'r', plugin: 'gpu-attestation', extensionPoint: 'preFilter', pod, nodes: [] }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { allowed: boolean; reason?: string };
}
const refused = { allowed: false, reason: `${MISSING_ATTESTATION}: ${ATTESTATION_ANNOTATION} is not valid (the signature does not verify for service account ml/trainer)` };

async function untilVerdict(key: KeyObject, expected: unknown, what: string): Promise<void> {
  await pollUntil(async () => (JSON.stringify(await verdictFor(key)) === JSON.stringify(expected) ? true : undefined), { what, timeoutMs: 30_000, intervalMs: 50 });
}

test('a rotated key file takes effect without a restart: the new key admits, the removed key refuses, a broken file changes nothing', async () => {
  expect(await verdictFor(oldKey.privateKey)).toEqual({ allowed: true });
  expect(await verdictFor(newKey.privateKey)).toEqual(refused);

  // 1. The new key is added beside the old one: attestations signed by either verify.
  writeKeys(publicPem(newKey.publicKey) + publicPem(oldKey.publicKey));
  await untilVerdict(newKey.privateKey, { allowed: true }, 'a pod signed with the added key is admitted');
  expect(await verdictFor(oldKey.privateKey)).toEqual({ allowed: true });

  // 2. The old key is removed: its attestations are refused, the new key's still admitted.
  writeKeys(publicPem(newKey.publicKey));
  await untilVerdict(oldKey.privateKey, refused, 'a pod signed with the removed key is refused');
  expect(await verdictFor(newKey.privateKey)).toEqual({ allowed: true });

  // 3. A broken file (a bad Secret update) keeps the keys in force, and says so.
  writeKeys('-----BEGIN PUBLIC KEY-----\nnot base64 DER\n-----END PUBLIC KEY-----\n');
  await pollUntil(async () => (events.some((e) => e.event === 'keys_reload_failed') ? true : undefined), { what: 'the failed re-read is reported', timeoutMs: 30_000, intervalMs: 50 });
  expect(await verdictFor(newKey.privateKey)).toEqual({ allowed: true });
  expect(await verdictFor(oldKey.privateKey)).toEqual(refused);

  expect(events.map((e) => (e.event === 'keys_reloaded' ? `${e.event}:${e.keys}` : `${e.event}:kept ${e.keptKeys}`))).toEqual(['keys_reloaded:2', 'keys_reloaded:1', 'keys_reload_failed:kept 1']);
}, 90_000);
