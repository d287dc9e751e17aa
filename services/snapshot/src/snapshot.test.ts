// The snapshot service in-process over real NATS JetStream and real gRPC.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { createClient, Status } from 'nice-grpc';
import type { Channel } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { HealthCheckResponse_ServingStatus } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import type { NodeInfo } from '@schedmesh/proto/v1/snapshot';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, ensureClusterStreamFrom, publishClusterEvent } from '@schedmesh/runtime';
import { clusterEvent, makeNode, makePod, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { startSnapshotApp } from './app.js';
import type { SnapshotApp } from './app.js';
import { SnapshotState } from './snapshot-state.js';
import { snapshotConfigSchema } from './config.js';

let nats: TestServer;
let nc: NatsConnection;
let js: JetStreamClient;
const apps: SnapshotApp[] = [];
const channels: Channel[] = [];

async function startApp(): Promise<{ app: SnapshotApp; client: ReturnType<typeof snapshotClient>; health: ReturnType<typeof createClient<typeof HealthDefinition>> }> {
  const config = snapshotConfigSchema.parse({
    grpc: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    nats: { url: nats.url },
    poolHealth: { debounce: '20ms' },
    shutdown: { grace: '1s' },
  });
  // The informer owns the cluster stream; without one, the test creates it.
  await ensureClusterStreamFrom(config.nats);
  const app = await startSnapshotApp(config, { handleSignals: false });
  apps.push(app);
  const channel = connectChannel(`127.0.0.1:${app.grpcPort}`);
  channels.push(channel);
  return { app, client: snapshotClient(channel), health: createClient(HealthDefinition, channel) };
}

function snapshotClient(channel: Channel) {
  return createServiceClient(SnapshotServiceDefinition, channel, { defaultDeadlineMs: 5000 });
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Publishes in order; retries while the test's own connection is still reconnecting after a server restart. */
async function publish(...events: ClusterEvent[]): Promise<number> {
  return publishOn(js, ...events);
}

async function publishOn(client: JetStreamClient, ...events: ClusterEvent[]): Promise<number> {
  let seq = 0;
  for (const e of events) {
    for (let attempt = 1; ; attempt++) {
      try {
        seq = (await publishClusterEvent(client, e)).seq;
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  return seq;
}

const reconnectFast = { reconnectTimeWait: 100, maxReconnectAttempts: -1 };

const strip = (infos: NodeInfo[]) => infos.map(({ generation: _, ...rest }) => rest);

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url, ...reconnectFast });
  js = jetstream(nc);
});

afterAll(async () => {
  for (const c of channels) c.close();
  await Promise.all(apps.map((a) => a.stop()));
  await nc.close();
  await nats.stop();
});

describe('snapshot service', () => {
  test('serves NodeInfo from the stream, waits for a min generation, and a late replica agrees', async () => {
    const { app: first, client, health } = await startApp();
    await until(async () => (await health.check({ service: "schedmesh.v1.SnapshotService" })).status === HealthCheckResponse_ServingStatus.SERVING);
    expect((await client.listNodes({})).nodeInfos).toEqual([]);

    await publish(
      clusterEvent(makeNode('n1').capacity('8', '32Gi').zone('a').pool('general').build()),
      clusterEvent(makeNode('n2').capacity('8', '32Gi').zone('b').pool('general').build()),
      clusterEvent(makePod('web-0', 'shop').requests('500m', '1Gi').on('n1').hostPort(8443).build()),
      clusterEvent(makePod('web-1', 'shop').requests('1', '2Gi').on('n1').build()),
    );
    const seq = await publish(clusterEvent(makePod('web-1', 'shop').requests('1', '2Gi').on('n2').version('2').build()));

    const reply = await client.getNode({ name: 'n1', minGeneration: seq });
    expect(reply.generation).toBeGreaterThanOrEqual(seq);
    expect(reply.nodeInfo?.requested).toMatchObject({ milliCpu: 500, memory: 1024 ** 3 });
    expect(reply.nodeInfo?.pods.map((p) => p.name)).toEqual(['web-0']);
    expect(reply.nodeInfo?.usedPorts.map((p) => p.port)).toEqual([8443]);
    expect((await client.getNode({ name: 'n2' })).nodeInfo?.requested?.milliCpu).toBe(1000);
    expect((await client.getPod({ namespace: 'shop', name: 'web-1' })).pod?.nodeName).toBe('n2');
    expect((await client.listNodes({ selector: { matchLabels: { 'topology.kubernetes.io/zone': 'b' }, matchExpressions: [] } })).nodeInfos.map((i) => i.node?.name)).toEqual(['n2']);

    // A generation not yet published: the call waits, and fails at its deadline.
    const started = Date.now();
    await expect(client.getNode({ name: 'n1', minGeneration: seq + 100 }, { deadline: 300, retry: false })).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(2000);
    // ...and returns as soon as the generation arrives.
    const waiting = client.waitForGeneration({ minGeneration: seq + 1 });
    await publish(clusterEvent(makePod('web-0', 'shop').build(), 'delete'));
    expect((await waiting).generation).toBe(seq + 1);

    const { app: late, client: lateClient } = await startApp();
    await until(() => late.store.gate.synced && late.store.generation === first.store.generation);
    const a = await client.listNodes({});
    const b = await lateClient.listNodes({});
    expect(b.generation).toBe(a.generation);
    expect(strip(b.nodeInfos)).toEqual(strip(a.nodeInfos));
    expect(b.nodeInfos.find((i) => i.node?.name === 'n1')?.requested!.milliCpu).toBe(0);

    // Pool health, recomputed after the debounce.
    await until(async () => (await client.getPoolHealth({})).pools.some((p) => p.totalNodes === 2));
    expect((await client.getPoolHealth({ pool: 'general' })).pools[0]).toMatchObject({ pool: 'general', totalNodes: 2, healthyNodes: 2, healthy: true });
  });

  test('bad requests name the field; unknown objects are NOT_FOUND', async () => {
    const { client } = await startApp();
    await until(async () => (await client.waitForGeneration({ minGeneration: 0 }).then(() => true, () => false)));
    await expect(client.getNode({ name: '' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'name: must not be empty' });
    await expect(client.getNode({ name: 'nope' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    await expect(client.getPod({ namespace: 'x' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining('name:') });
    await expect(
      client.listNodes({ selector: { matchLabels: {}, matchExpressions: [{ key: 'zone', operator: 1, values: [] }] } }),
    ).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining('selector.matchExpressions[0]') });
  });

  test('a Watch client that disconnects and resumes from its generation misses nothing', async () => {
    const { app, client } = await startApp();
    await until(() => app.store.gate.synced);
    const replica = new SnapshotState();

    // First session: the full state, then live events.
    const first = new AbortController();
    const frames: string[] = [];
    const session = (async () => {
      for await (const frame of client.watch({ fromGeneration: 0, maxBatch: 2 }, { signal: first.signal })) {
        frames.push(frame.reset ? 'reset' : frame.synced ? 'synced' : 'events');
        for (const e of frame.events) replica.apply(e);
        if (frame.synced) frames.push(`@${frame.generation}`);
      }
    })().catch(() => undefined);
    await until(() => frames.includes('synced') || frames.some((f) => f.startsWith('@')));
    const live = await publish(clusterEvent(makeNode('n3').capacity('2', '4Gi').build()));
    await until(() => replica.generation === live);
    first.abort();
    await session;
    const resumeFrom = replica.generation;

    // While disconnected, the cluster moves on.
    const head = await publish(
      clusterEvent(makePod('db-0', 'data').requests('2', '8Gi').on('n3').build()),
      clusterEvent(makeNode('n4').build()),
      clusterEvent(makeNode('n2').build(), 'delete'),
    );

    const second = new AbortController();
    let resets = 0;
    const resumed = (async () => {
      for await (const frame of client.watch({ fromGeneration: resumeFrom }, { signal: second.signal })) {
        if (frame.reset) resets++;
        for (const e of frame.events) replica.apply(e);
        if (replica.generation >= head) second.abort();
      }
    })().catch(() => undefined);
    await until(() => replica.generation === head);
    second.abort();
    await resumed;

    expect(frames[0]).toBe('reset');
    expect(resets).toBe(0); // resumed from the buffer, no full state
    expect(strip(replica.nodeInfoMessages())).toEqual(strip(app.store.state.nodeInfoMessages()));
    expect(replica.podSize).toBe(app.store.state.podSize);
  });
});

describe('degradation', () => {
  test('NATS restart (file storage): NOT_SERVING and UNAVAILABLE while the stream is lost, then caught up', async () => {
    const { app, client, health } = await startApp();
    await until(() => app.store.gate.synced);
    await nats.restart();
    await until(() => !app.store.gate.synced, 5000);
    await expect(client.getNode({ name: 'n1' }, { retry: false })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect((await health.check({ service: '' }).catch(() => ({ status: 2 }))).status).toBe(2);

    await until(() => app.store.gate.synced, 10_000);
    const seq = await publish(clusterEvent(makeNode('after-restart').build()));
    const reply = await client.getNode({ name: 'after-restart', minGeneration: seq });
    expect(reply.nodeInfo?.node?.name).toBe('after-restart');
    expect((await health.check({ service: '' })).status).toBe(1);
  });
});

test('a stream lost with its server is recreated, and the snapshot resets instead of serving the old state', async () => {
  const own = await startNats();
  const ownNc = await connect({ servers: own.url, ...reconnectFast });
  const config = snapshotConfigSchema.parse({
    grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' },
    nats: { url: own.url, memoryStorage: true }, shutdown: { grace: '1s' },
  });
  await ensureClusterStreamFrom(config.nats);
  const app = await startSnapshotApp(config, { handleSignals: false });
  try {
    const ownJs = jetstream(ownNc);
    await until(() => app.store.gate.synced);
    await publishOn(ownJs, clusterEvent(makeNode('m1').build()), clusterEvent(makeNode('m2').build()));
    await until(() => app.store.state.nodeSize === 2);
    await own.restart(); // memory storage: the stream is gone
    await until(() => !app.store.gate.synced, 10_000);
    await ensureClusterStreamFrom(config.nats); // the informer, back, creates it again
    await until(() => app.store.gate.synced && app.store.state.nodeSize === 0, 10_000);
    await publishOn(ownJs, clusterEvent(makeNode('m3').build()));
    await until(() => app.store.state.nodeSize === 1);
    expect([...app.store.state.nodes()].map((n) => n.name)).toEqual(['m3']);
  } finally {
    await app.stop();
    await ownNc.close();
    await own.stop();
  }
});
