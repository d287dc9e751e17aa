// Default pod topology spreading by Services and controllers, on real servers:
// informer (fixture: a Service, ReplicaSets, their pods) → JetStream →
// snapshot → filterscore's replica → Evaluate over gRPC. Pods of one Service
// with different owners (or none) count together, as kube-scheduler's
// PodTopologySpread counts them (upstream helper.DefaultSelector).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Channel } from 'nice-grpc';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { PluginNames } from '@schedmesh/framework';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import type { Pod } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { freePort, makePod, pollUntil, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';

const node = (name: string, zone: string) => `
apiVersion: v1
kind: Node
metadata: {name: ${name}, uid: uid-${name}, resourceVersion: "1", labels: {kubernetes.io/hostname: ${name}, topology.kubernetes.io/zone: ${zone}}}
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
`;
const pod = (name: string, nodeName: string, owner?: string) => `
apiVersion: v1
kind: Pod
metadata:
  {name: ${name}, namespace: shop, uid: uid-${name}, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z", labels: {app: web}${owner === undefined ? '' : `,
   ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: ${owner}, uid: uid-${owner}, controller: true}]`}}
spec:
  nodeName: ${nodeName}
  containers: [{name: app, image: shop/web:1, resources: {requests: {cpu: 10m, memory: 16Mi}}}]
status: {phase: Running}
`;
const replicaSet = (name: string) => `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: ${name}, namespace: shop, uid: uid-${name}, resourceVersion: "1"}
spec: {replicas: 1, selector: {matchLabels: {app: web, rs: ${name}}}, template: {metadata: {labels: {app: web, rs: ${name}}}}}
`;
const service = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, uid: uid-svc-web, resourceVersion: "1"}
spec: {selector: {app: web}, ports: [{port: 80}]}
`;
const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n';
// Zone a holds the Service's three pods: two on a1 (of ReplicaSet web-1, and of none), one on a2 (of web-2).
const cluster = [namespace, node('a1', 'a'), node('a2', 'a'), node('b1', 'b'), node('b2', 'b'), replicaSet('web-1'), replicaSet('web-2'), pod('web-1-x', 'a1', 'web-1'), pod('web-solo', 'a1'), pod('web-2-x', 'a2', 'web-2')];

let nats: TestServer;
let snapshot: SnapshotApp;
let fs: FilterScoreApp;
let informer: InformerApp | undefined;
let channel: Channel;
let client: ReturnType<typeof createServiceClient<typeof FilterScoreServiceDefinition>>;
const dir = mkdtempSync(join(tmpdir(), 'default-spread-'));
const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };

async function runInformer(file: string, ...docs: string[]): Promise<void> {
  await informer?.stop();
  const fixture = join(dir, file);
  writeFileSync(fixture, docs.join('\n---\n'));
  informer = await startInformerApp(informerConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: 0 }, nats: { url: nats.url }, source: { fixture } }), { handleSignals: false });
  await informer.synced;
}

/** PodTopologySpread's normalized score per node, for the nodes filterscore ranked. */
async function spreadScores(incoming: Pod): Promise<Record<string, number>> {
  const reply = await client.evaluate({ pod: incoming, options: { minGeneration: snapshot.store.state.generation } });
  return Object.fromEntries(reply.ranked.map((r) => [r.nodeName, Number(r.plugins.find((p) => p.plugin === PluginNames.PodTopologySpread)?.score ?? 0)]));
}

/** Waits (generously: two shared cores) until the replica shows what the informer published. */
async function until(what: string, predicate: () => boolean): Promise<void> {
  await pollUntil(async () => (predicate() ? true : undefined), { what, timeoutMs: 30_000, intervalMs: 20 });
}

const ofService = (name: string, owner: string) => makePod(name, 'shop').label('app', 'web').owner(owner).requests('10m', '16Mi').build();

beforeAll(async () => {
  nats = await startNats();
  const snapshotPort = await freePort();
  snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: snapshotPort }, nats: { url: nats.url } }), { handleSignals: false });
  fs = await startFilterScoreApp(
    filterScoreConfigSchema.parse({ ...common, grpc: { host: '127.0.0.1', port: 0 }, snapshot: { address: `127.0.0.1:${snapshotPort}`, initialBackoff: '50ms', maxBackoff: '200ms' } }),
    { handleSignals: false },
  );
  channel = connectChannel(`127.0.0.1:${fs.grpcPort}`);
  client = createServiceClient(FilterScoreServiceDefinition, channel, { defaultDeadlineMs: 10_000 });
}, 60_000);

afterAll(async () => {
  channel?.close();
  await informer?.stop();
  await fs?.stop();
  await snapshot?.stop();
  await nats?.stop();
});

test("a pod of a Service is steered away from the zone that holds the Service's pods, whatever their owners", async () => {
  await runInformer('with-service.yaml', ...cluster, service);
  await until('the Service and its pods in the replica', () => fs.replica.gate.synced && fs.replica.current.services('shop').length === 1 && fs.replica.current.podCount === 3);
  // hostname counts a1 2, a2 1, b 0 (weight log 6); zone a 3, b 0 (weight log 4): raw 14, 12, 6, 6.
  expect(await spreadScores(ofService('web-new', 'ReplicaSet/web-3'))).toEqual({ a1: 42, a2: 57, b1: 100, b2: 100 });
  // A pod of no Service and no controller is not spread: every node scores the same.
  const loner = makePod('loner', 'shop').label('app', 'other').requests('10m', '16Mi').build();
  expect(new Set(Object.values(await spreadScores(loner))).size).toBe(1);
}, 60_000);

test("a ReplicaSet's own selector narrows the Service's: only the pods that match both count", async () => {
  // web-1's selector also asks for rs=web-1, which none of the bound pods carries.
  const incoming = makePod('web-1-y', 'shop').label('app', 'web').label('rs', 'web-1').owner('ReplicaSet/web-1').requests('10m', '16Mi').build();
  await until('ReplicaSet web-1 in the replica', () => fs.replica.current.controller('ReplicaSet', 'shop', 'web-1') !== undefined);
  expect(new Set(Object.values(await spreadScores(incoming))).size).toBe(1);
}, 60_000);

test('a Service deleted while no informer ran is deleted downstream, and its pods are no longer spread', async () => {
  await runInformer('without-service.yaml', ...cluster);
  await until('the Service gone from the replica', () => fs.replica.current.services('shop').length === 0);
  expect(new Set(Object.values(await spreadScores(ofService('web-new', 'ReplicaSet/web-3')))).size).toBe(1);
}, 60_000);
