/**
 * The GPU compliance example plugin as a library
 * (@schedmesh/gpu-compliance-example): start it in-process, sign attestations
 * for tests and demos. main.ts runs it as a process.
 */
export { ATTESTATION_ANNOTATION, attestationMessage, ed25519PublicKey, ed25519PublicKeys, signAttestation, verifyAttestation } from './attestation.js';
export type { AttestationCheck, AttestationSubject } from './attestation.js';
export { DEFAULT_KEY_RELOAD_INTERVAL_MS } from './key-file.js';
export type { KeyFileEvent } from './key-file.js';
export { MISSING_ATTESTATION } from './rules.js';
export { DEFAULT_ATTESTED_NODE_LABEL, DEFAULT_GPU_RESOURCES, startGpuCompliancePlugin } from './server.js';
export type { GatewayPluginDefinition, GpuCompliancePlugin, GpuCompliancePluginOptions } from './server.js';
