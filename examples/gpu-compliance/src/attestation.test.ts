import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { ed25519PublicKey, ed25519PublicKeys, signAttestation, verifyAttestation } from './attestation.js';

const platform = generateKeyPairSync('ed25519');
const intruder = generateKeyPairSync('ed25519');
const now = 1_800_000_000;
const subject = { namespace: 'ml', serviceAccount: 'trainer' };
const valid = signAttestation(platform.privateKey, subject, now + 3600);

describe('verifyAttestation', () => {
  test('a signature by the platform key, for this namespace and service account, before expiry, is valid', () => {
    expect(verifyAttestation(valid, subject, platform.publicKey, now)).toEqual({ valid: true, expires: now + 3600 });
  });

  test('an empty service account is "default", as Kubernetes has it', () => {
    const value = signAttestation(platform.privateKey, { namespace: 'ml', serviceAccount: 'default' }, now + 60);
    expect(verifyAttestation(value, { namespace: 'ml', serviceAccount: '' }, platform.publicKey, now).valid).toBe(true);
  });

  const [, expires, signature] = valid.split('.') as [string, string, string];
  test.each<[string, string, { namespace: string; serviceAccount: string }, RegExp]>([
    ['another namespace', valid, { namespace: 'web', serviceAccount: 'trainer' }, /does not verify for service account web\/trainer/],
    ['another service account', valid, { namespace: 'ml', serviceAccount: 'default' }, /does not verify for service account ml\/default/],
    ['a signature by another key', signAttestation(intruder.privateKey, subject, now + 3600), subject, /does not verify/],
    ['a later expiry than was signed', `v1.${Number(expires) + 86_400}.${signature}`, subject, /does not verify/],
    ['an expired attestation', signAttestation(platform.privateKey, subject, now), subject, /expired at 2027-01-15T08:00:00.000Z/],
    ['another version', `v2.${expires}.${signature}`, subject, /not "v1.<expires>.<signature>"/],
    ['a missing part', `v1.${signature}`, subject, /not "v1.<expires>.<signature>"/],
    ['an expiry that is not a number', `v1.soon.${signature}`, subject, /expiry is not unix seconds/],
    ['a truncated signature', `v1.${expires}.${signature.slice(0, 40)}`, subject, /not a base64url Ed25519 signature/],
    ['a signature that is not base64url', `v1.${expires}.${'!'.repeat(86)}`, subject, /not a base64url Ed25519 signature/],
    ['an empty value', '', subject, /not "v1.<expires>.<signature>"/],
  ])('%s is refused with the reason', (_what, value, who, problem) => {
    const check = verifyAttestation(value, who, platform.publicKey, now);
    expect(check.valid).toBe(false);
    expect(!check.valid && check.problem).toMatch(problem);
  });
});

test('only an Ed25519 public key is accepted', () => {
  expect(ed25519PublicKey(platform.publicKey.export({ type: 'spki', format: 'pem' })).asymmetricKeyType).toBe('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
  expect(() => ed25519PublicKey(rsa)).toThrow('the attestation key must be an Ed25519 public key, got rsa');
});

test('signing refuses an expiry that is not unix seconds', () => {
  expect(() => signAttestation(platform.privateKey, subject, 1.5)).toThrow(RangeError);
});

describe('key rotation: a file with several public keys', () => {
  const pem = (key: typeof platform.publicKey): string => key.export({ type: 'spki', format: 'pem' }) as string;
  const next = generateKeyPairSync('ed25519');

  test('an attestation signed by any key of the file verifies; one by a key not in it does not', () => {
    const keys = ed25519PublicKeys(`${pem(next.publicKey)}${pem(platform.publicKey)}`);
    expect(keys).toHaveLength(2);
    expect(verifyAttestation(valid, subject, keys, now).valid).toBe(true);
    expect(verifyAttestation(signAttestation(next.privateKey, subject, now + 60), subject, keys, now).valid).toBe(true);
    expect(verifyAttestation(signAttestation(intruder.privateKey, subject, now + 60), subject, keys, now)).toMatchObject({ valid: false, problem: expect.stringMatching(/does not verify/) });
  });

  test('a file without a public key, or with a key of another kind, is refused', () => {
    expect(() => ed25519PublicKeys('not a key')).toThrow('the attestation key file holds no PEM public key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(() => ed25519PublicKeys(`${pem(platform.publicKey)}${rsa}`)).toThrow('got rsa');
  });
});
