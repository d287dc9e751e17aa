/**
 * The command line's global options, resolved once: where each service is
 * (flag, else environment, else the local default), the TLS material every
 * connection uses, the deadline of a call, the output format and Jaeger's UI.
 *
 * The environment variables start with SCHEDMESHCTL_, not SCHEDMESH_: every
 * SCHEDMESH_ variable is a key of the services' own configuration, and a
 * service refuses to start on a key it does not know, so a shell set up for
 * the CLI must not break a service started from it.
 */
import { accessSync, constants } from 'node:fs';
import { clientConfigSchema, DEFAULT_TLS_RELOAD_MS, parseDuration } from '@schedmesh/runtime';
import type { ClientConfig } from '@schedmesh/runtime';
import { CliError } from './exit.js';

/** The mesh's services, in the order `status` lists them. */
export const SERVICES = ['scheduler', 'informer', 'snapshot', 'filterscore', 'reservation', 'admission', 'gateway', 'extender'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Where each service listens when run on one machine (`node services/<name>/dist/main.js`
 * with SCHEDMESH_GRPC__PORT set to these): snapshot and filterscore keep the
 * ports their clients default to.
 */
export const DEFAULT_ADDRESSES: Readonly<Record<ServiceName, string>> = {
  snapshot: '127.0.0.1:50051',
  filterscore: '127.0.0.1:50052',
  reservation: '127.0.0.1:50053',
  admission: '127.0.0.1:50054',
  gateway: '127.0.0.1:50055',
  informer: '127.0.0.1:50056',
  scheduler: '127.0.0.1:50057',
  extender: '127.0.0.1:50058',
};

export const ENV_PREFIX = 'SCHEDMESHCTL_';
export const DEFAULT_JAEGER_URL = 'http://127.0.0.1:16686';
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The environment variable of a service's address: SCHEDMESHCTL_SCHEDULER_ADDRESS. */
export function addressEnv(service: ServiceName): string {
  return `${ENV_PREFIX}${service.toUpperCase()}_ADDRESS`;
}

/** How a user sets a service's address, for error messages. */
export function addressHint(service: ServiceName): string {
  return `set --${service} or ${addressEnv(service)}`;
}

export type OutputFormat = 'table' | 'json';

/** The resolved options. */
export interface CliOptions {
  readonly output: OutputFormat;
  /** The Jaeger UI's base URL, without a trailing slash. */
  readonly jaegerUrl: string;
  /** Each service's client configuration (address, TLS, deadline of a call). */
  readonly services: Readonly<Record<ServiceName, ClientConfig>>;
}

/** The global flags as parsed (strings as typed; absent = not given). */
export interface GlobalFlags {
  readonly output?: string;
  readonly 'jaeger-url'?: string;
  readonly timeout?: string;
  readonly 'tls-ca'?: string;
  readonly 'tls-cert'?: string;
  readonly 'tls-key'?: string;
  readonly 'tls-server-name'?: string;
  readonly addresses: Partial<Record<ServiceName, string>>;
}

/** A value and where it came from ("--timeout", "SCHEDMESHCTL_TIMEOUT"). */
interface Given {
  readonly value: string;
  readonly origin: string;
}

/** Resolves the global options: flags win over the environment, which wins over the defaults. */
export function resolveOptions(flags: GlobalFlags, env: NodeJS.ProcessEnv): CliOptions {
  const given = (flag: keyof Omit<GlobalFlags, 'addresses'>, envName: string): Given | undefined => {
    const fromFlag = flags[flag];
    if (fromFlag !== undefined) return { value: fromFlag, origin: `--${flag}` };
    const fromEnv = env[`${ENV_PREFIX}${envName}`];
    return fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, origin: `${ENV_PREFIX}${envName}` } : undefined;
  };

  const output = given('output', 'OUTPUT');
  if (output && output.value !== 'table' && output.value !== 'json') throw CliError.usage(`${output.origin}: expected "table" or "json", got ${JSON.stringify(output.value)}`);

  const deadline = timeoutOf(given('timeout', 'TIMEOUT'));
  const tls = tlsOf({
    caFile: given('tls-ca', 'TLS_CA'),
    certFile: given('tls-cert', 'TLS_CERT'),
    keyFile: given('tls-key', 'TLS_KEY'),
    serverName: given('tls-server-name', 'TLS_SERVER_NAME'),
  });

  const services = {} as Record<ServiceName, ClientConfig>;
  for (const service of SERVICES) {
    const flag = flags.addresses[service];
    const address = flag ?? (env[addressEnv(service)] || DEFAULT_ADDRESSES[service]);
    const parsed = clientConfigSchema.safeParse({ address, deadline, ...(tls ? { tls } : {}) });
    if (!parsed.success) throw CliError.usage(`${flag !== undefined ? `--${service}` : addressEnv(service)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    if (!/^[^\s:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$|^(unix|dns):/.test(address)) {
      throw CliError.usage(`${flag !== undefined ? `--${service}` : addressEnv(service)}: expected "host:port", got ${JSON.stringify(address)}`);
    }
    services[service] = parsed.data;
  }

  return { output: (output?.value as OutputFormat | undefined) ?? 'table', jaegerUrl: jaegerUrlOf(given('jaeger-url', 'JAEGER_URL')), services };
}

/** The services `status` asks: a comma-separated list (--services, else SCHEDMESHCTL_SERVICES), else every one. */
export function serviceList(flag: string | undefined, env: NodeJS.ProcessEnv): readonly ServiceName[] {
  const given: Given | undefined = flag !== undefined ? { value: flag, origin: '--services' } : env[`${ENV_PREFIX}SERVICES`] ? { value: env[`${ENV_PREFIX}SERVICES`]!, origin: `${ENV_PREFIX}SERVICES` } : undefined;
  if (!given) return SERVICES;
  const names = given.value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !(SERVICES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) throw CliError.usage(`${given.origin}: expected a comma-separated list of ${SERVICES.join(', ')}; got ${JSON.stringify(given.value)}`);
  // In the usual order, whatever order they were given in.
  return SERVICES.filter((s) => names.includes(s));
}

function timeoutOf(timeout: Given | undefined): number {
  if (!timeout) return DEFAULT_TIMEOUT_MS;
  const ms = parseDuration(timeout.value);
  if (ms === undefined || ms <= 0) throw CliError.usage(`${timeout.origin}: expected a duration such as "500ms", "10s" or "1m", got ${JSON.stringify(timeout.value)}`);
  return ms;
}

function jaegerUrlOf(url: Given | undefined): string {
  if (!url) return DEFAULT_JAEGER_URL;
  let parsed: URL;
  try {
    parsed = new URL(url.value);
  } catch {
    throw CliError.usage(`${url.origin}: expected the Jaeger UI's URL such as ${DEFAULT_JAEGER_URL}, got ${JSON.stringify(url.value)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw CliError.usage(`${url.origin}: expected an http or https URL, got ${JSON.stringify(url.value)}`);
  return url.value.replace(/\/+$/, '');
}

/** TLS to every service: a CA, and for mTLS a certificate and key; each file must be readable now, not at the first call. */
function tlsOf(files: { caFile?: Given | undefined; certFile?: Given | undefined; keyFile?: Given | undefined; serverName?: Given | undefined }): ClientConfig['tls'] {
  const { caFile, certFile, keyFile, serverName } = files;
  if (!caFile) {
    const stray = certFile ?? keyFile ?? serverName;
    if (stray) throw CliError.usage(`${stray.origin} needs --tls-ca (the CA that signs the services' certificates)`);
    return undefined;
  }
  if (!certFile !== !keyFile) throw CliError.usage(`mTLS needs both a client certificate and its key: ${(certFile ?? keyFile)!.origin} is given without ${certFile ? '--tls-key' : '--tls-cert'}`);
  for (const file of [caFile, certFile, keyFile]) {
    if (!file) continue;
    try {
      accessSync(file.value, constants.R_OK);
    } catch (err) {
      throw CliError.usage(`${file.origin}: cannot read ${file.value} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return {
    caFile: caFile.value,
    // A command's channel lives for seconds: the files are read once in practice.
    reloadInterval: DEFAULT_TLS_RELOAD_MS,
    ...(certFile ? { certFile: certFile.value } : {}),
    ...(keyFile ? { keyFile: keyFile.value } : {}),
    ...(serverName ? { serverName: serverName.value } : {}),
  };
}
