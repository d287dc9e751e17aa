import { createHash, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isDns1123Label } from '@schedmesh/model';
import { WIRE_EXTENSION_POINTS } from '@schedmesh/framework';
import { ConfigError, duration } from '@schedmesh/runtime';
import { canonicalJson } from './canonical-json.js';
import { EndpointPolicy } from './endpoint-policy.js';
import { readOnlyPoints } from './points.js';
import { PLUGIN_API_VERSION } from './protocol.js';
import { PROTOCOL_NAMES, protocols } from './protocols.js';
import type { ProtocolName } from './protocols.js';
import type { PointName } from './points.js';
import { Secret } from './secret.js';
import { DEFAULT_SECRET_ROOTS, SecretFileError, readSecretFile } from './secret-file.js';

/**
 * The plugin configuration: a YAML document listing the external REST plugins,
 * loaded from a file (watched) or from the plugin-config ConfigMap. It is
 * parsed and validated whole (unknown fields are errors), then resolved —
 * durations to milliseconds, secret files and variables read — into
 * {@link ResolvedPlugin}s. Secrets are never written in the document itself.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MIN_KEY_BYTES = 32;

const positiveDuration = (fallback: number, max: number) =>
  duration()
    .refine((ms) => ms > 0, 'must be longer than 0')
    .refine((ms) => ms <= max, `must be at most ${max} ms`)
    .default(fallback);

const filePath = z.string().min(1, 'must be a file path');
const envName = z.string().regex(ENV_NAME, 'must be an environment variable name');

const mtlsSchema = z
  .object({
    /** CA bundle (PEM) that signs the plugin's server certificate; default: the system CAs. */
    caFile: filePath.optional(),
    /** Client certificate chain (PEM) the gateway presents. */
    certFile: filePath,
    /** Client private key (PEM). */
    keyFile: filePath,
    /** Expected name in the server certificate, if not the endpoint's host. */
    serverName: z.string().min(1).optional(),
  })
  .strict();

const jwtSchema = z
  .object({
    algorithm: z.enum(['HS256', 'RS256']),
    /** HS256: a file holding the shared secret (at least 32 bytes). */
    secretFile: filePath.optional(),
    /** HS256: an environment variable holding the shared secret. */
    secretEnv: envName.optional(),
    /** RS256: a PEM (PKCS#8 or PKCS#1) RSA private key of at least 2048 bits. */
    privateKeyFile: filePath.optional(),
    /** The `iss` claim. */
    issuer: z.string().min(1).default('schedmesh-gateway'),
    /** The `aud` claim; default: the plugin name. */
    audience: z.string().min(1).optional(),
    /** The `kid` header, for plugins that rotate keys. */
    keyId: z.string().min(1).optional(),
    /** Lifetime of a token; the gateway signs a new one before it runs out. */
    ttl: duration()
      .refine((ms) => ms >= 10_000 && ms <= 86_400_000, 'must be between 10s and 24h')
      .default(300_000),
  })
  .strict()
  .superRefine((jwt, ctx) => {
    const sources = [jwt.secretFile, jwt.secretEnv, jwt.privateKeyFile].filter((s) => s !== undefined).length;
    if (jwt.algorithm === 'HS256') {
      if (jwt.privateKeyFile !== undefined) ctx.addIssue({ code: 'custom', path: ['privateKeyFile'], message: 'HS256 signs with a shared secret: use secretFile or secretEnv' });
      else if (sources !== 1) ctx.addIssue({ code: 'custom', path: ['secretFile'], message: 'HS256 needs exactly one of secretFile and secretEnv' });
    } else if (jwt.privateKeyFile === undefined || sources !== 1) {
      ctx.addIssue({ code: 'custom', path: ['privateKeyFile'], message: 'RS256 needs privateKeyFile (and no secretFile or secretEnv)' });
    }
  });

const hmacSchema = z
  .object({
    /** A file holding the shared signing key (at least 32 bytes). */
    secretFile: filePath.optional(),
    /** An environment variable holding the shared signing key. */
    secretEnv: envName.optional(),
    /** Sent as X-Schedmesh-Key-Id so the plugin can pick the key (rotation). */
    keyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  })
  .strict()
  .superRefine((hmac, ctx) => {
    if ((hmac.secretFile === undefined) === (hmac.secretEnv === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['secretFile'], message: 'needs exactly one of secretFile and secretEnv' });
    }
  });

const pluginSchema = z
  .object({
    /** Unique plugin name (a DNS label): in results, metrics and logs. */
    name: z.string().refine(isDns1123Label, 'must be a DNS label: at most 63 lower-case letters, digits and "-"'),
    type: z.literal('rest'),
    /** The wire protocol the plugin speaks (see README "Plugin protocols"). */
    protocol: z.enum(PROTOCOL_NAMES).default(PLUGIN_API_VERSION),
    /** The URL the gateway POSTs requests to (http or https). */
    endpoint: z.string().superRefine((text, ctx) => {
      const problem = endpointProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    /** The points at which the plugin is called; absent: its protocol's default points. */
    extensionPoints: z
      .array(z.enum(WIRE_EXTENSION_POINTS))
      .min(1, 'must name at least one extension point')
      .refine((points) => new Set(points).size === points.length, 'must not repeat a point')
      .optional(),
    /** The most time the gateway spends on one invocation of the plugin, retries included. */
    timeout: positiveDuration(500, 60_000),
    /** Attempts in all (1 = no retry; `retry: 3` is short for `{attempts: 3}`); see README "Retries". */
    retry: z.preprocess(
      (value) => (typeof value === 'number' ? { attempts: value } : value),
      z
        .object({
          attempts: z.number().int().min(1).max(10).default(1),
          /** First delay between attempts; it doubles each time (with jitter), up to 8 times this. */
          backoff: duration().default(50),
        })
        .strict()
        .prefault({}),
    ),
    /** What a failed call means: Ignore = the plugin is skipped; Fail = the invocation reports ERROR. */
    failurePolicy: z.enum(['Ignore', 'Fail']).default('Fail'),
    /** Reuse answers at read-only points for the same pod and nodes. */
    cache: z
      .object({
        ttl: positiveDuration(30_000, 86_400_000),
        maxEntries: z.number().int().min(1).max(100_000).default(1024),
      })
      .strict()
      .optional(),
    /** Multiplies the plugin's scores (0..100) in the weighted sum. */
    weight: z.number().int().min(0).max(1000).default(1),
    /** Circuit breaker: opens after `failures` consecutive failed calls; probes again after `halfOpenAfter`. */
    breaker: z
      .object({
        failures: z.number().int().min(1).max(1000).default(5),
        halfOpenAfter: positiveDuration(10_000, 3_600_000),
      })
      .strict()
      .prefault({}),
    /**
     * The largest request the plugin answers within its timeout. A bigger one
     * is not sent (`request_too_large`), so one caller's huge request cannot
     * time out and open the breaker for everyone (review M7).
     */
    limits: z
      .object({
        maxNodes: z.number().int().min(1).max(100_000).default(5000),
        maxRequestBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(8 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    auth: z.object({ mtls: mtlsSchema.optional(), jwt: jwtSchema.optional(), hmac: hmacSchema.optional() }).strict().optional(),
    /** operation protocol: inject_tags sets labels (default) or annotations. */
    injectTagsAs: z.enum(['labels', 'annotations']).optional(),
    /** Only pods of these namespaces; absent = every namespace. */
    tenants: z.array(z.string().refine(isDns1123Label, 'must be a namespace name')).min(1).optional(),
  })
  .strict()
  .superRefine((plugin, ctx) => {
    if (plugin.auth?.mtls && !plugin.endpoint.startsWith('https:')) {
      ctx.addIssue({ code: 'custom', path: ['auth', 'mtls'], message: 'mTLS needs an https endpoint' });
    }
    const protocol = protocols[plugin.protocol];
    const points = plugin.extensionPoints ?? protocol.defaultPoints;
    const foreign = points.filter((p) => !protocol.points.includes(p));
    if (foreign.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['extensionPoints'], message: `protocol ${plugin.protocol} is spoken at ${protocol.points.join(', ')} only, not at ${foreign.join(', ')}` });
    }
    if (protocol.failClosed && plugin.failurePolicy !== 'Fail') {
      ctx.addIssue({ code: 'custom', path: ['failurePolicy'], message: `protocol ${plugin.protocol} fails closed: failurePolicy must be Fail` });
    }
    if (plugin.injectTagsAs !== undefined && plugin.protocol !== 'operation') {
      ctx.addIssue({ code: 'custom', path: ['injectTagsAs'], message: 'only plugins speaking the operation protocol inject tags' });
    }
    if (plugin.cache && !points.some((p) => readOnlyPoints.has(p))) {
      ctx.addIssue({ code: 'custom', path: ['cache'], message: `only answers at ${[...readOnlyPoints].join(', ')} are cached, and the plugin serves none of them` });
    }
  });

/** The plugin configuration document. */
export const pluginConfigSchema = z
  .object({ plugins: z.array(pluginSchema).default([]) })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.plugins.forEach((plugin, i) => {
      if (seen.has(plugin.name)) ctx.addIssue({ code: 'custom', path: ['plugins', i, 'name'], message: `duplicate plugin name ${JSON.stringify(plugin.name)}` });
      seen.add(plugin.name);
    });
  });

/** The validated document, before secrets are read. */
export type PluginConfigDocument = z.output<typeof pluginConfigSchema>;
type PluginDefinition = PluginConfigDocument['plugins'][number];

function endpointProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `expected an http or https URL, got ${JSON.stringify(text)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `expected an http or https URL, got scheme ${JSON.stringify(url.protocol.slice(0, -1))}`;
  if (url.username || url.password) return 'must not carry credentials: use auth.jwt, auth.hmac or auth.mtls';
  if (url.hash) return 'must not have a #fragment';
  return undefined;
}

/** TLS material of a plugin's connections. */
export interface ResolvedTls {
  readonly ca?: Buffer;
  readonly cert: Buffer;
  readonly key: Secret;
  readonly serverName?: string;
}

/** How the gateway signs JWTs for a plugin. */
export interface ResolvedJwt {
  readonly algorithm: 'HS256' | 'RS256';
  /** HS256: the shared secret; RS256: the private key. */
  readonly key: Secret | KeyObject;
  readonly issuer: string;
  readonly audience: string;
  readonly keyId?: string;
  readonly ttlMs: number;
}

/** How the gateway signs request bodies for a plugin (see signing.ts). */
export interface ResolvedHmac {
  readonly keyId: string;
  readonly secret: Secret;
}

/** One plugin, validated and resolved: units normalized, secrets loaded. */
export interface ResolvedPlugin {
  readonly name: string;
  readonly endpoint: URL;
  /** The wire protocol it speaks. */
  readonly protocol: ProtocolName;
  /** Its points: the configured ones, or its protocol's defaults. */
  readonly points: readonly PointName[];
  /** True when the configuration named no points and `points` are the protocol's defaults. */
  readonly defaultPoints: boolean;
  /** operation protocol: where injected tags go. */
  readonly tagsAs: 'labels' | 'annotations';
  readonly timeoutMs: number;
  readonly retry: { readonly attempts: number; readonly backoffMs: number };
  readonly failurePolicy: 'Ignore' | 'Fail';
  readonly cache?: { readonly ttlMs: number; readonly maxEntries: number };
  readonly weight: number;
  readonly breaker: { readonly failures: number; readonly halfOpenAfterMs: number };
  /** Requests over these bounds are refused before the plugin is called. */
  readonly limits: { readonly maxNodes: number; readonly maxRequestBytes: number };
  readonly tls?: ResolvedTls;
  readonly jwt?: ResolvedJwt;
  readonly hmac?: ResolvedHmac;
  /** Namespaces served; empty = all. */
  readonly tenants: readonly string[];
  /**
   * Digest of the definition and of its secret material. A plugin whose
   * fingerprint is unchanged across a reload keeps its client: breaker state,
   * cache and connections. Never exposed (it covers secrets).
   */
  readonly fingerprint: string;
}

/** A whole configuration, ready to use. */
export interface LoadedPluginConfig {
  readonly plugins: readonly ResolvedPlugin[];
  /** Fingerprint of the document (not of secrets): ListPlugins' config_version. */
  readonly version: string;
}

/** Where secrets come from when a configuration is loaded. */
export interface SecretSources {
  /** Environment for secretEnv (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * What the service configuration (`gateway.*`) lets a plugin document do. The
 * document may come from a ConfigMap, so these bounds are not its to set.
 */
export interface PluginPolicy {
  /** Directories that secret and TLS files must lie in, symlinks resolved (`gateway.secretRoots`). */
  readonly secretRoots: readonly string[];
  /** Which endpoints may be called (`gateway.allowedEndpoints`). */
  readonly endpoints: EndpointPolicy;
  /** Allow JWT and HMAC credentials over plain http (`gateway.insecureCredentialsOverHttp`; development only). */
  readonly insecureCredentialsOverHttp: boolean;
}

/** The policy without service configuration: the default secret roots, no link-local endpoints, credentials over https only. */
export const defaultPluginPolicy: PluginPolicy = { secretRoots: DEFAULT_SECRET_ROOTS, endpoints: EndpointPolicy.default, insecureCredentialsOverHttp: false };

/** Options of {@link loadPluginConfig}. */
export interface PluginConfigOptions extends SecretSources {
  /** Default {@link defaultPluginPolicy}. */
  policy?: PluginPolicy;
}

/** An invalid plugin configuration; the one in force stays. `issues` name every wrong field. */
export class PluginConfigError extends ConfigError {
  readonly source: string;
  constructor(source: string, issues: readonly string[], options?: { cause?: unknown }) {
    super(issues.map((issue) => `${issue} (in ${source})`), options);
    this.source = source;
  }
}

const secretLikeKeys = new Set(['secret', 'password', 'token', 'key', 'privatekey', 'apikey', 'bearer', 'clientsecret']);

/**
 * Parses and validates a plugin configuration against `policy`, without
 * reading any secret: the document and its version. `source` names where the
 * text came from in error messages ("/etc/schedmesh/plugins.yaml",
 * "ConfigMap schedmesh/plugins"). Throws {@link PluginConfigError} listing
 * every problem with its field path.
 */
export function parsePluginConfig(yamlText: string, source: string, policy: PluginPolicy = defaultPluginPolicy): { document: PluginConfigDocument; version: string } {
  let raw: unknown;
  try {
    raw = parseYaml(yamlText);
  } catch (err) {
    throw new PluginConfigError(source, [`(document): not valid YAML: ${(err as Error).message.split('\n')[0]}`], { cause: err });
  }
  raw ??= {};
  const parsed = pluginConfigSchema.safeParse(raw);
  if (!parsed.success) throw new PluginConfigError(source, parsed.error.issues.flatMap((issue) => describeIssue(issue, raw)));
  const issues = parsed.data.plugins.flatMap((definition, i) => policyIssues(definition, `plugins[${i}]`, policy));
  if (issues.length > 0) throw new PluginConfigError(source, issues);
  return { document: parsed.data, version: sha256(canonicalJson(parsed.data)).slice(0, 16) };
}

/**
 * Parses, validates and resolves a plugin configuration: {@link parsePluginConfig},
 * then every secret and TLS file read (asynchronously, under the policy's
 * roots). Throws {@link PluginConfigError} listing every problem.
 */
export async function loadPluginConfig(yamlText: string, source: string, options: PluginConfigOptions = {}): Promise<LoadedPluginConfig> {
  const policy = options.policy ?? defaultPluginPolicy;
  const { document, version } = parsePluginConfig(yamlText, source, policy);
  const issues: string[] = [];
  const env = options.env ?? process.env;
  // One file at a time: issues come out in document order, and a plugin's fingerprint covers its files in a fixed order.
  const plugins: Array<ResolvedPlugin | undefined> = [];
  for (const [i, definition] of document.plugins.entries()) plugins.push(await resolvePlugin(definition, `plugins[${i}]`, { env, roots: policy.secretRoots }, issues));
  if (issues.length > 0) throw new PluginConfigError(source, issues);
  return { plugins: plugins as ResolvedPlugin[], version };
}

function policyIssues(d: PluginDefinition, at: string, policy: PluginPolicy): string[] {
  const issues: string[] = [];
  const suffix = ` (plugin ${JSON.stringify(d.name)})`;
  const endpoint = new URL(d.endpoint);
  const problem = policy.endpoints.problem(endpoint);
  if (problem) issues.push(`${at}.endpoint: ${problem}${suffix}`);
  if (endpoint.protocol === 'http:' && !policy.insecureCredentialsOverHttp) {
    for (const kind of ['jwt', 'hmac'] as const) {
      if (d.auth?.[kind]) issues.push(`${at}.auth.${kind}: credentials go over https only; use an https endpoint (gateway.insecureCredentialsOverHttp allows http in development)${suffix}`);
    }
  }
  return issues;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string[] {
  const where = fieldPath(issue.path);
  const plugin = pluginNameAt(raw, issue.path);
  const suffix = plugin ? ` (plugin ${JSON.stringify(plugin)})` : '';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const hint = secretLikeKeys.has(key.toLowerCase().replace(/[-_]/g, ''))
        ? ': secrets are never written in the configuration; use secretFile or secretEnv'
        : ': unknown field';
      return `${fieldPath([...issue.path, key])}${hint}${suffix}`;
    });
  }
  return [`${where}: ${issue.message}${suffix}`];
}

function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(document)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

function pluginNameAt(raw: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'plugins' || typeof path[1] !== 'number') return undefined;
  const plugins = (raw as { plugins?: unknown }).plugins;
  if (!Array.isArray(plugins)) return undefined;
  const entry: unknown = plugins[path[1]];
  const name = typeof entry === 'object' && entry !== null ? (entry as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

async function resolvePlugin(
  d: PluginDefinition,
  at: string,
  { env, roots }: { env: NodeJS.ProcessEnv; roots: readonly string[] },
  issues: string[],
): Promise<ResolvedPlugin | undefined> {
  const material: string[] = [];
  const before = issues.length;
  const read = async (field: string, path: string): Promise<Buffer | undefined> => {
    try {
      const bytes = await readSecretFile(path, roots);
      material.push(sha256(bytes));
      return bytes;
    } catch (err) {
      if (!(err instanceof SecretFileError)) throw err;
      issues.push(`${at}.${field}: ${err.reason} (plugin ${JSON.stringify(d.name)})`);
      return undefined;
    }
  };
  const secret = async (field: string, file: string | undefined, variable: string | undefined): Promise<Secret | undefined> => {
    let bytes: Buffer | undefined;
    let fieldName = field;
    if (file !== undefined) {
      fieldName = `${field}.secretFile`;
      const content = await read(fieldName, file);
      if (content) bytes = withoutTrailingNewline(content);
    } else if (variable !== undefined) {
      fieldName = `${field}.secretEnv`;
      const value = env[variable];
      if (value === undefined || value === '') {
        issues.push(`${at}.${fieldName}: environment variable ${variable} is not set (plugin ${JSON.stringify(d.name)})`);
        return undefined;
      }
      bytes = Buffer.from(value, 'utf8');
      material.push(sha256(bytes));
    }
    if (bytes === undefined) return undefined;
    if (bytes.length < MIN_KEY_BYTES) {
      issues.push(`${at}.${fieldName}: the key must be at least ${MIN_KEY_BYTES} bytes, got ${bytes.length} (plugin ${JSON.stringify(d.name)})`);
      return undefined;
    }
    return new Secret(bytes);
  };

  let tls: ResolvedTls | undefined;
  const mtls = d.auth?.mtls;
  if (mtls) {
    const ca = mtls.caFile === undefined ? undefined : await read('auth.mtls.caFile', mtls.caFile);
    const cert = await read('auth.mtls.certFile', mtls.certFile);
    const key = await read('auth.mtls.keyFile', mtls.keyFile);
    if (cert && key) tls = { ...(ca ? { ca } : {}), cert, key: new Secret(key), ...(mtls.serverName ? { serverName: mtls.serverName } : {}) };
  }

  let jwt: ResolvedJwt | undefined;
  const j = d.auth?.jwt;
  if (j) {
    let key: Secret | KeyObject | undefined;
    if (j.algorithm === 'HS256') {
      key = await secret('auth.jwt', j.secretFile, j.secretEnv);
    } else if (j.privateKeyFile !== undefined) {
      const pem = await read('auth.jwt.privateKeyFile', j.privateKeyFile);
      if (pem) key = rsaPrivateKey(pem, `${at}.auth.jwt.privateKeyFile`, d.name, issues);
    }
    if (key) {
      jwt = { algorithm: j.algorithm, key, issuer: j.issuer, audience: j.audience ?? d.name, ttlMs: j.ttl, ...(j.keyId ? { keyId: j.keyId } : {}) };
    }
  }

  let hmac: ResolvedHmac | undefined;
  const h = d.auth?.hmac;
  if (h) {
    const s = await secret('auth.hmac', h.secretFile, h.secretEnv);
    if (s) hmac = { keyId: h.keyId, secret: s };
  }

  if (issues.length > before) return undefined;
  return {
    name: d.name,
    endpoint: new URL(d.endpoint),
    protocol: d.protocol,
    points: d.extensionPoints ?? protocols[d.protocol].defaultPoints,
    defaultPoints: d.extensionPoints === undefined,
    tagsAs: d.injectTagsAs ?? 'labels',
    timeoutMs: d.timeout,
    retry: { attempts: d.retry.attempts, backoffMs: d.retry.backoff },
    failurePolicy: d.failurePolicy,
    ...(d.cache ? { cache: { ttlMs: d.cache.ttl, maxEntries: d.cache.maxEntries } } : {}),
    weight: d.weight,
    breaker: { failures: d.breaker.failures, halfOpenAfterMs: d.breaker.halfOpenAfter },
    limits: { maxNodes: d.limits.maxNodes, maxRequestBytes: d.limits.maxRequestBytes },
    ...(tls ? { tls } : {}),
    ...(jwt ? { jwt } : {}),
    ...(hmac ? { hmac } : {}),
    tenants: d.tenants ?? [],
    fingerprint: sha256(canonicalJson(d) + material.join(',')),
  };
}

function rsaPrivateKey(pem: Buffer, field: string, plugin: string, issues: string[]): KeyObject | undefined {
  try {
    const key = createPrivateKey(pem);
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa' || bits < 2048) {
      const got = key.asymmetricKeyType === 'rsa' ? `${bits} bits` : `a ${key.asymmetricKeyType ?? 'secret'} key`;
      issues.push(`${field}: RS256 needs an RSA key of at least 2048 bits, got ${got} (plugin ${JSON.stringify(plugin)})`);
      return undefined;
    }
    return key;
  } catch (err) {
    issues.push(`${field}: not a PEM private key (${(err as Error).message}) (plugin ${JSON.stringify(plugin)})`);
    return undefined;
  }
}

/** A trailing newline (echo "$KEY" > file) is not part of a key. */
function withoutTrailingNewline(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
