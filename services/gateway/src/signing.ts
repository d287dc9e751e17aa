import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { PluginCallError } from './failures.js';
import type { ResolvedHmac, ResolvedJwt } from './plugin-config.js';
import { Secret } from './secret.js';

/**
 * Request authentication towards plugins: a JWT as `Authorization: Bearer`
 * and an HMAC signature of the request. Both are computed per attempt, so a
 * retried request carries a fresh timestamp.
 *
 * HMAC format v2 (documented in the README for plugin authors):
 *   X-Schedmesh-Timestamp: <unix seconds>
 *   X-Schedmesh-Key-Id:    <keyId from the configuration>
 *   X-Schedmesh-Signature: v2=<lower-case hex HMAC-SHA256(key, string-to-sign)>
 *   string-to-sign = "v2\n" + method + "\n" + path and query + "\n" + key id + "\n" + timestamp + "\n" + raw body
 * Method, path and key id are signed so that a captured request cannot be
 * replayed to another route of the plugin or under another key (review M6);
 * none of them can hold a newline, so the fields cannot be shifted into one
 * another. A verifier recomputes it over the raw body bytes, compares in
 * constant time, and refuses timestamps outside its replay window (300 s by default).
 */
export const HMAC_HEADERS = {
  timestamp: 'x-schedmesh-timestamp',
  signature: 'x-schedmesh-signature',
  keyId: 'x-schedmesh-key-id',
} as const;

/** What the v2 signature covers besides the key. */
interface SignedRequest {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly path: string;
  readonly keyId: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly body: string | Buffer;
}

/** The v2 signature of a request: lower-case hex HMAC-SHA256 of its string-to-sign. */
function hmacSignatureV2(key: Buffer, request: SignedRequest): string {
  const { method, path, keyId, timestamp, body } = request;
  return createHmac('sha256', key).update(`v2\n${method}\n${path}\n${keyId}\n${timestamp}\n`).update(body).digest('hex');
}

/** Options of {@link RequestSigner}. */
export interface RequestSignerOptions {
  jwt?: ResolvedJwt;
  hmac?: ResolvedHmac;
  /** The plugin's request target (path and query), which the HMAC signs; every request is a POST. */
  path: string;
}

/**
 * Signs requests for one plugin. An HS256 JWT is made per attempt (its own
 * `jti`: a plugin can refuse a token it has seen); an RS256 one, costlier to
 * sign, is held until a quarter of its lifetime is left.
 */
export class RequestSigner {
  readonly #jwt: ResolvedJwt | undefined;
  readonly #hmac: ResolvedHmac | undefined;
  readonly #path: string;
  #token: { value: string; refreshAt: number } | undefined;

  constructor(options: RequestSignerOptions) {
    this.#jwt = options.jwt;
    this.#hmac = options.hmac;
    this.#path = options.path;
  }

  /** Adds the authentication headers for a POST of `body` to `headers`. `nowMs` is wall-clock time. */
  async sign(headers: Record<string, string>, body: string, nowMs: number = Date.now()): Promise<void> {
    if (this.#jwt) headers.authorization = `Bearer ${await this.#bearer(this.#jwt, nowMs)}`;
    if (this.#hmac) {
      const timestamp = Math.floor(nowMs / 1000);
      const { keyId } = this.#hmac;
      headers[HMAC_HEADERS.timestamp] = String(timestamp);
      headers[HMAC_HEADERS.keyId] = keyId;
      headers[HMAC_HEADERS.signature] = `v2=${hmacSignatureV2(this.#hmac.secret.reveal(), { method: 'POST', path: this.#path, keyId, timestamp, body })}`;
    }
  }

  async #bearer(jwt: ResolvedJwt, nowMs: number): Promise<string> {
    const reusable = jwt.algorithm === 'RS256';
    if (reusable && this.#token && nowMs < this.#token.refreshAt) return this.#token.value;
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
      if (reusable) this.#token = { value, refreshAt: nowMs + (jwt.ttlMs * 3) / 4 };
      return value;
    } catch (err) {
      throw new PluginCallError('internal', `cannot sign a JWT: ${(err as Error).message}`, { cause: err });
    }
  }
}
