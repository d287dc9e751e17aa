// Gateway benchmark: what the REST plugin gateway adds to a plugin call, and
// how many invocations it serves with 4 plugins.
//
//   npx tsx bench/gateway.bench.ts      (after `npm run build`: the libraries load from dist)
//   GATEWAY_CPU_PROF=/tmp/prof npx tsx bench/gateway.bench.ts   (the gateway process writes a --cpu-prof profile there)
//   GATEWAY_BASELINE_ROOT=/tmp/old npx tsx bench/gateway.bench.ts
//     (also runs the gateway of another tree — e.g. `git archive <rev> services/gateway/src` with this
//      tree's node_modules linked in — and calls both alternately: a before/after ratio from one run)
//
// The gateway runs as its own process (services/gateway/src/main.ts under
// tsx), as deployed; a minimal plugin runs here and, as a deployed plugin
// would, in a process of its own (this file with --plugin); the clients run here.
// The direct call to the plugin in this process costs no hop between
// processes while the gateway's call costs four, so on a loaded machine the
// ratio against the plugin in its own process is the fair one; both are printed. Everything is
// on 127.0.0.1, every loop is bounded in count and in time, and the figures
// that matter are ratios against a baseline measured in the same run (the
// machine is shared and noisy).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import { Code, ExtensionPoint, Node, Pod } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import { runBench } from './support.js';

const NODES = 10;
const LATENCY_CALLS = 1500;
const WARMUP_CALLS = 200;
const THROUGHPUT_CALLS = 3000;
const CONCURRENCY = 16;
const PHASE_LIMIT_MS = 20_000;

const pod = Pod.fromPartial({ uid: 'bench-pod', namespace: 'team-a', name: 'web-0', resourceVersion: '1', labels: { app: 'web', 'cost-center': 'cc-1' }, requests: { milliCpu: 500, memory: 268435456 } });
const nodes = Array.from({ length: NODES }, (_, i) => Node.fromPartial({ name: `node-${i}`, resourceVersion: String(i + 1), labels: { 'topology.kubernetes.io/zone': `z${i % 3}` }, allocatable: { milliCpu: 4000, memory: 8 * 1024 ** 3, pods: 110 } }));

// The fast plugin: accepts every node at once, no work beyond reading the body;
// under /pre a v1 preFilter answer, under /verdict the same in the verdict protocol.
const answer = JSON.stringify({ apiVersion: 'schedmesh.io/plugin/v1', status: 'Success', rejected: [] });
const preFilterAnswer = JSON.stringify({ apiVersion: 'schedmesh.io/plugin/v1', status: 'Success' });
const verdictAnswer = JSON.stringify({ allowed: true });
function startPlugin(): Promise<Server> {
  const server = createServer((req, res) => {
    const text = req.url === '/verdict' ? verdictAnswer : req.url === '/pre' ? preFilterAnswer : answer;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text));
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The fast plugin in a process of its own (this file with --plugin); resolves with its port. */
function startPluginProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--plugin'], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the plugin process did not start within 120 s')), 120_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^port (\d+)$/m.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the plugin process exited with code ${code}`));
    });
  });
}

function startGateway(pluginsFile: string, root = join(__dirname, '..')): Promise<{ child: ChildProcess; grpcPort: number }> {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('SCHEDMESH_')) delete env[key];
  Object.assign(env, {
    SCHEDMESH_GRPC__HOST: '127.0.0.1',
    SCHEDMESH_GRPC__PORT: '0',
    SCHEDMESH_HTTP__HOST: '127.0.0.1',
    SCHEDMESH_HTTP__PORT: '0',
    SCHEDMESH_LOG__LEVEL: 'info',
    SCHEDMESH_GATEWAY__PLUGINS_FILE: pluginsFile,
  });
  const profile = process.env.GATEWAY_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.GATEWAY_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'services/gateway/src/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 120 s:\n${out.slice(-2000)}`)), 120_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = /"grpcPort":(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({ child, grpcPort: Number(match[1]) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with code ${code}:\n${out.slice(-2000)}`));
    });
  });
}

interface Stats {
  calls: number;
  p50: number;
  p99: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { calls: sorted.length, p50: at(0.5), p99: at(0.99), mean: sorted.reduce((s, x) => s + x, 0) / sorted.length };
}

/** Runs `call` one at a time: WARMUP_CALLS discarded, then up to `count` timed calls (ms each). */
async function sequential(count: number, call: () => Promise<unknown>): Promise<Stats> {
  const warm = performance.now() + PHASE_LIMIT_MS;
  for (let i = 0; i < WARMUP_CALLS && performance.now() < warm; i++) await call();
  const samples: number[] = [];
  const stop = performance.now() + PHASE_LIMIT_MS;
  for (let i = 0; i < count && performance.now() < stop; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return stats(samples);
}

/** Runs `a` and `b` alternately, one call at a time, so both see the same noise: WARMUP_CALLS pairs discarded, then up to `count` timed pairs. */
async function interleaved(count: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[Stats, Stats]> {
  const warm = performance.now() + PHASE_LIMIT_MS;
  for (let i = 0; i < WARMUP_CALLS && performance.now() < warm; i++) {
    await a();
    await b();
  }
  const samples: [number[], number[]] = [[], []];
  const stop = performance.now() + PHASE_LIMIT_MS;
  for (let i = 0; i < count && performance.now() < stop; i++) {
    for (const [j, call] of [a, b].entries()) {
      const started = performance.now();
      await call();
      samples[j]!.push(performance.now() - started);
    }
  }
  return [stats(samples[0]), stats(samples[1])];
}

/** Runs up to `count` calls with `concurrency` in flight; returns calls per second. */
async function throughput(count: number, concurrency: number, call: () => Promise<unknown>): Promise<{ calls: number; perSecond: number }> {
  let issued = 0;
  const started = performance.now();
  const stop = started + PHASE_LIMIT_MS;
  const worker = async (): Promise<void> => {
    while (issued < count && performance.now() < stop) {
      issued++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { calls: issued, perSecond: issued / ((performance.now() - started) / 1000) };
}

async function main(): Promise<void> {
  const plugin = await startPlugin();
  const pluginPort = (plugin.address() as AddressInfo).port;
  const remote = await startPluginProcess();
  const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
  const pluginsFile = join(dir, 'plugins.yaml');
  writeFileSync(
    pluginsFile,
    `plugins:\n${[1, 2, 3, 4]
      .map((i) => `- {name: p${i}, type: rest, endpoint: "http://127.0.0.1:${pluginPort}/p${i}", extensionPoints: [filter], timeout: 10s, failurePolicy: Fail}`)
      .join('\n')}\n` +
      // The same call at preFilter in two protocols: what translating a verdict costs against v1.
      `- {name: pre-v1, type: rest, endpoint: "http://127.0.0.1:${pluginPort}/pre", extensionPoints: [preFilter], timeout: 10s}\n` +
      `- {name: pre-verdict, type: rest, protocol: verdict, endpoint: "http://127.0.0.1:${pluginPort}/verdict", extensionPoints: [preFilter], timeout: 10s}\n` +
      `- {name: remote, type: rest, endpoint: "http://127.0.0.1:${remote.port}/p1", extensionPoints: [filter], timeout: 10s, failurePolicy: Fail}\n`,
  );
  const { child, grpcPort } = await startGateway(pluginsFile);
  const channel = connectChannel(`127.0.0.1:${grpcPort}`);
  const client = createServiceClient(GatewayServiceDefinition, channel, { retryMaxAttempts: 1 });
  const baselineRoot = process.env.GATEWAY_BASELINE_ROOT;
  const baseline = baselineRoot ? await startGateway(pluginsFile, baselineRoot) : undefined;
  const baselineChannel = baseline ? connectChannel(`127.0.0.1:${baseline.grpcPort}`) : undefined;
  try {
    // Baseline: the same request body straight to the plugin over a keep-alive connection.
    const body = JSON.stringify({
      apiVersion: 'schedmesh.io/plugin/v1', kind: 'PluginRequest', requestId: 'bench', plugin: 'p1', extensionPoint: 'filter',
      pod: Pod.toJSON(pod), nodes: nodes.map((n) => Node.toJSON(n)),
    });
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const directTo = (port: number) => (): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/p1', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(JSON.parse(text)));
        });
        req.on('error', reject);
        req.end(body);
      });
    const direct = directTo(pluginPort);
    const directRemote = directTo(remote.port);
    const viaGateway = (plugins: string[], via = client) => async (): Promise<unknown> => {
      const reply = await via.invoke({ point: ExtensionPoint.EXTENSION_POINT_FILTER, pod, nodes, plugins });
      if (reply.feasible.length !== NODES) throw new Error(`unexpected reply: ${JSON.stringify(reply.status)}`);
      return reply;
    };

    const preFilter = (plugin: string) => async (): Promise<unknown> => {
      const reply = await client.invoke({ point: ExtensionPoint.EXTENSION_POINT_PRE_FILTER, pod, nodes: [], plugins: [plugin] });
      if (reply.results[0]?.status?.code !== Code.CODE_SUCCESS) throw new Error(`unexpected reply: ${JSON.stringify(reply.results[0])}`);
      return reply;
    };

    const directLatency = await sequential(LATENCY_CALLS, direct);
    const grpcLatency = await sequential(LATENCY_CALLS, () => client.listPlugins({}));
    const gatewayLatency = await sequential(LATENCY_CALLS, viaGateway(['p1']));
    const [directRemoteLatency, gatewayRemoteLatency] = await interleaved(LATENCY_CALLS, directRemote, viaGateway(['remote']));
    const versus = baselineChannel
      ? await interleaved(LATENCY_CALLS, viaGateway(['remote'], createServiceClient(GatewayServiceDefinition, baselineChannel, { retryMaxAttempts: 1 })), viaGateway(['remote']))
      : undefined;
    const [v1PreFilter, verdictPreFilter] = await interleaved(LATENCY_CALLS, preFilter('pre-v1'), preFilter('pre-verdict'));

    const ms = (x: number): string => x.toFixed(3);
    const row = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(44) : c.padStart(10))).join(' ');
    console.log(`\ngateway benchmark — filter with ${NODES} nodes, loopback, gateway in its own process\n`);
    console.log(row(['latency, one call at a time', 'calls', 'p50 ms', 'p99 ms', 'mean ms']));
    console.log(row(['direct HTTP to the plugin (baseline)', String(directLatency.calls), ms(directLatency.p50), ms(directLatency.p99), ms(directLatency.mean)]));
    console.log(row(['gRPC round trip alone (ListPlugins)', String(grpcLatency.calls), ms(grpcLatency.p50), ms(grpcLatency.p99), ms(grpcLatency.mean)]));
    console.log(row(['gRPC → gateway → plugin (1 plugin)', String(gatewayLatency.calls), ms(gatewayLatency.p50), ms(gatewayLatency.p99), ms(gatewayLatency.mean)]));
    console.log(row(['ratio gateway / direct', '', (gatewayLatency.p50 / directLatency.p50).toFixed(2), (gatewayLatency.p99 / directLatency.p99).toFixed(2), (gatewayLatency.mean / directLatency.mean).toFixed(2)]));
    console.log(row(['overhead per call (gateway − direct)', '', ms(gatewayLatency.p50 - directLatency.p50), ms(gatewayLatency.p99 - directLatency.p99), ms(gatewayLatency.mean - directLatency.mean)]));
    console.log();
    console.log(row(['plugin in its own process (interleaved)', 'calls', 'p50 ms', 'p99 ms', 'mean ms']));
    console.log(row(['direct HTTP to the plugin (baseline)', String(directRemoteLatency.calls), ms(directRemoteLatency.p50), ms(directRemoteLatency.p99), ms(directRemoteLatency.mean)]));
    console.log(row(['gRPC → gateway → plugin', String(gatewayRemoteLatency.calls), ms(gatewayRemoteLatency.p50), ms(gatewayRemoteLatency.p99), ms(gatewayRemoteLatency.mean)]));
    console.log(row(['ratio gateway / direct', '', (gatewayRemoteLatency.p50 / directRemoteLatency.p50).toFixed(2), (gatewayRemoteLatency.p99 / directRemoteLatency.p99).toFixed(2), (gatewayRemoteLatency.mean / directRemoteLatency.mean).toFixed(2)]));
    console.log(row(['ratio (gateway − gRPC round trip) / direct', '', ((gatewayRemoteLatency.p50 - grpcLatency.p50) / directRemoteLatency.p50).toFixed(2), '', '']));
    console.log();
    if (versus) {
      const [before, after] = versus;
      console.log(row([`this gateway vs ${baselineRoot} (interleaved)`, 'calls', 'p50 ms', 'p99 ms', 'mean ms']));
      console.log(row(['baseline gateway → plugin', String(before.calls), ms(before.p50), ms(before.p99), ms(before.mean)]));
      console.log(row(['this gateway → plugin', String(after.calls), ms(after.p50), ms(after.p99), ms(after.mean)]));
      console.log(row(['ratio this / baseline', '', (after.p50 / before.p50).toFixed(2), (after.p99 / before.p99).toFixed(2), (after.mean / before.mean).toFixed(2)]));
      console.log();
    }
    console.log(row(['preFilter by protocol (interleaved)', 'calls', 'p50 ms', 'p99 ms', 'mean ms']));
    console.log(row(['schedmesh.io/plugin/v1 (baseline)', String(v1PreFilter.calls), ms(v1PreFilter.p50), ms(v1PreFilter.p99), ms(v1PreFilter.mean)]));
    console.log(row(['verdict', String(verdictPreFilter.calls), ms(verdictPreFilter.p50), ms(verdictPreFilter.p99), ms(verdictPreFilter.mean)]));
    console.log(row(['ratio verdict / v1', '', (verdictPreFilter.p50 / v1PreFilter.p50).toFixed(2), (verdictPreFilter.p99 / v1PreFilter.p99).toFixed(2), (verdictPreFilter.mean / v1PreFilter.mean).toFixed(2)]));
    console.log();
    // Latency first, printed before the throughput phases start: on a loaded machine those take longest.
    const directRate = await throughput(THROUGHPUT_CALLS * 4, CONCURRENCY, direct);
    const oneRate = await throughput(THROUGHPUT_CALLS, CONCURRENCY, viaGateway(['p1']));
    const fourRate = await throughput(THROUGHPUT_CALLS, CONCURRENCY, viaGateway([]));
    agent.destroy();
    console.log(row([`throughput, ${CONCURRENCY} in flight`, 'calls', 'calls/s', 'plugin/s', '']));
    console.log(row(['direct HTTP to the plugin (baseline)', String(directRate.calls), directRate.perSecond.toFixed(0), directRate.perSecond.toFixed(0), '']));
    console.log(row(['gateway, 1 plugin', String(oneRate.calls), oneRate.perSecond.toFixed(0), oneRate.perSecond.toFixed(0), '']));
    console.log(row(['gateway, 4 plugins (concurrent per call)', String(fourRate.calls), fourRate.perSecond.toFixed(0), (fourRate.perSecond * 4).toFixed(0), '']));
    console.log(row(['ratio 4 plugins / 1 plugin (invocations/s)', '', (fourRate.perSecond / oneRate.perSecond).toFixed(2), '', '']));
    console.log();
  } finally {
    channel.close();
    baselineChannel?.close();
    child.kill('SIGTERM');
    baseline?.child.kill('SIGTERM');
    remote.child.kill('SIGTERM');
    plugin.closeAllConnections();
    await new Promise((resolve) => plugin.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--plugin') {
  // The plugin process: serves until the benchmark kills it.
  void startPlugin().then((server) => console.log(`port ${(server.address() as AddressInfo).port}`));
} else runBench('gateway', main);
