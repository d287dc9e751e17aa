// extender benchmark: filter and prioritize latency (p50/p99) at 5,000 nodes,
// names only (nodeCacheCapable: true), over real HTTP against the extender on
// the real filterscore and snapshot services (NATS JetStream → snapshot →
// Watch → filterscore replica; the extender follows the same stream), versus a
// baseline in the same run: an HTTP server that decodes the same request JSON
// and encodes an answer of the same shape, and does nothing else. Requests are
// sent one at a time on a keep-alive connection, as kube-scheduler's cycle
// calls them.
//   npm run build && npx tsx bench/extender.bench.ts
// BENCH_NAMES=5000,500 (names per request: every node, and the ~10% kube-scheduler's
// adaptive percentageOfNodesToScore passes at 5,000 nodes), BENCH_CALLS=200, BENCH_NODES=5000;
// BENCH_CPU_PROF=DIR writes a CPU profile of each measured extender row (bench/cpuprofile-top.ts reads it).
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { extenderConfigSchema, startExtenderApp } from '@schedmesh/extender-service';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { ensureClusterStreamFrom } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import { clusterEvent, makeNode, makePod, startNats } from '@schedmesh/testkit';
import { printTable, profiled, publishAll, runBench } from './support.js';

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const NAMES = (process.env.BENCH_NAMES ?? `${NODES},${Math.round(NODES / 10)}`).split(',').map(Number);
const CALLS = Number(process.env.BENCH_CALLS ?? 200);
const WARMUP = 30;
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/** Nodes in 3 zones and 40 racks, two bound pods each. */
function cluster(): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  for (let n = 0; n < NODES; n++) events.push(clusterEvent(makeNode(`node-${n}`).capacity('32', '128Gi', 110).zone(`zone-${n % 3}`).rack(`rack-${n % 40}`).build()));
  for (let n = 0; n < NODES; n++) {
    for (let p = 0; p < 2; p++) events.push(clusterEvent(makePod(`app-${n}-${p}`, 'shop').requests('500m', '1Gi').label('app', `app-${p}`).on(`node-${n}`).build()));
  }
  return events;
}

/** The v1.Pod kube-scheduler sends: the API object as JSON, with a zone preference for TopologyAware. */
function v1Pod(i: number): Record<string, unknown> {
  return {
    metadata: {
      name: `incoming-${i}`,
      namespace: 'shop',
      uid: `uid-incoming-${i}`,
      labels: { app: 'web', 'pod-template-hash': '5d8f7c' },
      annotations: { 'schedmesh.io/preferred-zone': 'zone-1' },
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: {
      schedulerName: 'default-scheduler',
      priority: 0,
      containers: [{ name: 'web', image: 'registry.example/web:1.2.3', ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '2Gi' } } }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: { phase: 'Pending' },
  };
}

/** The baseline: decode ExtenderArgs, encode a result of the verb's shape for every name, nothing else. */
async function startBaseline(): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const args = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Pod: unknown; NodeNames: string[] };
      const names = args.NodeNames;
      const body = req.url?.endsWith('/filter')
        ? { Nodes: null, NodeNames: names, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' }
        : names.map((n) => ({ Host: n, Score: 0 }));
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
    });
    // A kept-alive socket the server closed while this process was busy (writing a profile, say): retry on a fresh one, as Node's docs advise.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && err.code === 'ECONNRESET') post(url, body).then(resolve, reject);
      else reject(err);
    });
    req.end(body);
  });
}

interface Stats {
  p50: number;
  p99: number;
  /** CPU time of this process (client, extender and services together) per call: steadier than latency on a shared machine. */
  cpuMs: number;
}

async function measure(url: string, bodies: readonly string[]): Promise<Stats> {
  for (let i = 0; i < WARMUP; i++) await post(url, bodies[i % bodies.length]!);
  const samples: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await post(url, bodies[i % bodies.length]!);
    samples.push(performance.now() - t0);
  }
  const used = process.cpuUsage(cpu);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), cpuMs: (used.user + used.system) / 1000 / CALLS };
}

async function main(): Promise<void> {
  log(`extender benchmark: ${NODES} nodes, names only; ${CALLS} sequential calls per row after ${WARMUP} warm-up; default profile`);
  const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };
  const grpc = { host: '127.0.0.1', port: 0 };
  const nats = await startNats();
  const natsBlock = { url: nats.url };
  const snapshotConfig = snapshotConfigSchema.parse({ ...common, grpc, nats: natsBlock });
  await ensureClusterStreamFrom(snapshotConfig.nats); // no informer: the bench publishes the cluster
  const snapshot = await startSnapshotApp(snapshotConfig, { handleSignals: false });
  const head = await publishAll(nats.url, cluster());
  const filterscore = await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc, snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }), { handleSignals: false });
  // filter and prioritize never call the API server: a kubeconfig that points nowhere will do.
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({ clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }], users: [{ name: 'none' }], contexts: [{ name: 'none', cluster: 'none', user: 'none' }], currentContext: 'none' });
  const extender = await startExtenderApp(
    extenderConfigSchema.parse({ ...common, grpc, nats: natsBlock, filterscore: { address: `127.0.0.1:${filterscore.grpcPort}` }, extender: { host: '127.0.0.1', port: 0, instance: 'bench' } }),
    { handleSignals: false, kubeConfig },
  );
  while (!(filterscore.replica.gate.synced && filterscore.replica.generation >= head && extender.gate?.synced && (extender.gate?.generation ?? 0) >= head)) await new Promise((r) => setTimeout(r, 50));
  const baseline = await startBaseline();

  const rows: string[][] = [];
  for (const names of NAMES) {
    const nodeNames = Array.from({ length: names }, (_, i) => `node-${Math.floor((i * NODES) / names)}`);
    const bodies = Array.from({ length: 16 }, (_, i) => JSON.stringify({ Pod: v1Pod(i), Nodes: null, NodeNames: nodeNames }));
    // Every name must be answered (exhaustive filtering): check once before measuring.
    const probe = JSON.parse(await post(`${extender.server.urlPrefix}/filter`, bodies[0]!)) as { NodeNames: string[]; Error: string };
    if (probe.Error || probe.NodeNames.length !== names) throw new Error(`filter answered ${probe.NodeNames.length}/${names} names: ${probe.Error}`);
    for (const verb of ['filter', 'prioritize']) {
      const mesh = await profiled(`extender-${verb}-${names}`, () => measure(`${extender.server.urlPrefix}/${verb}`, bodies));
      const base = await measure(`${baseline.url}/${verb}`, bodies);
      rows.push([
        verb,
        String(names),
        fmt(mesh.p50),
        fmt(mesh.p99),
        fmt(base.p50),
        fmt(base.p99),
        `${fmt(mesh.p50 / base.p50, 1)}×`,
        `${fmt(mesh.p99 / base.p99, 1)}×`,
        fmt(mesh.cpuMs),
        fmt(base.cpuMs),
      ]);
    }
  }
  const header = ['verb', 'names', 'extender p50 ms', 'extender p99 ms', 'baseline p50 ms', 'baseline p99 ms', 'p50 ratio', 'p99 ratio', 'extender CPU ms/call', 'baseline CPU ms/call'];
  printTable(log, header, rows);
  log('baseline = the same JSON decoded and an answer of the same shape encoded, in the same process, nothing else.');
  log("CPU ms/call = this process's CPU time (client, extender, filterscore, snapshot) per call; latency also waits for other processes on the machine.");

  agent.destroy();
  baseline.close();
  await extender.stop();
  await filterscore.stop();
  await snapshot.stop();
  await nats.stop();
}

runBench('extender', main);
