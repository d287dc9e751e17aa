// The container image without a container engine (there is none here): the
// Dockerfile's application tree is laid out by the same script
// (deploy/image/layout.sh) from this built repository into a temp dir, its
// production dependencies installed by the same `npm ci --omit=dev` (offline,
// from the npm cache), and every service is run from that tree through the
// image's entrypoint. Not proven here: the Docker build itself (the build
// stage's `npm ci` + `npm run build` in node:20-slim), the non-root user and
// the read-only root file system.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort, startNats, startRedis, startServiceProcess } from '@schedmesh/testkit';
import type { ServiceProcess, TestServer } from '@schedmesh/testkit';

const REPO = resolve(__dirname, '../..');
const SERVICES = readdirSync(join(REPO, 'services'), { withFileTypes: true })
  .filter((d) => existsSync(join(REPO, 'services', d.name, 'package.json')))
  .map((d) => d.name)
  .sort();

let tree: string;

/** The environment of a container: no SCHEDMESH_* variables of this test run. */
function containerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCHEDMESH_'))), ...extra };
}

/** `docker run schedmesh <args>`, with the tree as /app: the exit code and stderr. */
function run(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(join(tree, 'entrypoint.sh'), args, { cwd: tree, env: containerEnv(env), timeout: 60_000 }, (err, _stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

beforeAll(() => {
  for (const svc of SERVICES) {
    if (!existsSync(join(REPO, 'services', svc, 'dist', 'main.js'))) throw new Error(`services/${svc}/dist/main.js is missing: run \`npm run build\` first`);
  }
  tree = mkdtempSync(join(tmpdir(), 'schedmesh-image-'));
  execFileSync('sh', [join(REPO, 'deploy/image/layout.sh'), REPO, tree], { stdio: 'pipe' });
  // What the Dockerfile runs; --offline: the packages come from the npm cache the repository's install filled.
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], { cwd: tree, stdio: 'pipe', env: containerEnv(), timeout: 300_000 });
}, 360_000);

afterAll(() => {
  if (tree) rmSync(tree, { recursive: true, force: true });
});

test('the tree holds built code and production dependencies only', () => {
  const modules = join(tree, 'node_modules');
  for (const dev of ['typescript', 'jest', '@swc/core', 'eslint', 'tsx']) expect(`${dev}: ${existsSync(join(modules, dev))}`).toBe(`${dev}: false`);
  for (const prod of ['@grpc/grpc-js', 'nice-grpc', '@nats-io/jetstream', 'ioredis', '@kubernetes/client-node']) expect(`${prod}: ${existsSync(join(modules, prod))}`).toBe(`${prod}: true`);
  for (const svc of SERVICES) {
    expect(existsSync(join(tree, 'services', svc, 'src'))).toBe(false);
    expect(existsSync(join(modules, '@schedmesh', `${svc}-service`, 'dist', 'main.js'))).toBe(true);
  }
});

test('the command picks the service; a missing or unknown one is refused with the list', async () => {
  for (const args of [[], ['no-such-service']]) {
    const { code, stderr } = await run(args, {});
    expect(code).toBe(64);
    expect(stderr).toContain(`services: ${SERVICES.join(' ')}`);
  }
});

// A configuration error is reported after main.js has loaded every module it
// imports: each service's whole import graph resolves from production dependencies.
test.each(SERVICES)('%s starts from the tree and names a bad configuration key', async (svc) => {
  const { code, stderr } = await run([svc], { SCHEDMESH_GRPC__PORT: 'not-a-port' });
  expect(stderr).toContain(`schedmesh-${svc}: invalid configuration`);
  expect(stderr).toContain('grpc.port: Invalid input: expected number, received string (from SCHEDMESH_GRPC__PORT)');
  expect(code).toBe(1);
}, 60_000);

describe('services run from the tree', () => {
  let nats: TestServer;
  let redis: TestServer;
  let logs: string;
  const procs: ServiceProcess[] = [];

  beforeAll(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    logs = mkdtempSync(join(tmpdir(), 'schedmesh-image-logs-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all([nats?.stop(), redis?.stop()]);
    if (logs) rmSync(logs, { recursive: true, force: true });
  }, 60_000);

  async function start(service: string, env: Record<string, string>, args: string[] = []): Promise<ServiceProcess> {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const proc = startServiceProcess({
      service,
      root: tree,
      logDir: logs,
      httpPort,
      args,
      env: {
        SCHEDMESH_GRPC__HOST: '127.0.0.1',
        SCHEDMESH_GRPC__PORT: String(grpcPort),
        SCHEDMESH_HTTP__HOST: '127.0.0.1',
        SCHEDMESH_HTTP__PORT: String(httpPort),
        SCHEDMESH_NATS__URL: nats.url,
        ...env,
      },
    });
    procs.push(proc);
    return proc;
  }

  test('the informer (fixture), snapshot and reservation become ready', async () => {
    const fixture = join(logs, 'cluster.yaml');
    writeFileSync(fixture, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'image-node' }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } } }));
    const informer = await start('informer', { SCHEDMESH_NATS__MEMORY_STORAGE: 'true' }, ['--fixture', fixture]);
    const snapshot = await start('snapshot', {});
    const reservation = await start('reservation', { SCHEDMESH_REDIS__URL: redis.url });
    await Promise.all([informer.ready(), snapshot.ready(), reservation.ready()]);
    expect(informer.exit()).toBeUndefined();
  }, 120_000);
});
