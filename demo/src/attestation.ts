// The demo plays the platform's signing service of examples/gpu-compliance:
// a throw-away Ed25519 key pair in the run directory (removed with it), the
// public key for the plugin, the private key to attest the sample's GPU
// workloads (and for you, with the example's `sign` command, while the mesh runs).
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { signAttestation } from '@schedmesh/gpu-compliance-example';
import type { AttestationSubject } from '@schedmesh/gpu-compliance-example';

/** How long the demo's attestations are valid: longer than any run. */
const ATTESTATION_TTL_SECONDS = 24 * 60 * 60;

/** Signs GPU attestations for the sample; its public key verifies them. */
export interface DemoAttestation {
  readonly publicKeyFile: string;
  readonly privateKeyFile: string;
  /** The `schedmesh.io/gpu-attestation` annotation value for a workload's namespace and service account. */
  readonly sign: (subject: AttestationSubject) => string;
}

/** Generates the key pair into `dir` (the private key readable by its owner only). */
export function createDemoAttestation(dir: string): DemoAttestation {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyFile = join(dir, 'gpu-attestation.pub');
  const privateKeyFile = join(dir, 'gpu-attestation.pem');
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return {
    publicKeyFile,
    privateKeyFile,
    sign: (subject) => signAttestation(privateKey, subject, Math.floor(Date.now() / 1000) + ATTESTATION_TTL_SECONDS),
  };
}
