import { createHmac, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { errors as joseErrors, jwtVerify } from 'jose';

/**
 * How a plugin checks that a request comes from the schedmesh gateway.
 * Written against the documented formats only (services/gateway/README.md),
 * as a plugin author would: nothing here is shared with the gateway's code.
 */

/** Why a request was refused. */
export type RefusalReason = 'missing' | 'malformed' | 'unknown_key' | 'stale' | 'bad_signature' | 'bad_token';

/** The outcome of a check. */
export type Verification = { readonly ok: true; readonly subject: string } | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };

/** Options of {@link verifyHmacSignature}. */
export interface HmacVerifierOptions {
  /** Shared keys by key id (X-Schedmesh-Key-Id); several during a rotation. */
  keys: Readonly<Record<string, Buffer | string>>;
  /** Largest accepted distance between the request's timestamp and now, in seconds (default 300). */
  windowSeconds?: number;
  /** Now, in ms (tests). */
  now?: () => number;
}

const refuse = (reason: RefusalReason, message: string): Verification => ({ ok: false, reason, message });

/** What the signature covers of a request besides its body (an IncomingMessage has all three). */
export interface SignedRequestHead {
  readonly method?: string | undefined;
  /** The request target as received: path and query. */
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Verifies the v2 HMAC signature of a request:
 *   X-Schedmesh-Signature: v2=<hex HMAC-SHA256(key, string-to-sign)>
 *   string-to-sign = "v2\n" + method + "\n" + path and query + "\n" + key id + "\n" + timestamp + "\n" + raw body
 * over the raw body bytes as received. The method, the path and the key id
 * are signed, so a captured request cannot be replayed to another route or
 * under another key. A timestamp further than the window from now (either
 * way) is refused as stale: a captured request cannot be replayed after the
 * window, and a signature cannot be made to last by dating it in the future.
 * Within the window a plugin that must act at most once per request
 * de-duplicates on the body's requestId.
 */
export function verifyHmacSignature(request: SignedRequestHead, rawBody: Buffer, options: HmacVerifierOptions): Verification {
  const { headers } = request;
  const timestampText = single(headers['x-schedmesh-timestamp']);
  const signature = single(headers['x-schedmesh-signature']);
  const keyId = single(headers['x-schedmesh-key-id']);
  if (!timestampText || !signature || !keyId) return refuse('missing', 'X-Schedmesh-Timestamp, X-Schedmesh-Signature and X-Schedmesh-Key-Id are required');
  if (!/^\d{1,12}$/.test(timestampText)) return refuse('malformed', 'X-Schedmesh-Timestamp must be unix seconds');
  const match = /^v2=([0-9a-f]{64})$/.exec(signature);
  if (!match) return refuse('malformed', 'X-Schedmesh-Signature must be v2=<64 hex digits>');
  if (!request.method || !request.url) return refuse('malformed', 'the request has no method or target to verify');
  const key = Object.hasOwn(options.keys, keyId) ? options.keys[keyId] : undefined;
  if (key === undefined) return refuse('unknown_key', `unknown key id ${JSON.stringify(keyId)}`);

  const timestamp = Number(timestampText);
  const nowSeconds = Math.floor((options.now?.() ?? Date.now()) / 1000);
  const window = options.windowSeconds ?? 300;
  if (Math.abs(nowSeconds - timestamp) > window) {
    return refuse('stale', `timestamp ${timestamp} is ${nowSeconds - timestamp} s from now, outside the ${window} s replay window`);
  }
  const signed = `v2\n${request.method}\n${request.url}\n${keyId}\n${timestampText}\n`;
  const expected = createHmac('sha256', key).update(signed).update(rawBody).digest();
  const given = Buffer.from(match[1]!, 'hex');
  if (!timingSafeEqual(expected, given)) return refuse('bad_signature', 'the signature does not match the method, path, key id, timestamp and body');
  return { ok: true, subject: keyId };
}

/** Options of {@link verifyBearerJwt}. */
export interface JwtVerifierOptions {
  algorithm: 'HS256' | 'RS256';
  /** HS256: the shared secret; RS256: the gateway's public key. */
  key: Uint8Array | KeyObject;
  /** Expected `iss` (the gateway's default is "schedmesh-gateway"). */
  issuer: string;
  /** Expected `aud` (the gateway's default is the plugin name). */
  audience: string;
}

/** Verifies `Authorization: Bearer <JWT>`: signature, algorithm, issuer, audience, expiry. */
export async function verifyBearerJwt(authorization: string | undefined, options: JwtVerifierOptions): Promise<Verification> {
  const match = authorization ? /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization) : null;
  if (!match) return refuse('missing', 'Authorization: Bearer <token> is required');
  try {
    const { payload } = await jwtVerify(match[1]!, options.key, {
      algorithms: [options.algorithm],
      issuer: options.issuer,
      audience: options.audience,
      requiredClaims: ['exp', 'iat'],
      clockTolerance: 30,
    });
    return { ok: true, subject: payload.sub ?? '' };
  } catch (err) {
    const detail = err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : (err as Error).message;
    return refuse('bad_token', detail);
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
