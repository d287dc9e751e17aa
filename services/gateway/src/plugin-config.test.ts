import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ConfigError } from '@schedmesh/runtime';
import { gatewayConfigSchema } from './config.js';
import { EndpointPolicy } from './endpoint-policy.js';
import { PluginConfigError, loadPluginConfig } from './plugin-config.js';
import type { PluginPolicy } from './plugin-config.js';
import { pluginsYaml, testPolicy } from './testing/builders.js';

let dir: string;
let outside: string;
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
  // Hostile secret files: a FIFO (reading it would block for ever), a directory, a huge file, a symlink out of the root.
  execFileSync('mkfifo', [join(dir, 'fifo.key')]);
  mkdirSync(join(dir, 'a-directory'));
  writeFileSync(join(dir, 'huge.key'), Buffer.alloc(1024 * 1024 + 1, 'k'));
  outside = mkdtempSync(join(tmpdir(), 'gateway-outside-'));
  writeFileSync(join(outside, 'hmac.key'), hmacKey);
  symlinkSync(join(outside, 'hmac.key'), join(dir, 'escape.key'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const load = (yaml: string, env: NodeJS.ProcessEnv = {}, policy: Partial<PluginPolicy> = {}): ReturnType<typeof loadPluginConfig> =>
  loadPluginConfig(yaml, 'plugins.yaml', { env, policy: testPolicy([dir], policy) });
const base = { name: 'cost-tracking', endpoint: 'https://plugins.example/cost', extensionPoints: ['filter'] };
async function issuesOf(yaml: string, env: NodeJS.ProcessEnv = {}, policy: Partial<PluginPolicy> = {}): Promise<readonly string[]> {
  try {
    await load(yaml, env, policy);
  } catch (err) {
    expect(err).toBeInstanceOf(PluginConfigError);
    expect(err).toBeInstanceOf(ConfigError);
    return (err as PluginConfigError).issues;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('a valid configuration', () => {
  test('the documented example resolves: units normalized, defaults filled, secrets read', async () => {
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
  endpoint: https://quota.plugins:8443/v1/check?verbose=1
  extensionPoints: [preFilter]
  auth:
    jwt: {algorithm: HS256, secretEnv: QUOTA_JWT}
`;
    const config = await load(yaml, { QUOTA_JWT: 'q'.repeat(32) });
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
      limits: { maxNodes: 5000, maxRequestBytes: 8 * 1024 * 1024 },
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

  test('the source design\'s configuration, verbatim: a duration string, retry as total attempts, the default points', async () => {
    const yaml = `
plugins:
- name: cost-tracking
  type: rest
  endpoint: https://internal-api.example.com/dstack-hooks
  timeout: 5000ms
  retry: 3
`;
    const [plugin] = (await load(yaml)).plugins;
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
  ])('a %s plugin with no extensionPoints is called at %j', async (protocol, points) => {
    const { extensionPoints: _none, ...noPoints } = base;
    expect((await load(pluginsYaml([{ ...noPoints, protocol }]))).plugins[0]).toMatchObject({ protocol, points, tagsAs: 'labels' });
  });

  test('retry: N and retry: {attempts: N} are the same configuration', async () => {
    expect((await load(pluginsYaml([{ ...base, retry: 4 }]))).version).toBe((await load(pluginsYaml([{ ...base, retry: { attempts: 4 } }]))).version);
  });

  test('secret material prints as [redacted] wherever a resolved config ends up', async () => {
    const config = await load(pluginsYaml([{ ...base, auth: { hmac: { secretFile: hmacFile, keyId: 'k' } } }]));
    expect(JSON.stringify(config)).not.toContain(hmacKey);
    expect(inspect(config, { depth: 10 })).not.toContain(hmacKey);
    expect(JSON.stringify(config)).toContain('[redacted]');
  });

  test('an empty document is a configuration with no plugins', async () => {
    expect((await load('')).plugins).toEqual([]);
    expect((await load('plugins: []\n')).version).toBe((await load('')).version);
  });

  test('the version depends on the content, not on key order or formatting', async () => {
    const a = await load('plugins:\n- {name: a, type: rest, endpoint: "http://a/", extensionPoints: [filter], timeout: 1s}\n');
    const b = await load('plugins:\n  - timeout: 1000\n    extensionPoints: [filter]\n    endpoint: http://a/\n    type: rest\n    name: a\n');
    const c = await load('plugins:\n- {name: a, type: rest, endpoint: "http://a/", extensionPoints: [filter], timeout: 2s}\n');
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
    ['limits.maxNodes of 0', [{ ...base, limits: { maxNodes: 0 } }], /^plugins\[0\]\.limits\.maxNodes: /],
    ['limits.maxRequestBytes below 1 KiB', [{ ...base, limits: { maxRequestBytes: 10 } }], /^plugins\[0\]\.limits\.maxRequestBytes: /],
    ['an unknown limit', [{ ...base, limits: { maxPods: 1 } }], /^plugins\[0\]\.limits\.maxPods: unknown field/],
    ['HS256 with a private key', [{ ...base, auth: { jwt: { algorithm: 'HS256', privateKeyFile: 'k.pem' } } }], /^plugins\[0\]\.auth\.jwt\.privateKeyFile: HS256 signs with a shared secret/],
    ['RS256 without a key', [{ ...base, auth: { jwt: { algorithm: 'RS256' } } }], /^plugins\[0\]\.auth\.jwt\.privateKeyFile: RS256 needs privateKeyFile/],
    ['HMAC with two secret sources', [{ ...base, auth: { hmac: { secretFile: 'a', secretEnv: 'B', keyId: 'k' } } }], /^plugins\[0\]\.auth\.hmac\.secretFile: needs exactly one of secretFile and secretEnv/],
    ['a duplicate plugin name', [base, { ...base, endpoint: 'https://other/' }], /^plugins\[1\]\.name: duplicate plugin name "cost-tracking"/],
    ['a name that is not a DNS label', [{ ...base, name: 'Cost_Tracking' }], /^plugins\[0\]\.name: must be a DNS label/],
    ['a top-level field other than plugins', 'plugins: []\nversion: 2\n', /^version: unknown field/],
    ['YAML that does not parse', 'plugins: [\n', /^\(document\): not valid YAML/],
  ])('%s', async (_what, plugins, issue) => {
    const issues = await issuesOf(typeof plugins === 'string' ? plugins : pluginsYaml(plugins));
    expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(issue)]));
  });

  test.each<[string, Record<string, unknown>, NodeJS.ProcessEnv, RegExp]>([
    ['a secret file that does not exist', { hmac: { secretFile: '/nonexistent/hmac.key', keyId: 'k' } }, {}, /^plugins\[0\]\.auth\.hmac\.secretFile: cannot read \/nonexistent\/hmac\.key \(ENOENT\)/],
    ['a secret variable that is not set', { hmac: { secretEnv: 'NOPE', keyId: 'k' } }, {}, /^plugins\[0\]\.auth\.hmac\.secretEnv: environment variable NOPE is not set/],
    ['a key shorter than 32 bytes', { jwt: { algorithm: 'HS256', secretEnv: 'SHORT' } }, { SHORT: 'abc' }, /^plugins\[0\]\.auth\.jwt\.secretEnv: the key must be at least 32 bytes, got 3/],
    ['an EC key for RS256', { jwt: { algorithm: 'RS256', privateKeyFile: '<dir>/ec.pem' } }, {}, /^plugins\[0\]\.auth\.jwt\.privateKeyFile: RS256 needs an RSA key of at least 2048 bits, got a ec key/],
    ['a private key file that is not a key', { jwt: { algorithm: 'RS256', privateKeyFile: '<dir>/hmac.key' } }, {}, /^plugins\[0\]\.auth\.jwt\.privateKeyFile: not a PEM private key/],
  ])('%s', async (_what, auth, env, issue) => {
    const issues = await issuesOf(pluginsYaml([{ ...base, auth: JSON.parse(JSON.stringify(auth).replace('<dir>', dir)) as unknown }]), env);
    expect(issues).toEqual([expect.stringMatching(issue)]);
    // The message names the problem, never the secret.
    if (env.SHORT) expect(issues.join()).not.toContain(env.SHORT);
  });

  test('several problems are all reported at once', async () => {
    const issues = await issuesOf(pluginsYaml([{ ...base, timeout: 'x', weight: 5000, extra: 1 }]));
    expect(issues).toHaveLength(3);
  });
});

describe('what a plugin document may do is bounded by the service configuration (M6)', () => {
  const hmacAt = (secretFile: string): Record<string, unknown>[] => [{ ...base, auth: { hmac: { secretFile, keyId: 'k' } } }];
  test.each<[string, () => Record<string, unknown>[], RegExp]>([
    ['a secret file outside the secret roots', () => hmacAt(join(outside, 'hmac.key')), /^plugins\[0\]\.auth\.hmac\.secretFile: \/.*\/hmac\.key is outside gateway\.secretRoots \(/],
    ['a symlink in a root to a file outside it', () => hmacAt(join(dir, 'escape.key')), /^plugins\[0\]\.auth\.hmac\.secretFile: .*escape\.key is outside gateway\.secretRoots/],
    ['a FIFO (a read would block the event loop for ever)', () => hmacAt(join(dir, 'fifo.key')), /^plugins\[0\]\.auth\.hmac\.secretFile: .*fifo\.key is not a regular file/],
    ['a directory', () => hmacAt(join(dir, 'a-directory')), /^plugins\[0\]\.auth\.hmac\.secretFile: .*a-directory is not a regular file/],
    ['a secret file over 1 MiB', () => hmacAt(join(dir, 'huge.key')), /^plugins\[0\]\.auth\.hmac\.secretFile: .*huge\.key is larger than 1048576 bytes/],
    ['a relative secret path', () => hmacAt('hmac.key'), /^plugins\[0\]\.auth\.hmac\.secretFile: hmac\.key is not an absolute path/],
    ['a TLS key outside the secret roots', () => [{ ...base, auth: { mtls: { certFile: hmacFile, keyFile: join(outside, 'hmac.key') } } }], /^plugins\[0\]\.auth\.mtls\.keyFile: .* is outside gateway\.secretRoots/],
    ['the cloud metadata address', () => [{ ...base, endpoint: 'http://169.254.169.254/latest/meta-data/' }], /^plugins\[0\]\.endpoint: host 169\.254\.169\.254 is a link-local or metadata address/],
    ['a link-local IPv6 address', () => [{ ...base, endpoint: 'https://[fe80::1]/' }], /^plugins\[0\]\.endpoint: host fe80::1 is a link-local or metadata address/],
    ['the metadata host name', () => [{ ...base, endpoint: 'http://metadata.google.internal/computeMetadata/v1/' }], /^plugins\[0\]\.endpoint: host metadata\.google\.internal is a link-local/],
    ['a JWT over http', () => [{ ...base, endpoint: 'http://plugins.example/', auth: { jwt: { algorithm: 'HS256', secretFile: hmacFile } } }], /^plugins\[0\]\.auth\.jwt: credentials go over https only/],
    ['an HMAC key over http', () => [{ ...base, endpoint: 'http://plugins.example/', auth: { hmac: { secretFile: hmacFile, keyId: 'k' } } }], /^plugins\[0\]\.auth\.hmac: credentials go over https only/],
  ])('refused: %s, with the field named', async (_what, plugins, issue) => {
    expect(await issuesOf(pluginsYaml(plugins()))).toEqual([expect.stringMatching(issue)]);
  });

  test('an endpoint allowlist admits the names, suffixes and CIDRs it lists, and nothing else', async () => {
    const { policy: endpoints, problems } = EndpointPolicy.allowlist(['plugins.example', '*.plugins.svc.cluster.local', '10.0.0.0/8', '169.254.1.1']);
    expect(problems).toEqual([]);
    const endpointIssues = (endpoint: string): Promise<readonly string[]> =>
      issuesOf(pluginsYaml([{ ...base, endpoint }]), {}, { endpoints }).catch(() => [] as string[]);
    for (const allowed of ['https://plugins.example/x', 'https://cost.plugins.svc.cluster.local/', 'http://10.1.2.3:8080/', 'http://169.254.1.1/']) {
      expect((await load(pluginsYaml([{ ...base, endpoint: allowed }]), {}, { endpoints })).plugins).toHaveLength(1);
    }
    expect(await endpointIssues('https://evil.example/')).toEqual([expect.stringMatching(/^plugins\[0\]\.endpoint: host evil\.example is not in gateway\.allowedEndpoints/)]);
    expect(await endpointIssues('http://192.168.1.1/')).toEqual([expect.stringMatching(/host 192\.168\.1\.1 is not in gateway\.allowedEndpoints/)]);
    expect(await endpointIssues('http://169.254.169.254/')).toEqual([expect.stringMatching(/host 169\.254\.169\.254 is not in gateway\.allowedEndpoints/)]);
  });

  test('credentials over http are accepted only with the development flag', async () => {
    const plugins = pluginsYaml([{ ...base, endpoint: 'http://127.0.0.1:9/', auth: { hmac: { secretFile: hmacFile, keyId: 'k' } } }]);
    expect((await load(plugins, {}, { insecureCredentialsOverHttp: true })).plugins[0]!.hmac).toBeDefined();
  });

  test.each([
    ['an allowlist entry that is neither a name nor an address', { allowedEndpoints: ['plugins.example', 'http://x/'] }, /\[1\]: "http:\/\/x\/" is not a host name/],
    ['a CIDR with a bad prefix', { allowedEndpoints: ['10.0.0.0/33'] }, /\[0\]: "10\.0\.0\.0\/33" has an invalid prefix length/],
    ['a relative secret root', { secretRoots: ['secrets'] }, /must be an absolute path/],
  ])('the service configuration refuses %s, naming gateway.* field', (_what, gateway, message) => {
    const parsed = gatewayConfigSchema.safeParse({ gateway });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues).toEqual([expect.objectContaining({ path: expect.arrayContaining(['gateway']), message: expect.stringMatching(message) })]);
  });
});
