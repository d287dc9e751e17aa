import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Code } from '@schedmesh/proto/v1/types';
import { createLogger } from '@schedmesh/runtime';
import { makeTestPki } from '@schedmesh/testkit';
import type { TestPki } from '@schedmesh/testkit';
import { startExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { ExamplePlugin, ExamplePluginOptions } from '@schedmesh/rest-plugin-example';
import type { Gateway } from './gateway.js';
import { makeNodes, makePod, newGateway, pluginsYaml, testPolicy } from './testing/builders.js';

let dir: string;
let pki: TestPki;
let rogue: TestPki;
const hmacKey = randomBytes(32).toString('hex');
const jwtSecret = randomBytes(32).toString('base64');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-secrets-'));
  pki = makeTestPki();
  rogue = makeTestPki('rogue-ca');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  pki.remove();
  rogue.remove();
});

const running: { plugins: ExamplePlugin[]; gateways: Gateway[] } = { plugins: [], gateways: [] };
afterEach(async () => {
  await Promise.all(running.gateways.splice(0).map((g) => g.close()));
  await Promise.all(running.plugins.splice(0).map((p) => p.close()));
});
async function plugin(options: ExamplePluginOptions): Promise<ExamplePlugin> {
  const p = await startExamplePlugin(options);
  running.plugins.push(p);
  return p;
}
// Secret files live in a temporary directory; the example plugin speaks http unless a test gives it TLS (development mode for credentials).
async function gateway(definition: Record<string, unknown>, options: Parameters<typeof newGateway>[1] = {}): Promise<Gateway> {
  const policy = testPolicy([dir, pki.dir, rogue.dir], { insecureCredentialsOverHttp: true });
  const { gateway: g } = await newGateway(pluginsYaml([{ name: 'cost', extensionPoints: ['filter'], failurePolicy: 'Fail', ...definition }]), { policy, ...options });
  running.gateways.push(g);
  return g;
}
const filter = (g: Gateway): ReturnType<Gateway['invoke']> => g.invoke({ point: 'filter', pod: makePod(), nodes: makeNodes(2), plugins: [] }, new AbortController().signal);

describe('mTLS', () => {
  const mtlsPlugin = (): Promise<ExamplePlugin> => plugin({ tls: { certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert } });

  test('a client certificate from the CA the plugin trusts is accepted', async () => {
    const p = await mtlsPlugin();
    expect(p.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const g = await gateway({ endpoint: p.url, auth: { mtls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey } } });
    const result = await filter(g);
    expect(result.code).toBe(Code.CODE_SUCCESS);
    expect(p.requests).toHaveLength(1);
  });

  test('a client certificate from another CA is refused by the plugin', async () => {
    const p = await mtlsPlugin();
    const g = await gateway({ endpoint: p.url, auth: { mtls: { caFile: pki.caCert, certFile: rogue.clientCert, keyFile: rogue.clientKey } } });
    const result = await filter(g);
    expect(result.code).toBe(Code.CODE_ERROR);
    expect(result.results[0]!.failure?.kind).toBe('network');
    expect(p.requests).toHaveLength(0);
  });

  test('a plugin whose server certificate is not from caFile is refused by the gateway', async () => {
    const p = await mtlsPlugin();
    const g = await gateway({ endpoint: p.url, auth: { mtls: { caFile: rogue.caCert, certFile: pki.clientCert, keyFile: pki.clientKey } } });
    const result = await filter(g);
    expect(result.results[0]!.failure).toMatchObject({ kind: 'network', message: expect.stringMatching(/certificate/i) });
    expect(p.requests).toHaveLength(0);
  });
});

describe('JWT', () => {
  const tokens = (p: ExamplePlugin): string[] => p.requests.map((r) => r.headers.authorization!.replace('Bearer ', ''));

  // Review M6: a token reused for ¾ of its lifetime could be replayed with any body meanwhile; each request now has its own jti.
  test('HS256: the plugin verifies the bearer token; every request gets a token of its own (its own jti)', async () => {
    const p = await plugin({ jwt: { algorithm: 'HS256', key: Buffer.from(jwtSecret), issuer: 'schedmesh-gateway', audience: 'cost' } });
    const g = await gateway({ endpoint: p.url, auth: { jwt: { algorithm: 'HS256', secretFile: file('jwt.key', `${jwtSecret}\n`), ttl: '2m', keyId: 'k-2024' } } });
    expect((await filter(g)).code).toBe(Code.CODE_SUCCESS);
    expect((await filter(g)).code).toBe(Code.CODE_SUCCESS);
    const [first, second] = tokens(p);
    expect(second).not.toBe(first);
    expect(decodeJwt(second!).jti).not.toBe(decodeJwt(first!).jti);
    expect(decodeProtectedHeader(first!)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k-2024' });
    const claims = decodeJwt(first!);
    expect(claims).toMatchObject({ iss: 'schedmesh-gateway', aud: 'cost', sub: 'schedmesh-gateway', jti: expect.any(String) });
    expect(claims.exp! - claims.iat!).toBe(120);
  });

  test('RS256: signed with the private key file, verified with the public key; held until close to expiry (signing is costly)', async () => {
    const p = await plugin({ jwt: { algorithm: 'RS256', key: rsa.publicKey, issuer: 'mesh-prod', audience: 'billing' } });
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const g = await gateway({ endpoint: p.url, auth: { jwt: { algorithm: 'RS256', privateKeyFile: file('rsa.pem', pem), issuer: 'mesh-prod', audience: 'billing' } } });
    expect((await filter(g)).code).toBe(Code.CODE_SUCCESS);
    expect((await filter(g)).code).toBe(Code.CODE_SUCCESS);
    const [first, second] = tokens(p);
    expect(second).toBe(first);
  });

  test('a token signed with another secret is refused by the plugin (HTTP 401)', async () => {
    const p = await plugin({ jwt: { algorithm: 'HS256', key: Buffer.from(jwtSecret), issuer: 'schedmesh-gateway', audience: 'cost' } });
    const g = await gateway({ endpoint: p.url, auth: { jwt: { algorithm: 'HS256', secretEnv: 'OTHER_JWT_SECRET' } } }, { secrets: { env: { OTHER_JWT_SECRET: randomBytes(32).toString('hex') } } });
    const result = await filter(g);
    expect(result.results[0]!.failure).toMatchObject({ kind: 'http_status', message: expect.stringContaining('HTTP 401') });
    expect(p.refused).toEqual([{ status: 401, reason: 'bad_token' }]);
  });
});

describe('HMAC request signing', () => {
  test('the plugin verifies the v2 signature of method, path and query, key id, timestamp and body', async () => {
    const p = await plugin({ hmac: { keys: { 'k-1': hmacKey } } });
    const g = await gateway({ endpoint: new URL('/hooks/filter?tier=gold', p.url).href, auth: { hmac: { secretFile: file('hmac.key', hmacKey), keyId: 'k-1' } } });
    expect((await filter(g)).code).toBe(Code.CODE_SUCCESS);
    const { headers } = p.requests[0]!;
    expect(headers['x-schedmesh-key-id']).toBe('k-1');
    expect(headers['x-schedmesh-signature']).toMatch(/^v2=[0-9a-f]{64}$/);
    expect(Math.abs(Number(headers['x-schedmesh-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
  });

  test('a request signed with another key is refused (bad_signature)', async () => {
    const p = await plugin({ hmac: { keys: { 'k-1': hmacKey } } });
    const g = await gateway({ endpoint: p.url, auth: { hmac: { secretEnv: 'HMAC_KEY', keyId: 'k-1' } } }, { secrets: { env: { HMAC_KEY: randomBytes(32).toString('hex') } } });
    expect((await filter(g)).results[0]!.failure?.kind).toBe('http_status');
    expect(p.refused).toEqual([{ status: 401, reason: 'bad_signature' }]);
  });

  test('HMAC and JWT together, over mTLS', async () => {
    const p = await plugin({
      tls: { certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert },
      hmac: { keys: { 'k-1': hmacKey } },
      jwt: { algorithm: 'HS256', key: Buffer.from(jwtSecret), issuer: 'schedmesh-gateway', audience: 'cost' },
    });
    const g = await gateway({
      endpoint: p.url,
      auth: {
        mtls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey },
        jwt: { algorithm: 'HS256', secretFile: file('jwt2.key', jwtSecret) },
        hmac: { secretFile: file('hmac2.key', hmacKey), keyId: 'k-1' },
      },
    });
    expect((await filter(g)).code).toBe(Code.CODE_SUCCESS);
  });
});

test('secrets never reach a log line, even when calls fail and a reload is refused', async () => {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ service: 'gateway-test', level: 'trace', destination });
  const p = await plugin({ hmac: { keys: { 'k-1': 'x'.repeat(32) } } });
  const g = await gateway(
    { endpoint: p.url, auth: { hmac: { secretFile: file('hmac3.key', hmacKey), keyId: 'k-1' }, jwt: { algorithm: 'HS256', secretFile: file('jwt3.key', jwtSecret) } } },
    { logger },
  );
  expect((await filter(g)).code).toBe(Code.CODE_ERROR);
  await expect(g.reload('plugins:\n- name: cost\n  type: rest\n  endpoint: http://127.0.0.1:1/\n  extensionPoints: [filter]\n  auth:\n    hmac: {secret: hunter2hunter2, keyId: k}\n')).rejects.toThrow(
    /plugins\[0\]\.auth\.hmac\.secret: secrets are never written in the configuration/,
  );
  const text = chunks.join('');
  expect(text).toContain('plugin call failed');
  expect(text).toContain('plugin configuration rejected');
  for (const secret of [hmacKey, jwtSecret, 'hunter2hunter2']) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/Bearer /);
});

describe('plugin error pages', () => {
  function capturedLogger(): { logger: ReturnType<typeof createLogger>; text: () => string } {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    return { logger: createLogger({ service: 'gateway-test', level: 'debug', destination }), text: () => chunks.join('') };
  }

  test.each([
    ['a 500 page', { status: 500, raw: 'db password=hunter2 at 10.0.0.7:5432' }, 'http_status', 'HTTP 500'],
    ['a 200 that is not JSON', { raw: 'token: hunter2 from 10.0.0.7:5432' }, 'bad_response', 'the response is not JSON'],
  ])('%s reaches the caller as a reason code, and the log redacted', async (_what, answer, kind, reason) => {
    const p = await plugin({ decide: () => answer });
    const log = capturedLogger();
    const g = await gateway({ endpoint: p.url }, { logger: log.logger });
    const result = await filter(g);
    expect(result.results[0]!.failure?.kind).toBe(kind);
    expect(result.reasons).toEqual([`plugin call failed (${kind}): ${reason}`]);
    expect(JSON.stringify(result.results.map((r) => r.reasons))).not.toMatch(/hunter2|10\.0\.0\.7/);
    expect(log.text()).toContain('10.0.0.7:5432');
    expect(log.text()).toContain('[redacted]');
    expect(log.text()).not.toContain('hunter2');
  });

  test('a refused connection tells the caller its code, not the address', async () => {
    const g = await gateway({ endpoint: 'http://127.0.0.1:1/' });
    const result = await filter(g);
    expect(result.reasons).toEqual(['plugin call failed (network): the connection to the plugin failed (ECONNREFUSED)']);
  });
});
