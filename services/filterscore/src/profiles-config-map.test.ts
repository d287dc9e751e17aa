// The profiles ConfigMap, carried by the informer on the cluster stream,
// replaces a running filterscore's profiles; an invalid version is refused
// and counted, and a deleted ConfigMap (or one without the key) keeps the
// last good profiles.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { ensureClusterStream, publishClusterEvent } from '@schedmesh/runtime';
import { pollUntil, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { startFilterScoreApp } from './app.js';
import type { FilterScoreApp } from './app.js';
import { filterScoreConfigSchema } from './config.js';

let nats: TestServer;
let nc: NatsConnection;
let js: JetStreamClient;
let app: FilterScoreApp;

const configMap = (type: ClusterEventType, rv: string, data: Record<string, string> = {}): ClusterEvent =>
  ClusterEvent.fromPartial({ type, object: { $case: 'configMap', value: { namespace: 'schedmesh-system', name: 'schedmesh-profiles', resourceVersion: rv, data } } });
const upsert = (rv: string, data: Record<string, string>) => configMap(ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, rv, data);
const profilesYaml = (...names: string[]): string => `kind: KubeSchedulerConfiguration\nprofiles:\n${names.map((n) => `- schedulerName: ${n}\n`).join('')}`;

// Publishes and waits until the follower has applied the event (no sleeps).
async function publish(event: ClusterEvent): Promise<void> {
  const ack = await publishClusterEvent(js, event);
  await pollUntil(async () => (app.profilesGate!.generation >= ack.seq ? true : undefined), { what: `event ${ack.seq} applied`, timeoutMs: 5_000, intervalMs: 10 });
}

async function reloads(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^schedmesh_filterscore_profile_reloads_total\{result="(\w+)"[^}]*\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  await ensureClusterStream(await jetstreamManager(nc));
  js = jetstream(nc);
  app = await startFilterScoreApp(
    filterScoreConfigSchema.parse({
      grpc: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      shutdown: { grace: '1s' },
      // No snapshot service: the profiles are followed all the same.
      snapshot: { address: '127.0.0.1:1', initialBackoff: '1s', maxBackoff: '1s' },
      nats: { url: nats.url },
    }),
    { handleSignals: false },
  );
  await pollUntil(async () => (app.profilesGate!.synced ? true : undefined), { what: 'profiles ConfigMap read', timeoutMs: 10_000, intervalMs: 10 });
});

afterAll(async () => {
  await app.stop();
  await nc.close();
  await nats.stop();
});

test.each([
  { step: 'no ConfigMap yet: the start-up profiles', event: undefined, profiles: ['default-scheduler'], counts: { applied: 0, rejected: 0 } },
  { step: 'a valid version replaces them', event: upsert('1', { 'config.yaml': profilesYaml('schedmesh', 'schedmesh-packed') }), profiles: ['schedmesh', 'schedmesh-packed'], counts: { applied: 1, rejected: 0 } },
  {
    step: 'an unknown plugin is refused, the last good stays',
    event: upsert('2', { 'config.yaml': `${profilesYaml('schedmesh')}  plugins:\n    score:\n      enabled: [{name: Nope}]\n` }),
    profiles: ['schedmesh', 'schedmesh-packed'],
    counts: { applied: 1, rejected: 1 },
  },
  { step: 'a version without the key is ignored', event: upsert('3', { other: 'x' }), profiles: ['schedmesh', 'schedmesh-packed'], counts: { applied: 1, rejected: 1 } },
  { step: 'a deleted ConfigMap keeps the last good', event: configMap(ClusterEventType.CLUSTER_EVENT_TYPE_DELETE, '4'), profiles: ['schedmesh', 'schedmesh-packed'], counts: { applied: 1, rejected: 1 } },
  { step: 'a recreated ConfigMap applies again', event: upsert('5', { 'config.yaml': profilesYaml('schedmesh-packed') }), profiles: ['schedmesh-packed'], counts: { applied: 2, rejected: 1 } },
])('$step', async ({ event, profiles, counts }) => {
  if (event) await publish(event);
  expect(app.engine.profiles).toEqual(profiles);
  expect(await reloads()).toEqual(counts);
});
