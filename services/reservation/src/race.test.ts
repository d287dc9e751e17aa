import { fork } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { sharedServers } from '@schedmesh/testkit';
import type { Channel } from 'nice-grpc';
import { nodeEvent, resources, startHarness } from './testing/harness.js';
import type { Harness, ResourceSpec } from './testing/harness.js';
import type { RaceGrant, RaceResult } from './testing/race.js';
import { placePods } from './testing/race.js';
import type { RaceJob } from './testing/race-worker.js';

const GiB = 2 ** 30;
const CLIENTS = 8;
const PODS = 200;
/** Every pod asks for this; each node has room for exactly 10 of them, limited by one resource. */
const podRequests = resources({ cpu: 100, memory: GiB, scalar: { 'nvidia.com/gpu': 1 } });
const roomy = { cpu: 100_000, memory: 1_000 * GiB, pods: 110, scalar: { 'nvidia.com/gpu': 100 } };
const nodes: [string, ResourceSpec, string][] = [
  ['cpu-0', { ...roomy, cpu: 1_000 }, 'cpu'],
  ['cpu-1', { ...roomy, cpu: 1_050 }, 'cpu'],
  ['cpu-2', { ...roomy, cpu: 1_099 }, 'cpu'],
  ['mem-0', { ...roomy, memory: 10 * GiB }, 'memory'],
  ['mem-1', { ...roomy, memory: 10 * GiB + 5 }, 'memory'],
  ['mem-2', { ...roomy, memory: 11 * GiB - 1 }, 'memory'],
  ['gpu-0', { ...roomy, scalar: { 'nvidia.com/gpu': 10 } }, 'nvidia.com/gpu'],
  ['gpu-1', { ...roomy, scalar: { 'nvidia.com/gpu': 10 } }, 'nvidia.com/gpu'],
  ['pods-0', { ...roomy, pods: 10 }, 'pods'],
  ['pods-1', { ...roomy, pods: 10 }, 'pods'],
];
const nodeNames = nodes.map(([name]) => name);
const limiting = new Map(nodes.map(([name, , resource]) => [name, resource]));
const jobs = Array.from({ length: CLIENTS }, (_, c) => ({
  pods: Array.from({ length: PODS / CLIENTS }, (__, i) => `race-${c}-${i}`),
  seed: 1_000 + c,
}));

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function startRace(): Promise<Harness> {
  const { redisUrl, natsUrl } = sharedServers();
  return startHarness({ redisUrl, natsUrl, events: nodes.map(([name, spec]) => nodeEvent(name, spec)) });
}

/** The race's outcome must hold however the clients interleaved. */
async function checkOutcome(harness: Harness, results: RaceResult[]): Promise<void> {
  const grants = results.flatMap((r) => r.grants);
  const refusals = results.flatMap((r) => r.refusals);
  expect(grants).toHaveLength(100);
  expect(new Set(grants.map((g) => g.uid)).size).toBe(100);

  // Every refusal names the one resource that limits its node.
  for (const refusal of refusals) expect([refusal.node, refusal.shortResources]).toEqual([refusal.node, [limiting.get(refusal.node)]]);
  // A pod that got nothing was refused by every node.
  const placed = new Set(grants.map((g) => g.uid));
  const refusedBy = new Map<string, Set<string>>();
  for (const r of refusals) refusedBy.set(r.uid, (refusedBy.get(r.uid) ?? new Set()).add(r.node));
  for (const job of jobs) for (const uid of job.pods) if (!placed.has(uid)) expect(refusedBy.get(uid)?.size).toBe(nodes.length);

  const byNode = new Map<string, RaceGrant[]>();
  for (const g of grants) byNode.set(g.node, [...(byNode.get(g.node) ?? []), g]);
  const { client } = harness.newClient();
  for (const [name, spec] of nodes) {
    const granted = byNode.get(name) ?? [];
    expect([name, granted.length]).toEqual([name, 10]);
    // Fencing versions are unique per node.
    expect(new Set(granted.map((g) => g.version)).size).toBe(granted.length);
    // An independent sum of what was granted…
    const sum = { milliCpu: 0, memory: 0, pods: 0, gpu: 0 };
    for (const g of granted) {
      sum.milliCpu += g.requests.milliCpu;
      sum.memory += g.requests.memory;
      sum.pods += g.requests.pods;
      sum.gpu += g.requests.scalar['nvidia.com/gpu'] ?? 0;
    }
    const alloc = resources(spec);
    expect(sum.milliCpu).toBeLessThanOrEqual(alloc.milliCpu);
    expect(sum.memory).toBeLessThanOrEqual(alloc.memory);
    expect(sum.pods).toBeLessThanOrEqual(alloc.pods);
    expect(sum.gpu).toBeLessThanOrEqual(alloc.scalar['nvidia.com/gpu']!);
    // …matches the ledger read back, which is never over its allocatable.
    const ledger = await client.getLedger({ nodeName: name });
    expect(ledger.leased).toEqual({ milliCpu: sum.milliCpu, memory: sum.memory, ephemeralStorage: 0, pods: sum.pods, scalar: { 'nvidia.com/gpu': sum.gpu } });
    expect(ledger.free!.milliCpu).toBeGreaterThanOrEqual(0);
    expect(ledger.free!.memory).toBeGreaterThanOrEqual(0);
    expect(ledger.free!.pods).toBeGreaterThanOrEqual(0);
    expect(ledger.free!.scalar['nvidia.com/gpu']).toBeGreaterThanOrEqual(0);
  }
}

describe('8 clients race to reserve 200 pods onto 10 nodes with room for exactly 100', () => {
  test('in one process, 8 clients on 8 connections', async () => {
    h = await startRace();
    const harness = h;
    const channels: Channel[] = [];
    const results = await Promise.all(
      jobs.map((job, c) => {
        const { client, channel } = harness.newClient();
        channels.push(channel);
        return placePods(client, { ...job, nodes: nodeNames, requests: podRequests, holder: `client-${c}` });
      }),
    );
    await checkOutcome(harness, results);
  }, 120_000);

  test('in 8 OS processes', async () => {
    h = await startRace();
    const address = `127.0.0.1:${h.apps[0]!.grpcPort}`;
    type WorkerMessage = { ready?: boolean; ok?: boolean; result?: RaceResult; error?: string };
    const workers = jobs.map((job, c) => {
      const child = fork(join(__dirname, 'testing', 'race-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let markReady: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => (markReady = resolve));
      const done = new Promise<RaceResult>((resolve, reject) => {
        let settled = false;
        child.on('message', (message: WorkerMessage) => {
          if (message.ready) return markReady();
          settled = true;
          if (message.ok && message.result) resolve(message.result);
          else reject(new Error(`race worker ${c} failed: ${message.error}`));
        });
        child.once('exit', (code) => {
          if (!settled) reject(new Error(`race worker ${c} exited with ${code} before reporting (is libs/proto built? npm run build)`));
        });
      });
      const raceJob: RaceJob = { address, ...job, nodes: nodeNames, requests: podRequests, holder: `process-${c}` };
      child.send(raceJob);
      return { child, ready, done };
    });
    // Every process is connected before any of them starts: they race for real.
    await Promise.race([Promise.all(workers.map((w) => w.ready)), Promise.all(workers.map((w) => w.done))]);
    for (const w of workers) w.child.send('go');
    const results = await Promise.all(workers.map((w) => w.done));
    await checkOutcome(h, results);
  }, 180_000);
});
