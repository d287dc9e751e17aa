import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A server started for tests. */
export interface TestServer {
  /** The URL clients connect to ("redis://127.0.0.1:PORT", "nats://127.0.0.1:PORT"). */
  readonly url: string;
  /** The port; it stays the same across {@link restart}. */
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its data directory. */
  stop(): Promise<void>;
  /** Kills the server abruptly and starts it again on the same port. Redis without persistence comes back empty. */
  restart(): Promise<void>;
}

/** Thrown when a server binary is missing or the server does not start. */
export class TestServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestServerError';
  }
}

const installHints: Record<string, string> = {
  'redis-server': 'apt-get install -y redis-server (or: npm run setup)',
  'nats-server': 'apt-get install -y nats-server (or: npm run setup)',
};

/** The path of redis-server or nats-server on PATH; a TestServerError saying how to install it if it is missing. */
export function requireServerBinary(name: 'redis-server' | 'nats-server'): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new TestServerError(`${name} not found on PATH; install it with: ${installHints[name] ?? name}`);
  }
  return path;
}

// Ports handed out by this process: each is given once.
const handedOut = new Set<number>();

// Ports are picked below the kernel's ephemeral range (ip_local_port_range,
// 32768-60999 by default). A port in that range that was free a moment ago
// can become any outgoing connection's source port before the child it was
// given to binds it (seen in CI: a service's listen failed EADDRINUSE while
// other test workers opened connections). Below it, only another listener
// that picks the same number can take it.
const PICK_FROM = 20_000;
const PICK_TO = 32_767;

/** Whether `port` can be bound on the loopback address right now (it is closed again before this resolves). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1, outside the ephemeral range, that was free a moment ago and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = PICK_FROM + Math.floor(Math.random() * (PICK_TO - PICK_FROM + 1));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port between ${PICK_FROM} and ${PICK_TO} on 127.0.0.1 after 500 tries`);
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

interface Launch {
  child: ChildProcess;
  output: () => string;
}

/** Spawns `bin` and resolves once a line of its output matches `ready`. */
async function launch(bin: string, args: string[], ready: RegExp, timeoutMs: number, env?: Record<string, string>): Promise<Launch> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new TestServerError(`${bin} did not become ready within ${timeoutMs} ms; output:\n${out.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.length > 64_000) out = out.slice(-32_000);
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new TestServerError(`${bin} exited with code ${code} before it was ready; output:\n${out.slice(-2000)}`));
    });
  });
  return { child, output: () => out };
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** Retries a start when the chosen port was taken between probing and binding. */
async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await start(await freePort());
    } catch (err) {
      lastError = err;
      if (!/in use|EADDRINUSE/i.test(String((err as Error).message))) throw err;
    }
  }
  throw lastError;
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Persistence: an append-only file in the server's directory (fsync every second), so a restart reloads the data. */
  readonly appendonly?: boolean;
  /** A replica of the Redis on this loopback port (REPLICAOF), read-only until promoted. */
  readonly replicaOf?: number;
}

/** A redis-server started for tests. */
export interface RedisServer extends TestServer {
  /**
   * Kills the server abruptly and starts it again on the same port: it
   * reloads its append-only file if it has one, unless `wipe` removes its
   * data first (a restart without persistence).
   */
  restart(options?: { readonly wipe?: boolean }): Promise<void>;
}

/**
 * Starts Debian's redis-server on a free loopback port; by default with no
 * persistence (a restart brings it back empty, as a crashed cache would).
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = requireServerBinary('redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'schedmesh-redis-'));
  const args = (port: number): string[] => [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', options.appendonly ? 'yes' : 'no',
    '--dir', dir, '--protected-mode', 'no', '--loglevel', 'notice',
    ...(options.replicaOf !== undefined ? ['--replicaof', '127.0.0.1', String(options.replicaOf)] : []),
  ];
  const start = async (port: number): Promise<Launch> => launch(bin, args(port), /Ready to accept connections/, 30_000);
  let port = 0;
  let current = await onFreePort(async (p) => {
    const l = await start(p);
    port = p;
    return l;
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await terminate(current.child);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart(restartOptions = {}) {
      await terminate(current.child, 'SIGKILL');
      if (restartOptions.wipe) for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
      current = await start(port);
    },
  };
}

/** Options of {@link startNats}. */
export interface NatsServerOptions {
  /** Enable JetStream with a temporary store (default true). */
  jetstream?: boolean;
  /** A nats-server configuration file (users, permissions); the port and store still come from here. */
  configFile?: string;
  /** Environment of the server: values for the `$VARIABLE`s the configuration file references. */
  env?: Record<string, string>;
}

/**
 * Starts Debian's nats-server on a free loopback port, with JetStream stored in
 * a temporary directory that survives {@link TestServer.restart} (as a real
 * server's disk would).
 */
export async function startNats(options: NatsServerOptions = {}): Promise<TestServer> {
  const bin = requireServerBinary('nats-server');
  const dir = mkdtempSync(join(tmpdir(), 'schedmesh-nats-'));
  const args = (port: number): string[] => [
    ...(options.configFile ? ['-c', options.configFile] : []),
    '-a', '127.0.0.1', '-p', String(port), ...(options.jetstream === false ? [] : ['-js', '-sd', dir]),
  ];
  const start = async (port: number): Promise<Launch> => launch(bin, args(port), /Server is ready/, 10_000, options.env);
  let port = 0;
  let current = await onFreePort(async (p) => {
    const l = await start(p);
    port = p;
    return l;
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await terminate(current.child);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await terminate(current.child, 'SIGKILL');
      current = await start(port);
    },
  };
}

/** Environment variables through which the jest global set-up hands server URLs to tests. */
export const testEnvKeys = {
  redisUrl: 'SCHEDMESH_TEST_REDIS_URL',
  natsUrl: 'SCHEDMESH_TEST_NATS_URL',
} as const;

/** The shared servers the global set-up started; fails with a clear message outside jest's set-up. */
export function sharedServers(): { redisUrl: string; natsUrl: string } {
  const redisUrl = process.env[testEnvKeys.redisUrl];
  const natsUrl = process.env[testEnvKeys.natsUrl];
  if (!redisUrl || !natsUrl) {
    throw new TestServerError(
      `${testEnvKeys.redisUrl}/${testEnvKeys.natsUrl} are not set: run tests through jest (test/jest/global-setup.ts starts the servers)`,
    );
  }
  return { redisUrl, natsUrl };
}
