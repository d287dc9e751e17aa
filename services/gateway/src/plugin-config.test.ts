import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ConfigError } from '@schedmesh/runtime';
import { PluginConfigError, loadPluginConfig } from './plugin-config.js';
import { pluginsYaml } from './testing/builders.js';

let dir: string;
let hmacFile: string;
let rsaFile: string;
const hmacKey = 'h'.repeat(40);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
  hmacFile = join(dir, 'hmac.key');
  writeFileSync(hmacFile, `${hmacKey}\n`);
  rsaFile = join(dir, 'rsa.pem');
  writeFileSync(rsaFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'ec.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (yaml: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof loadPluginConfig> => loadPluginConfig(yaml, 'plugins.yaml', { env });
const base = { name: 'cost-tracking', endpoint: 'https://plugins.example/cost', extensionPoints: ['filter'] };
function issuesOf(yaml: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    load(yaml, env);
  } catch (err) {
    expect(err).toBeInstanceOf(PluginConfigError);
    expect(err).toBeInstanceOf(ConfigError);
    return (err as PluginConfigError).issues;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('a valid configuration', () => {
  test('the documented example resolves: units normalized, defaults filled, secrets read', () => {
    const yaml = `
plugins:
- name: cost-tracking
  type: rest
  endpoint: https://plugins.example/cost
  extensionPoints: [preFilter, filter, score, preBind]
  timeout: 500ms
  retry: {attempts: 3, backoff: 50ms}
  failurePolicy: Ignore
  cache: {ttl: 30s}
  weight: 2
  auth:
    jwt: {algorithm: RS256, privateKeyFile: ${rsaFile}, issuer: mesh, audience: cost, ttl: 10m}
    hmac: {secretFile: ${hmacFile}, keyId: k-1}
  tenants: [team-a]
- name: quota
  type: rest
  endpoint: http://quota.plugins:8080/v1/check?verbose=1
  extensionPoints: [preFilter]
  auth:
    jwt: {algorithm: HS256, secretEnv: QUOTA_JWT}
`;
    const config = load(yaml, { QUOTA_JWT: 'q'.repeat(32) });
    expect(config.version).toMatch(/^[0-9a-f]{16}$/);
    const [cost, quota] = config.plugins;
    expect(cost).toMatchObject({
      name: 'cost-tracking',
      points: ['preFilter', 'filter', 'score', 'preBind'],
      timeoutMs: 500,
      retry: { attempts: 3, backoffMs: 50 },
      failurePolicy: 'Ignore',
      cache: { ttlMs: 30_000, maxEntries: 1024 },
      weight: 2,
      breaker: { failures: 5, halfOpenAfterMs: 10_000 },
      tenants: ['team-a'],
      jwt: { algorithm: 'RS256', issuer: 'mesh', audience: 'cost', ttlMs: 600_000 },
      hmac: { keyId: 'k-1' },
    });
    expect(cost!.endpoint.href).toBe('https://plugins.example/cost');
    // The trailing newline of the key file is not part of the key.
    expect(cost!.hmac!.secret.reveal().toString()).toBe(hmacKey);
    expect(quota).toMatchObject({ failurePolicy: 'Fail', timeoutMs: 500, retry: { attempts: 1 }, weight: 1, tenants: [], jwt: { algorithm: 'HS256', issuer: 'schedmesh-gateway', audience: 'quota' } });
    expect(quota!.endpoint.search).toBe('?verbose=1');
  });

  test('the source design\'s configuration, verbatim: a duration string, retry as total attempts, the default points', () => {
    const yaml = `
plugins:
- name: cost-tracking
  type: rest
  endpoint: https://internal-api.example.com/dstack-hooks
  timeout: 5000ms
  retry: 3
`;
    const [plugin] = load(yaml).plugins;
    expect(plugin).toMatchObject({
      name: 'cost-tracking',
      protocol: 'schedmesh.io/plugin/v1',
      points: ['preFilter', 'preBind'],
      timeoutMs: 5000,
      retry: { attempts: 3, backoffMs: 50 },
      failurePolicy: 'Fail',
    });
    expect(plugin!.endpoint.href).toBe('https://internal-api.example.com/dstack-hooks');
  });

  test.each([
    ['schedmesh.io/plugin/v1', ['preFilter', 'preBind']],
    ['verdict', ['preFilter']],
    ['operation', ['preBind']],
    ['dstack-apply-policy', ['preFilter', 'preBind']],
  ])('a %s plugin with no extensionPoints is called at %j', (protocol, points) => {
    const { extensionPoints: _none, ...noPoints } = base;
    expect(load(pluginsYaml([{ ...noPoints, protocol }])).plugins[0]).toMatchObject({ protocol, points, tagsAs: 'labels' });
  });

  test('retry: N and retry: {attempts: N} are the same configuration', () => {
    expect(load(pluginsYaml([{ ...base, retry: 4 }])).version).toBe(load(pluginsYaml([{ ...base, retry: { attempts: 4 } }])).version);
  });

  test('secret material prints as [redacted] wherever a resolved config ends up', () => {
    const config = load(pluginsYaml([{ ...base, auth: { hmac: { secretFile: hmacFile, keyId: 'k' } } }]));
    expect(JSON.stringify(config)).not.toContain(hmacKey);
    expect(inspect(config, { depth: 10 })).not.toContain(hmacKey);
    expect(JSON.stringify(config)).toContain('[redacted]');
  });

  test('an empty document is a configuration with no plugins', () => {
    expect(load('').plugins).toEqual([]);
    expect(load('plugins: []\n').version).toBe(load('').version);
  });

  test('the version depends on the content, not on key order or formatting', () => {
    const a = load('plugins:\n- {name: a, type: rest, endpoint: "http://a/", extensionPoints: [filter], timeout: 1s}\n');
    const b = load('plugins:\n  - timeout: 1000\n    extensionPoints: [filter]\n    endpoint: http://a/\n    type: rest\n    name: a\n');
    const c = load('plugins:\n- {name: a, type: rest, endpoint: "http://a/", extensionPoints: [filter], timeout: 2s}\n');
    expect(a.version).toBe(b.version);
    expect(c.version).not.toBe(a.version);
  });
});

describe('an invalid configuration is refused with every wrong field named', () => {
  test.each<[string, Record<string, unknown>[] | string, RegExp]>([
    ['an unknown field', [{ ...base, retries: 3 }], /^plugins\[0\]\.retries: unknown field \(plugin "cost-tracking"\) \(in plugins\.yaml\)$/],
    ['an inline secret', [{ ...base, auth: { hmac: { secret: 'hunter2', keyId: 'k' } } }], /^plugins\[0\]\.auth\.hmac\.secret: secrets are never written in the configuration; use secretFile or secretEnv/],
    ['an inline JWT token', [{ ...base, auth: { jwt: { algorithm: 'HS256', token: 'x' } } }], /^plugins\[0\]\.auth\.jwt\.token: secrets are never written/],
    ['a bad duration', [{ ...base, timeout: 'soon' }], /^plugins\[0\]\.timeout: expected a duration such as "500ms"/],
    ['a zero timeout', [{ ...base, timeout: '0s' }], /^plugins\[0\]\.timeout: must be longer than 0/],
    ['an unknown extension point', [{ ...base, extensionPoints: ['filter', 'sort'] }], /^plugins\[0\]\.extensionPoints\[1\]: /],
    ['no extension point', [{ ...base, extensionPoints: [] }], /^plugins\[0\]\.extensionPoints: must name at least one extension point/],
    ['an unknown failurePolicy', [{ ...base, failurePolicy: 'Retry' }], /^plugins\[0\]\.failurePolicy: /],
    ['a type other than rest', [{ ...base, type: 'grpc' }], /^plugins\[0\]\.type: /],
    ['an endpoint that is not http(s)', [{ ...base, endpoint: 'ftp://x/' }], /^plugins\[0\]\.endpoint: expected an http or https URL, got scheme "ftp"/],
    ['credentials in the endpoint', [{ ...base, endpoint: 'https://user:pw@x/' }], /^plugins\[0\]\.endpoint: must not carry credentials/],
    ['mTLS over http', [{ ...base, endpoint: 'http://x/', auth: { mtls: { certFile: 'c', keyFile: 'k' } } }], /^plugins\[0\]\.auth\.mtls: mTLS needs an https endpoint/],
    ['a cache on a plugin without read-only points', [{ ...base, extensionPoints: ['preBind'], cache: { ttl: '1s' } }], /^plugins\[0\]\.cache: only answers at preFilter, filter, preScore, score are cached/],
    ['retry attempts out of range', [{ ...base, retry: { attempts: 0 } }], /^plugins\[0\]\.retry\.attempts: /],
    ['retry: 0', [{ ...base, retry: 0 }], /^plugins\[0\]\.retry\.attempts: /],
    ['retry as a word', [{ ...base, retry: 'thrice' }], /^plugins\[0\]\.retry: /],
    ['an unknown protocol', [{ ...base, protocol: 'soap' }], /^plugins\[0\]\.protocol: /],
    ['a verdict plugin at score', [{ ...base, protocol: 'verdict', extensionPoints: ['preFilter', 'score'] }], /^plugins\[0\]\.extensionPoints: protocol verdict is spoken at preFilter, filter, reserve, permit, preBind only, not at score/],
    ['an operation plugin at filter', [{ ...base, protocol: 'operation' }], /^plugins\[0\]\.extensionPoints: protocol operation is spoken at preBind only, not at filter/],
    ['dstack\'s apply policy with failurePolicy Ignore', [{ ...base, protocol: 'dstack-apply-policy', extensionPoints: ['preFilter'], failurePolicy: 'Ignore' }], /^plugins\[0\]\.failurePolicy: protocol dstack-apply-policy fails closed: failurePolicy must be Fail/],
    ['injectTagsAs without the operation protocol', [{ ...base, injectTagsAs: 'labels' }], /^plugins\[0\]\.injectTagsAs: only plugins speaking the operation protocol inject tags/],
    ['an unknown key beside the seed\'s keys', [{ name: 'cost-tracking', type: 'rest', endpoint: 'https://x/', timeout: '5000ms', retry: 3, retries: 3 }], /^plugins\[0\]\.retries: unknown field \(plugin "cost-tracking"\)/],
    ['a weight out of range', [{ ...base, weight: -1 }], /^plugins\[0\]\.weight: /],
    ['HS256 with a private key', [{ ...base, auth: { jwt: { algorithm: 'HS256', privateKeyFile: 'k.pem' } } }], /^plugins\[0\]\.auth\.jwt\.privateKeyFile: HS256 signs with a shared secret/],
    ['RS256 without a key', [{ ...base, auth: { jwt: { algorithm: 'RS256' } } }], /^plugins\[0\]\.auth\.jwt\.privateKeyFile: RS256 needs privateKeyFile/],
    ['HMAC with two secret sources', [{ ...base, auth: { hmac: { secretFile: 'a', secretEnv: 'B', keyId: 'k' } } }], /^plugins\[0\]\.auth\.hmac\.secretFile: needs exactly one of secretFile and secretEnv/],
    ['a duplicate plugin name', [base, { ...base, endpoint: 'https://other/' }], /^plugins\[1\]\.name: duplicate plugin name "cost-tracking"/],
    ['a name that is not a DNS label', [{ ...base, name: 'Cost_Tracking' }], /^plugins\[0\]\.name: must be a DNS label/],
    ['a top-level field other than plugins', 'plugins: []\nversion: 2\n', /^version: unknown field/],
    ['YAML that does not parse', 'plugins: [\n', /^\(document\): not valid YAML/],
  ])('%s', (_what, plugins, issue) => {
    const issues = issuesOf(typeof plugins === 'string' ? plugins : pluginsYaml(plugins));
    expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(issue)]));
  });

  test.each<[string, Record<string, unknown>, NodeJS.ProcessEnv, RegExp]>([
    ['a secret file that does not exist', { hmac: { secretFile: '/nonexistent/hmac.key', keyId: 'k' } }, {}, /^plugins\[0\]\.auth\.hmac\.secretFile: cannot read \/nonexistent\/hmac\.key \(ENOENT\)/],
    ['a secret variable that is not set', { hmac: { secretEnv: 'NOPE', keyId: 'k' } }, {}, /^plugins\[0\]\.auth\.hmac\.secretEnv: environment variable NOPE is not set/],
    ['a key shorter than 32 bytes', { jwt: { algorithm: 'HS256', secretEnv: 'SHORT' } }, { SHORT: 'abc' }, /^plugins\[0\]\.auth\.jwt\.secretEnv: the key must be at least 32 bytes, got 3/],
    ['an EC key for RS256', { jwt: { algorithm: 'RS256', privateKeyFile: '<dir>/ec.pem' } }, {}, /^plugins\[0\]\.auth\.jwt\.privateKeyFile: RS256 needs an RSA key of at least 2048 bits, got a ec key/],
    ['a private key file that is not a key', { jwt: { algorithm: 'RS256', privateKeyFile: '/etc/hostname' } }, {}, /^plugins\[0\]\.auth\.jwt\.privateKeyFile: /],
  ])('%s', (_what, auth, env, issue) => {
    const issues = issuesOf(pluginsYaml([{ ...base, auth: JSON.parse(JSON.stringify(auth).replace('<dir>', dir)) as unknown }]), env);
    expect(issues).toEqual([expect.stringMatching(issue)]);
    // The message names the problem, never the secret.
    if (env.SHORT) expect(issues.join()).not.toContain(env.SHORT);
  });

  test('several problems are all reported at once', () => {
    const issues = issuesOf(pluginsYaml([{ ...base, timeout: 'x', weight: 5000, extra: 1 }]));
    expect(issues).toHaveLength(3);
  });
});
