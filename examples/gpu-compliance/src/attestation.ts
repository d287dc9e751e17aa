import { createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/**
 * The GPU attestation: an annotation a platform's signing service puts on a
 * workload's pod template, saying "this workload may use GPUs until then".
 *
 *   schedmesh.io/gpu-attestation: v1.<expires>.<signature>
 *
 * - `expires`: unix seconds; the attestation is invalid from then on.
 * - `signature`: base64url Ed25519 signature over the UTF-8 bytes of
 *   `schedmesh.io/gpu-attestation/v1\n<namespace>\n<serviceAccount>\n<expires>`.
 *
 * Why these fields: the pod's name and uid do not exist when the template is
 * signed (controllers generate names, the API server assigns uids), so what
 * is signed is the workload's identity in Kubernetes — its namespace and
 * service account, the identity RBAC and the gateway's dstack `user` use — and
 * a deadline that bounds what a leaked annotation is worth. The namespace and
 * service account are taken from the pod, never from the annotation, so an
 * attestation copied onto another workload does not verify. The fixed prefix
 * keeps a signature over this message from meaning anything else signed with
 * the same key. The verifier holds only public keys (a mounted Secret; several
 * during a rotation).
 */
export const ATTESTATION_ANNOTATION = 'schedmesh.io/gpu-attestation';

const VERSION = 'v1';

/** Who an attestation is for. */
export interface AttestationSubject {
  namespace: string;
  /** The pod's serviceAccountName; empty means "default", as Kubernetes has it. */
  serviceAccount: string;
}

/** The exact bytes that are signed. */
export function attestationMessage(subject: AttestationSubject, expires: number): Buffer {
  return Buffer.from(`schedmesh.io/gpu-attestation/v1\n${subject.namespace}\n${subject.serviceAccount || 'default'}\n${expires}`, 'utf8');
}

/** Signs an attestation with an Ed25519 private key; returns the annotation value. */
export function signAttestation(privateKey: KeyObject, subject: AttestationSubject, expires: number): string {
  if (!Number.isSafeInteger(expires) || expires <= 0) throw new RangeError(`expires must be unix seconds, got ${expires}`);
  return `${VERSION}.${expires}.${sign(null, attestationMessage(subject, expires), privateKey).toString('base64url')}`;
}

/** The outcome of {@link verifyAttestation}: valid, or why not. */
export type AttestationCheck = { readonly valid: true; readonly expires: number } | { readonly valid: false; readonly problem: string };

const ED25519_SIGNATURE_BYTES = 64;

/**
 * Checks an annotation value for `subject` at `nowSeconds` against the public
 * keys: valid if any of them verifies it (several during a key rotation).
 */
export function verifyAttestation(value: string, subject: AttestationSubject, publicKeys: KeyObject | readonly KeyObject[], nowSeconds: number): AttestationCheck {
  const keys = Array.isArray(publicKeys) ? (publicKeys as readonly KeyObject[]) : [publicKeys as KeyObject];
  const parts = value.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return { valid: false, problem: `the annotation is not "${VERSION}.<expires>.<signature>"` };
  const [, expiresText, signatureText] = parts as [string, string, string];
  if (!/^[1-9][0-9]{0,15}$/.test(expiresText)) return { valid: false, problem: 'its expiry is not unix seconds' };
  const expires = Number(expiresText);
  const signature = Buffer.from(signatureText, 'base64url');
  if (signature.length !== ED25519_SIGNATURE_BYTES || signature.toString('base64url') !== signatureText) {
    return { valid: false, problem: 'its signature is not a base64url Ed25519 signature' };
  }
  const message = attestationMessage(subject, expires);
  if (!keys.some((key) => verify(null, message, key, signature))) {
    return { valid: false, problem: `the signature does not verify for service account ${subject.namespace}/${subject.serviceAccount || 'default'}` };
  }
  if (expires <= nowSeconds) return { valid: false, problem: `it expired at ${new Date(expires * 1000).toISOString()}` };
  return { valid: true, expires };
}

/** Reads an Ed25519 public key (PEM, SPKI); anything else is refused at start-up. */
export function ed25519PublicKey(pem: string | Buffer): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`the attestation key must be an Ed25519 public key, got ${key.asymmetricKeyType ?? 'a secret key'}`);
  return key;
}

const PEM_PUBLIC_KEY = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/**
 * Reads every Ed25519 public key of a PEM file: one, or several while a key
 * is being rotated (the new key added first, the old one removed once every
 * attestation it signed has expired). A file with none is refused.
 */
export function ed25519PublicKeys(pem: string): KeyObject[] {
  const blocks = pem.match(PEM_PUBLIC_KEY) ?? [];
  if (blocks.length === 0) throw new TypeError('the attestation key file holds no PEM public key (-----BEGIN PUBLIC KEY-----)');
  return blocks.map((block) => ed25519PublicKey(block));
}
