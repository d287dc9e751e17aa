// Snapshot benchmark: a 5,000-node / 50,000-pod cluster.
//   npx tsx --expose-gc bench/snapshot.bench.ts   (after npm run build)
// Prints: events applied per second in-process (and the ratio to a bare Map
// baseline over the same events), memory per node, end-to-end sync through
// real NATS JetStream, and Watch delta fan-out to 4 gRPC clients.
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, ensureClusterStreamFrom, natsConfigSchema, publishClusterEvent } from '@schedmesh/runtime';
import { snapshotConfigSchema, SnapshotState, startSnapshotApp } from '@schedmesh/snapshot-service';
import { clusterEvent, makeNode, makePod, startNats } from '@schedmesh/testkit';
import { runBench } from './support.js';

const NODES = Number(process.env.BENCH_NODES ?? 5_000);
const PODS_PER_NODE = Number(process.env.BENCH_PODS_PER_NODE ?? 10);
const DELTAS = Number(process.env.BENCH_DELTAS ?? 10_000);
const WATCHERS = 4;

const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  return process.memoryUsage().heapUsed;
};
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const log = (line: string): void => void process.stdout.write(`${line}\n`);

function cluster(): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  for (let n = 0; n < NODES; n++) {
    const name = `node-${n}`;
    events.push(clusterEvent(makeNode(name).capacity('32', '128Gi', 110).zone(`zone-${n % 3}`).pool(`pool-${n % 5}`).rack(`rack-${n % 50}`).build()));
  }
  for (let n = 0; n < NODES; n++) {
    for (let p = 0; p < PODS_PER_NODE; p++) {
      events.push(clusterEvent(makePod(`app-${n}-${p}`, `ns-${p}`).requests('250m', '512Mi').label('app', `app-${p}`).on(`node-${n}`).build()));
    }
  }
  return events.map((e, i) => ({ ...e, generation: i + 1 }));
}

async function main(): Promise<void> {
  log(`snapshot benchmark: ${fmt(NODES)} nodes, ${fmt(NODES * PODS_PER_NODE)} pods, gc ${gc ? 'exposed' : 'NOT exposed (run with --expose-gc for memory figures)'}`);
  const events = cluster();

  // 1. In-process apply vs a bare Map of the same objects (the floor of any store).
  const rounds = 3;
  let applyMs = Infinity;
  let baselineMs = Infinity;
  let bytesPerNode = 0;
  for (let r = 0; r < rounds; r++) {
    const before = heap();
    const t0 = performance.now();
    const state = new SnapshotState();
    for (const e of events) state.apply(e);
    applyMs = Math.min(applyMs, performance.now() - t0);
    bytesPerNode = (heap() - before) / NODES;
    if (state.nodeSize !== NODES) throw new Error('state incomplete');

    const t1 = performance.now();
    const bare = new Map<string, ClusterEvent>();
    for (const e of events) bare.set(e.object!.$case === 'pod' ? `${e.object.value.namespace}/${e.object.value.name}` : e.object!.value.name, e);
    baselineMs = Math.min(baselineMs, performance.now() - t1);
  }
  log('');
  log('| in-process apply | value |');
  log('|---|---|');
  log(`| events applied/s (SnapshotState: the shared ClusterSnapshot, incremental NodeInfo) | ${fmt(events.length / (applyMs / 1000))} |`);
  log(`| events/s baseline (Map.set of the same objects) | ${fmt(events.length / (baselineMs / 1000))} |`);
  log(`| cost ratio apply / baseline | ${fmt(applyMs / baselineMs, 1)}x |`);
  log(`| heap per node (node + ${PODS_PER_NODE} pods + indexes) | ${gc ? `${fmt(bytesPerNode / 1024, 1)} KiB` : 'n/a'} |`);

  // 2. End to end: publish to JetStream, then a snapshot replica replays it.
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  const js = jetstream(nc);
  await ensureClusterStreamFrom(natsConfigSchema.parse({ url: nats.url })); // no informer here: the bench stands in for it
  const app0 = await startSnapshotApp(
    snapshotConfigSchema.parse({ grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, nats: { url: nats.url } }),
    { handleSignals: false },
  );
  const tp = performance.now();
  const window = 256;
  let inflight: Promise<unknown>[] = [];
  for (const e of events) {
    inflight.push(publishClusterEvent(js, { ...e, generation: 0 }));
    if (inflight.length >= window) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  const publishMs = performance.now() - tp;
  await waitFor(() => app0.store.generation >= events.length, 120_000);
  await app0.stop();

  const ts = performance.now();
  const app = await startSnapshotApp(
    snapshotConfigSchema.parse({ grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, nats: { url: nats.url } }),
    { handleSignals: false },
  );
  await waitFor(() => app.store.gate.synced && app.store.generation >= events.length, 120_000);
  const syncMs = performance.now() - ts;
  log('');
  log('| through NATS JetStream | value |');
  log('|---|---|');
  log(`| publish rate (informer side, ${window} in flight) | ${fmt(events.length / (publishMs / 1000))} events/s |`);
  log(`| replica start → in sync (replay of ${fmt(events.length)} events) | ${fmt(syncMs)} ms = ${fmt(events.length / (syncMs / 1000))} events/s |`);

  // 3. Watch fan-out: 4 clients take the full state, then DELTAS pod updates.
  const channel = connectChannel(`127.0.0.1:${app.grpcPort}`);
  const client = createServiceClient(SnapshotServiceDefinition, channel);
  const received = new Array<number>(WATCHERS).fill(0);
  const syncedAt = new Array<number>(WATCHERS).fill(0);
  const ac = new AbortController();
  const t3 = performance.now();
  const sessions = received.map(async (_, i) => {
    try {
      for await (const frame of client.watch({ fromGeneration: 0, maxBatch: 5000 }, { signal: ac.signal })) {
        if (frame.synced) syncedAt[i] = performance.now() - t3;
        else if (syncedAt[i] !== 0) received[i]! += frame.events.length;
      }
    } catch {
      // aborted at the end
    }
  });
  await waitFor(() => syncedAt.every((t) => t > 0), 120_000);
  const fullStateMs = Math.max(...syncedAt);
  const head = app.store.generation;
  const t4 = performance.now();
  inflight = [];
  for (let i = 0; i < DELTAS; i++) {
    const n = i % NODES;
    inflight.push(publishClusterEvent(js, clusterEvent(makePod(`app-${n}-0`, 'ns-0').requests('300m', '512Mi').label('app', 'app-0').on(`node-${n}`).version(`d${i}`).build())));
    if (inflight.length >= window) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  await waitFor(() => received.every((r) => r >= DELTAS) && app.store.generation >= head + DELTAS, 120_000);
  const fanoutMs = performance.now() - t4;
  ac.abort();
  await Promise.all(sessions);
  log('');
  log(`| Watch fan-out to ${WATCHERS} clients | value |`);
  log('|---|---|');
  log(`| full state to all ${WATCHERS} (${fmt(events.length)} objects each) | ${fmt(fullStateMs)} ms |`);
  log(`| ${fmt(DELTAS)} deltas published → received by all ${WATCHERS} | ${fmt(fanoutMs)} ms |`);
  log(`| delta throughput per client | ${fmt(DELTAS / (fanoutMs / 1000))} events/s |`);
  log(`| delta throughput, all clients | ${fmt((WATCHERS * DELTAS) / (fanoutMs / 1000))} events/s |`);

  channel.close();
  await app.stop();
  await nc.close();
  await nats.stop();
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error('benchmark condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

runBench('snapshot', main);
