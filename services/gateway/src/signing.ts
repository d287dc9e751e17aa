import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { PluginCallError } from './failures.js';
import type { ResolvedHmac, ResolvedJwt } from './plugin-config.js';
import { Secret } from './secret.js';

/**
 * Request authentication towards plugins: a JWT as `Authorization: Bearer`
 * and an HMAC signature of the body. Both are computed per attempt, so a
 * retried request carries a fresh timestamp.
 *
 * HMAC format v1 (documented in the README for plugin authors):
 *   X-Schedmesh-Timestamp: <unix seconds>
 *   X-Schedmesh-Key-Id:    <keyId from the configuration>
 *   X-Schedmesh-Signature: v1=<lower-case hex HMAC-SHA256(key, timestamp + "." + raw body)>
 * A verifier recomputes it over the raw body bytes, compares in constant
 * time, and refuses timestamps outside its replay window (300 s by default).
 */
export const HMAC_HEADERS = {
  timestamp: 'x-schedmesh-timestamp',
  signature: 'x-schedmesh-signature',
  keyId: 'x-schedmesh-key-id',
} as const;

/** The v1 signature of a body at a timestamp: lower-case hex HMAC-SHA256(key, `${timestamp}.${body}`). */
export function hmacSignatureV1(key: Buffer, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', key).update(`${timestamp}.`).update(body).digest('hex');
}

/** Signs requests for one plugin; holds a JWT until it is close to expiry. */
export class RequestSigner {
  readonly #jwt: ResolvedJwt | undefined;
  readonly #hmac: ResolvedHmac | undefined;
  #token: { value: string; refreshAt: number } | undefined;

  constructor(options: { jwt?: ResolvedJwt; hmac?: ResolvedHmac }) {
    this.#jwt = options.jwt;
    this.#hmac = options.hmac;
  }

  /** Adds the authentication headers for `body` to `headers`. `nowMs` is wall-clock time. */
  async sign(headers: Record<string, string>, body: string, nowMs: number = Date.now()): Promise<void> {
    if (this.#jwt) headers.authorization = `Bearer ${await this.#bearer(this.#jwt, nowMs)}`;
    if (this.#hmac) {
      const timestamp = Math.floor(nowMs / 1000);
      headers[HMAC_HEADERS.timestamp] = String(timestamp);
      headers[HMAC_HEADERS.keyId] = this.#hmac.keyId;
      headers[HMAC_HEADERS.signature] = `v1=${hmacSignatureV1(this.#hmac.secret.reveal(), timestamp, body)}`;
    }
  }

  async #bearer(jwt: ResolvedJwt, nowMs: number): Promise<string> {
    if (this.#token && nowMs < this.#token.refreshAt) return this.#token.value;
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + Math.floor(jwt.ttlMs / 1000);
    try {
      const value = await new SignJWT({})
        .setProtectedHeader({ alg: jwt.algorithm, typ: 'JWT', ...(jwt.keyId ? { kid: jwt.keyId } : {}) })
        .setIssuer(jwt.issuer)
        .setAudience(jwt.audience)
        .setSubject('schedmesh-gateway')
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setJti(randomUUID())
        .sign(jwt.key instanceof Secret ? jwt.key.reveal() : jwt.key);
      // Renew with a quarter of the lifetime left, so a token never expires in flight.
      this.#token = { value, refreshAt: nowMs + (jwt.ttlMs * 3) / 4 };
      return value;
    } catch (err) {
      throw new PluginCallError('internal', `cannot sign a JWT: ${(err as Error).message}`, { cause: err });
    }
  }
}
