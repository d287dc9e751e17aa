import { createHmac, generateKeyPairSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, test } from '@jest/globals';
import { SignJWT } from 'jose';
import { verifyBearerJwt, verifyHmacSignature } from './verify.js';

describe('verifyHmacSignature', () => {
  const key = 'k'.repeat(32);
  const now = 1_700_000_000_000;
  const body = Buffer.from('{"apiVersion":"schedmesh.io/plugin/v1","requestId":"r1"}');
  // Signed exactly as the README documents: hex HMAC-SHA256(key, timestamp + "." + body).
  const sign = (timestamp: number, signedBody: Buffer = body, signingKey = key): string =>
    `v1=${createHmac('sha256', signingKey).update(`${timestamp}.`).update(signedBody).digest('hex')}`;
  const headers = (timestamp: number, signature = sign(timestamp), keyId = 'k-1'): IncomingHttpHeaders => ({
    'x-schedmesh-timestamp': String(timestamp),
    'x-schedmesh-signature': signature,
    'x-schedmesh-key-id': keyId,
  });
  const t = now / 1000;
  const options = { keys: { 'k-1': key }, windowSeconds: 300, now: () => now };

  test.each<[string, IncomingHttpHeaders, Buffer, string | undefined]>([
    ['a fresh, intact request', headers(t), body, undefined],
    ['one signed 299 s ago (inside the window)', headers(t - 299), body, undefined],
    ['one signed 301 s ago (outside the window: a replay)', headers(t - 301), body, 'stale'],
    ['one dated 301 s in the future', headers(t + 301), body, 'stale'],
    ['a tampered body', headers(t), Buffer.from(body.toString().replace('r1', 'r2')), 'bad_signature'],
    ['a timestamp changed after signing (to extend a replay)', headers(t, sign(t - 600)), body, 'bad_signature'],
    ['a signature made with another key', headers(t, sign(t, body, 'x'.repeat(32))), body, 'bad_signature'],
    ['an unknown key id', headers(t, sign(t), 'k-9'), body, 'unknown_key'],
    ['a key id inherited from Object.prototype', headers(t, sign(t), 'constructor'), body, 'unknown_key'],
    ['no signature', { 'x-schedmesh-timestamp': String(t), 'x-schedmesh-key-id': 'k-1' }, body, 'missing'],
    ['a signature of another version', headers(t, sign(t).replace('v1=', 'v2=')), body, 'malformed'],
    ['a timestamp that is not unix seconds', { ...headers(t), 'x-schedmesh-timestamp': '2024-01-01T00:00:00Z' }, body, 'malformed'],
  ])('%s', (_what, requestHeaders, requestBody, refusal) => {
    const result = verifyHmacSignature(requestHeaders, requestBody, options);
    if (refusal === undefined) expect(result).toEqual({ ok: true, subject: 'k-1' });
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
