import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { SignJWT } from 'jose';
import { verifyBearerJwt, verifyHmacSignature } from './verify.js';
import type { SignedRequestHead } from './verify.js';

describe('verifyHmacSignature', () => {
  const key = 'k'.repeat(32);
  const now = 1_700_000_000_000;
  const body = Buffer.from('{"apiVersion":"schedmesh.io/plugin/v1","requestId":"r1"}');
  interface Signed {
    timestamp?: number;
    method?: string;
    url?: string;
    keyId?: string;
    signedBody?: Buffer;
    signingKey?: string;
  }
  const t = now / 1000;
  // Signed exactly as the gateway README documents the v2 string-to-sign.
  const sign = ({ timestamp = t, method = 'POST', url = '/filter?v=1', keyId = 'k-1', signedBody = body, signingKey = key }: Signed = {}): string =>
    `v2=${createHmac('sha256', signingKey).update(`v2\n${method}\n${url}\n${keyId}\n${timestamp}\n`).update(signedBody).digest('hex')}`;
  const request = (signature = sign(), { timestamp = t, method = 'POST', url = '/filter?v=1', keyId = 'k-1' }: Signed = {}): SignedRequestHead => ({
    method,
    url,
    headers: { 'x-schedmesh-timestamp': String(timestamp), 'x-schedmesh-signature': signature, 'x-schedmesh-key-id': keyId },
  });
  const options = { keys: { 'k-1': key, 'k-2': key }, windowSeconds: 300, now: () => now };

  test.each<[string, SignedRequestHead, Buffer, string | undefined]>([
    ['a fresh, intact request', request(), body, undefined],
    ['one signed 299 s ago (inside the window)', request(sign({ timestamp: t - 299 }), { timestamp: t - 299 }), body, undefined],
    ['one signed 301 s ago (outside the window: a replay)', request(sign({ timestamp: t - 301 }), { timestamp: t - 301 }), body, 'stale'],
    ['one dated 301 s in the future', request(sign({ timestamp: t + 301 }), { timestamp: t + 301 }), body, 'stale'],
    ['a tampered body', request(), Buffer.from(body.toString().replace('r1', 'r2')), 'bad_signature'],
    ['a timestamp changed after signing (to extend a replay)', request(sign({ timestamp: t - 600 })), body, 'bad_signature'],
    ['a signature made with another key', request(sign({ signingKey: 'x'.repeat(32) })), body, 'bad_signature'],
    // Review M6: what v1 left unsigned.
    ['a request replayed to another path', request(sign(), { url: '/bind?v=1' }), body, 'bad_signature'],
    ['a request replayed with another query', request(sign(), { url: '/filter?v=2' }), body, 'bad_signature'],
    ['a request replayed with another method', request(sign(), { method: 'PUT' }), body, 'bad_signature'],
    ['a signature presented under another key id that shares the key', request(sign(), { keyId: 'k-2' }), body, 'bad_signature'],
    ['an unknown key id', request(sign({ keyId: 'k-9' }), { keyId: 'k-9' }), body, 'unknown_key'],
    ['a key id inherited from Object.prototype', request(sign({ keyId: 'constructor' }), { keyId: 'constructor' }), body, 'unknown_key'],
    ['no signature', { method: 'POST', url: '/filter?v=1', headers: { 'x-schedmesh-timestamp': String(t), 'x-schedmesh-key-id': 'k-1' } }, body, 'missing'],
    ['a v1 signature (timestamp and body only)', request(`v1=${createHmac('sha256', key).update(`${t}.`).update(body).digest('hex')}`), body, 'malformed'],
    ['a timestamp that is not unix seconds', { ...request(), headers: { ...request().headers, 'x-schedmesh-timestamp': '2024-01-01T00:00:00Z' } }, body, 'malformed'],
  ])('%s', (_what, head, requestBody, refusal) => {
    const result = verifyHmacSignature(head, requestBody, options);
    if (refusal === undefined) expect(result).toEqual({ ok: true, subject: head.headers['x-schedmesh-key-id'] });
    else expect(result).toMatchObject({ ok: false, reason: refusal });
  });
});

describe('verifyBearerJwt', () => {
  const secret = new TextEncoder().encode('s'.repeat(32));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const expected = { issuer: 'schedmesh-gateway', audience: 'cost' };
  const token = (claims: { iss?: string; aud?: string; expIn?: number } = {}, key: Uint8Array | typeof rsa.privateKey = secret, alg = 'HS256'): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg })
      .setIssuer(claims.iss ?? expected.issuer)
      .setAudience(claims.aud ?? expected.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + (claims.expIn ?? 60))
      .sign(key);
  };

  test('a valid HS256 token is accepted', async () => {
    await expect(verifyBearerJwt(`Bearer ${await token()}`, { algorithm: 'HS256', key: secret, ...expected })).resolves.toMatchObject({ ok: true });
  });

  test('a valid RS256 token is accepted with the public key', async () => {
    const t = await token({}, rsa.privateKey, 'RS256');
    await expect(verifyBearerJwt(`Bearer ${t}`, { algorithm: 'RS256', key: rsa.publicKey, ...expected })).resolves.toMatchObject({ ok: true });
  });

  test.each<[string, () => Promise<string | undefined>]>([
    ['that is missing', async () => undefined],
    ['that has expired', async () => `Bearer ${await token({ expIn: -120 })}`],
    ['meant for another audience', async () => `Bearer ${await token({ aud: 'billing' })}`],
    ['from another issuer', async () => `Bearer ${await token({ iss: 'someone-else' })}`],
    ['signed with another secret', async () => `Bearer ${await token({}, new TextEncoder().encode('t'.repeat(32)))}`],
  ])('a token %s is refused', async (_what, header) => {
    const result = await verifyBearerJwt(await header(), { algorithm: 'HS256', key: secret, ...expected });
    expect(result.ok).toBe(false);
  });

  test('an HS256 token is refused where RS256 is expected (no algorithm confusion)', async () => {
    const result = await verifyBearerJwt(`Bearer ${await token()}`, { algorithm: 'RS256', key: rsa.publicKey, ...expected });
    expect(result).toMatchObject({ ok: false, reason: 'bad_token' });
  });
});
