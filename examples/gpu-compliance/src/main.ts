import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signAttestation } from './attestation.js';
import { startGpuCompliancePlugin } from './server.js';

// Serves the plugin:
//   GPU_ATTESTATION_PUBLIC_KEY_FILE=/etc/gpu-attestation/ed25519.pub npx tsx examples/gpu-compliance/src/main.ts
//   PLUGIN_HOST (127.0.0.1), PLUGIN_PORT (8081), GPU_RESOURCES (nvidia.com/gpu, comma-separated),
//   GPU_ATTESTED_NODE_LABEL (schedmesh.io/gpu-attested), GPU_ATTESTATION_KEY_RELOAD_SECONDS (10: how often the key file is re-read)
// Signs an attestation (prints the annotation value):
//   GPU_ATTESTATION_PRIVATE_KEY_FILE=ed25519.pem npx tsx examples/gpu-compliance/src/main.ts sign <namespace> <serviceAccount> <ttl-seconds>
const env = process.env;

function fail(message: string): never {
  process.stderr.write(`gpu-compliance: ${message}\n`);
  process.exit(1);
}

function signCommand(args: string[]): void {
  const [namespace, serviceAccount, ttl] = args;
  const keyFile = env.GPU_ATTESTATION_PRIVATE_KEY_FILE;
  if (!namespace || !serviceAccount || !ttl || !/^[1-9][0-9]*$/.test(ttl) || !keyFile) {
    fail('usage: GPU_ATTESTATION_PRIVATE_KEY_FILE=key.pem main.ts sign <namespace> <serviceAccount> <ttl-seconds>');
  }
  const expires = Math.floor(Date.now() / 1000) + Number(ttl);
  process.stdout.write(`${signAttestation(createPrivateKey(readFileSync(keyFile)), { namespace, serviceAccount }, expires)}\n`);
}

async function serve(): Promise<void> {
  const publicKeyFile = env.GPU_ATTESTATION_PUBLIC_KEY_FILE ?? fail('GPU_ATTESTATION_PUBLIC_KEY_FILE is not set');
  const reloadSeconds = env.GPU_ATTESTATION_KEY_RELOAD_SECONDS ?? '10';
  if (!/^[1-9][0-9]{0,5}$/.test(reloadSeconds)) fail(`GPU_ATTESTATION_KEY_RELOAD_SECONDS must be a whole number of seconds (1–999999), got ${JSON.stringify(reloadSeconds)}`);
  const plugin = await startGpuCompliancePlugin({
    publicKeyFile,
    keyReloadIntervalMs: Number(reloadSeconds) * 1000,
    // One JSON line per key change or failed re-read: the file path and counts, never key material.
    onKeyFileEvent: (event) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: event.event === 'keys_reloaded' ? 'info' : 'error', ...event })}\n`),
    host: env.PLUGIN_HOST ?? '127.0.0.1',
    port: Number(env.PLUGIN_PORT ?? 8081),
    ...(env.GPU_RESOURCES ? { gpuResources: env.GPU_RESOURCES.split(',').map((r) => r.trim()).filter(Boolean) } : {}),
    ...(env.GPU_ATTESTED_NODE_LABEL ? { attestedNodeLabel: env.GPU_ATTESTED_NODE_LABEL } : {}),
  });
  process.stdout.write(`gpu-compliance plugin listening on ${plugin.url}; gateway plugins:\n${JSON.stringify(plugin.gatewayPlugins, null, 2)}\n`);
  const stop = (): void => void plugin.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[2] === 'sign') signCommand(process.argv.slice(3));
else serve().catch((err: unknown) => fail((err as Error).message));
