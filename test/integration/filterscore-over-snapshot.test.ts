// The filterscore service over real gRPC, fed by the snapshot service, both
// in-process over a real NATS JetStream (the pattern of
// services/snapshot/src/snapshot.test.ts and state-pipeline.test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { createClient, Status } from 'nice-grpc';
import type { Channel } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import { Pod, SelectorOperator, TaintEffect } from '@schedmesh/proto/v1/types';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { ConfigError, connectChannel, createServiceClient, ensureClusterStreamFrom, publishClusterEvent } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { clusterEvent, freePort, makeNode, makePod, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';

let nats: TestServer;
let nc: NatsConnection;
let js: JetStreamClient;
let snapshotPort: number;
let snapshot: SnapshotApp;
let fs: FilterScoreApp;
let channel: Channel;
let client: ReturnType<typeof filterScoreClient>;
const dir = mkdtempSync(join(tmpdir(), 'filterscore-'));

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };

function filterScoreClient(ch: Channel) {
  return createServiceClient(FilterScoreServiceDefinition, ch, { defaultDeadlineMs: 5000 });
}

async function startSnapshot(): Promise<SnapshotApp> {
  const config = snapshotConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: snapshotPort }, nats: { url: nats.url } });
  // The informer owns the cluster stream; without one, the test creates it.
  await ensureClusterStreamFrom(config.nats);
  return startSnapshotApp(config, { handleSignals: false });
}

async function startFilterScore(extra: Record<string, unknown> = {}): Promise<FilterScoreApp> {
  return startFilterScoreApp(
    filterScoreConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: 0 }, snapshot: { address: `127.0.0.1:${snapshotPort}`, initialBackoff: '50ms', maxBackoff: '200ms' }, ...extra }),
    { handleSignals: false },
  );
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function publish(...events: ClusterEvent[]): Promise<number> {
  let seq = 0;
  for (const e of events) seq = (await publishClusterEvent(js, e)).seq;
  return seq;
}

const incoming = (name = 'web-new') => makePod(name, 'shop').requests('1', '1Gi').build();

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  js = jetstream(nc);
  snapshotPort = await freePort();
  snapshot = await startSnapshot();
  await until(() => snapshot.store.gate.synced);
  await publish(
    clusterEvent(makeNode('n1').capacity('4', '16Gi').zone('a').build()),
    clusterEvent(makeNode('n2').capacity('4', '16Gi').zone('b').build()),
    clusterEvent(makePod('db-0', 'shop').requests('3', '1Gi').on('n2').build()),
  );
  fs = await startFilterScore();
  channel = connectChannel(`127.0.0.1:${fs.grpcPort}`);
  client = filterScoreClient(channel);
  await until(() => fs.replica.gate.synced && fs.replica.current.nodeCount === 2);
});

afterAll(async () => {
  channel?.close();
  await fs?.stop();
  await snapshot?.stop();
  await nc?.close();
  await nats?.stop();
});

describe('Evaluate over gRPC', () => {
  test('ranks the feasible nodes and explains the rest; a node update changes the answer', async () => {
    const first = await client.evaluate({ pod: incoming() });
    expect(first.ranked.map((r) => r.nodeName)).toEqual(['n1', 'n2']); // n2 is busier (LeastAllocated, BalancedAllocation)
    expect(first.ranked[0]!.plugins.map((p) => p.plugin)).toContain('NodeResourcesFit');
    expect(first.ranked[0]!.total).toBe(first.ranked[0]!.plugins.reduce((s, p) => s + Number(p.score) * Number(p.weight), 0));

    const tainted = makeNode('n1').capacity('4', '16Gi').zone('a').taint('dedicated', 'gpu', TaintEffect.TAINT_EFFECT_NO_SCHEDULE).version('2').build();
    const seq = await publish(clusterEvent(tainted));
    const second = await client.evaluate({ pod: incoming(), options: { minGeneration: seq } });
    expect(second.generation).toBeGreaterThanOrEqual(seq);
    expect(second.ranked.map((r) => r.nodeName)).toEqual(['n2']);
    expect(second.rejected).toEqual([{ nodeName: 'n1', status: { code: 4, reasons: ['node(s) had untolerated taint(s)'], plugin: 'TaintToleration' } }]);

    const big = makePod('huge', 'shop').requests('2', '1Gi').build();
    const none = await client.evaluate({ pod: big, options: { minGeneration: seq } });
    expect(none.ranked).toEqual([]);
    expect(none.summary).toBe(
      '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    );

    const restore = await publish(clusterEvent(makeNode('n1').capacity('4', '16Gi').zone('a').version('3').build()));
    expect((await client.evaluate({ pod: incoming(), options: { minGeneration: restore } })).ranked.map((r) => r.nodeName)).toEqual(['n1', 'n2']);
  });

  test('a minimum generation waits for the replica, bounded by the deadline', async () => {
    const head = fs.replica.generation;
    const started = Date.now();
    await expect(client.evaluate({ pod: incoming(), options: { minGeneration: head + 1 } }, { deadline: 300, retry: false })).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(2000);

    const waiting = client.evaluate({ pod: incoming(), options: { minGeneration: head + 1 } });
    await new Promise((r) => setTimeout(r, 50));
    await publish(clusterEvent(makeNode('n3').capacity('8', '16Gi').zone('c').build()));
    const reply = await waiting;
    expect(reply.generation).toBe(head + 1);
    expect(reply.ranked.map((r) => r.nodeName)).toContain('n3');
  });

  test('Filter, Score and FindPreemptionCandidates', async () => {
    const filtered = await client.filter({ pod: incoming(), options: { nodeNames: ['n1', 'n2', 'ghost'] }, exhaustive: true });
    expect(filtered.feasible.sort()).toEqual(['n1', 'n2']);
    expect(filtered.rejected.map((r) => [r.nodeName, r.status?.reasons])).toEqual([['ghost', ['node(s) were not found in the scheduler snapshot']]]);

    const scored = await client.score({ pod: incoming(), options: { nodeNames: ['n2', 'n1'] } });
    expect(scored.scores.map((s) => s.nodeName)).toEqual(['n1', 'n2']);

    const seq = await publish(clusterEvent(makePod('batch-0', 'shop').requests('3', '1Gi').priority(0).on('n1').build()));
    const preemptor = Pod.fromPartial({ ...makePod('urgent', 'shop').requests('4', '1Gi').build(), priority: 1000 });
    const found = await client.findPreemptionCandidates({ pod: preemptor, options: { minGeneration: seq, nodeNames: ['n1', 'n2'] } });
    expect(found.candidates.map((c) => [c.nodeName, c.victims.map((v) => v.pod?.name), c.numPdbViolations])).toEqual([
      ['n1', ['batch-0'], 0],
      ['n2', ['db-0'], 0],
    ]);
  });
});

describe('INVALID_ARGUMENT names the field', () => {
  test.each<[string, () => Promise<unknown>, string]>([
    ['unknown profile', () => client.evaluate({ pod: incoming(), options: { profile: 'batch' } }), 'options.profile: unknown profile "batch"; configured: default-scheduler'],
    ['a pod without uid', () => client.evaluate({ pod: { ...incoming(), uid: '' } }), 'pod.uid: must not be empty'],
    ['no pod', () => client.evaluate({}), 'pod: is required'],
    [
      'an invalid selector operator in the pod',
      () =>
        client.evaluate({
          pod: { ...incoming(), affinity: { nodeAffinity: { required: { terms: [{ matchExpressions: [{ key: 'zone', operator: SelectorOperator.SELECTOR_OPERATOR_UNSPECIFIED, values: ['a'] }], matchFields: [] }] }, preferred: [] } } },
        }),
      'pod.affinity.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator: unsupported value',
    ],
    ['Score without nodes', () => client.score({ pod: incoming() }), 'options.node_names: must name the nodes to score'],
  ])('%s', async (_name, call, details) => {
    await expect(call()).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining(details) });
  });
});

describe('the snapshot watch', () => {
  test('NOT_SERVING while the snapshot service is gone; reconnects and resumes from its generation', async () => {
    const health = createClient(HealthDefinition, channel);
    const before = fs.replica.generation;
    expect(fs.replica.fullStates).toBe(1);
    await snapshot.stop();
    await until(() => !fs.replica.gate.synced);
    expect((await health.check({ service: '' })).status).toBe(2);
    await expect(client.evaluate({ pod: incoming() }, { retry: false })).rejects.toMatchObject({ code: Status.UNAVAILABLE });

    const seq = await publish(clusterEvent(makeNode('n4').capacity('8', '16Gi').build()));
    snapshot = await startSnapshot(); // same port; it replays the stream
    await until(() => fs.replica.gate.synced && fs.replica.generation >= seq);
    expect((await health.check({ service: '' })).status).toBe(1);
    // Resumed, not rebuilt: the missed events arrived as deltas on the replica's state.
    expect(fs.replica.fullStates).toBe(1);
    expect(fs.replica.generation).toBeGreaterThan(before);
    const reply = await client.evaluate({ pod: incoming(), options: { minGeneration: seq } });
    expect(reply.ranked.map((r) => r.nodeName)).toContain('n4');
  });

  test('a deleted node leaves the replica', async () => {
    const seq = await publish(clusterEvent(makeNode('n4').build(), 'delete'));
    const reply = await client.filter({ pod: incoming(), options: { minGeneration: seq }, exhaustive: true });
    expect(reply.feasible).not.toContain('n4');
  });
});

describe('start-up', () => {
  test('a profile configuration error fails start-up naming every bad key', async () => {
    const file = join(dir, 'profiles.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: kubescheduler.config.k8s.io/v1',
        'kind: KubeSchedulerConfiguration',
        'profiles:',
        '- schedulerName: batch',
        '  plugins:',
        '    score:',
        '      enabled: [{name: Magic}, {name: ImageLocality, weight: -1}]',
        '  pluginConfig:',
        '  - name: NodeResourcesFit',
        '    args: {scoringStrategy: {type: Fastest}}',
      ].join('\n'),
    );
    const failure = await startFilterScore({ profiles: { file } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ConfigError);
    const issues = (failure as ConfigError).issues;
    expect(issues).toHaveLength(3);
    expect(issues.join('\n')).toContain('profiles[0].plugins.score.enabled[0].name: unknown plugin "Magic"');
    expect(issues.join('\n')).toContain('profiles[0].plugins.score.enabled[1].weight: must not be negative');
    expect(issues.join('\n')).toContain('profiles[0].pluginConfig[0].args.scoringStrategy.type');
  });

  test('profiles from a file serve by schedulerName', async () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(file, 'profiles:\n- schedulerName: default-scheduler\n- schedulerName: binpack\n  pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: MostAllocated}}\n');
    const app = await startFilterScore({ profiles: { file } });
    const ch = connectChannel(`127.0.0.1:${app.grpcPort}`);
    try {
      await until(() => app.replica.gate.synced);
      const c = filterScoreClient(ch);
      const spread = await c.evaluate({ pod: incoming(), options: { nodeNames: ['n1', 'n2'] } });
      const packed = await c.evaluate({ pod: incoming(), options: { profile: 'binpack', nodeNames: ['n1', 'n2'] } });
      const fit = (r: typeof spread, node: string) => r.ranked.find((x) => x.nodeName === node)?.plugins.find((p) => p.plugin === 'NodeResourcesFit')?.score;
      // n1 carries batch-0 (3 CPU) and n2 db-0 (3 CPU): equally loaded, so compare the strategies' direction on one node.
      expect(Number(fit(packed, 'n1'))).toBeGreaterThan(Number(fit(spread, 'n1')));
    } finally {
      ch.close();
      await app.stop();
    }
  });
});

describe("Evaluate over a caller's node list", () => {
  test('exhaustive answers every named node; otherwise filtering stops at numFeasibleNodesToFind', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `wide-${i}`);
    const seq = await publish(...names.map((n) => clusterEvent(makeNode(n).capacity('8', '16Gi').build())));
    const sampled = await client.evaluate({ pod: incoming(), options: { minGeneration: seq, nodeNames: names } });
    // 150 × (50 - 150/125)% = 73 nodes, raised to the floor of 100.
    expect(sampled.nodesEvaluated).toBe(100);
    const every = await client.evaluate({ pod: incoming(), options: { minGeneration: seq, nodeNames: names }, exhaustive: true });
    expect(every.nodesEvaluated).toBe(150);
    expect(every.ranked.map((r) => r.nodeName).sort()).toEqual([...names].sort());
  });

  test('totalsOnly leaves the per-plugin scores out; skipScore answers which nodes fit, unscored', async () => {
    const nodeNames = ['n1', 'n2', 'n3'];
    const full = await client.evaluate({ pod: incoming(), options: { nodeNames }, exhaustive: true });
    expect(full.ranked.every((r) => r.plugins.length > 0)).toBe(true);
    const totals = await client.evaluate({ pod: incoming(), options: { nodeNames }, exhaustive: true, totalsOnly: true });
    expect(totals.ranked.map((r) => r.plugins.length)).toEqual(totals.ranked.map(() => 0));
    expect(totals.ranked.some((r) => r.total > 0)).toBe(true);
    const fit = await client.evaluate({ pod: incoming(), options: { nodeNames }, exhaustive: true, skipScore: true });
    expect(fit.ranked.map((r) => r.nodeName).sort()).toEqual(full.ranked.map((r) => r.nodeName).sort());
    expect(fit.ranked.map((r) => [r.total, r.plugins.length])).toEqual(fit.ranked.map(() => [0, 0]));
  });
});
