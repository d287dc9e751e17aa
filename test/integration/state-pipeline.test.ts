// The cluster-state pipeline from a fixture: informer (edge conversion) →
// JetStream → snapshot service, all real, in-process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Channel } from 'nice-grpc';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';

const node = (name: string, zone: string, cpu = '8') => `
apiVersion: v1
kind: Node
metadata: {name: ${name}, uid: uid-${name}, resourceVersion: "1", labels: {topology.kubernetes.io/zone: ${zone}, schedmesh.io/node-pool: general}}
status:
  allocatable: {cpu: "${cpu}", memory: 32Gi, pods: "110"}
  capacity: {cpu: "${cpu}", memory: 32Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
`;
const pod = (name: string, nodeName: string, cpu: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, uid: uid-${name}, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  nodeName: ${nodeName}
  containers: [{name: app, image: shop/web:1, resources: {requests: {cpu: "${cpu}", memory: 1Gi}}, ports: [{containerPort: 8080, hostPort: 8080}]}]
status: {phase: Running}
`;
const namespace = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: retail}}
`;

let nats: TestServer;
const dir = mkdtempSync(join(tmpdir(), 'pipeline-'));
const stops: (() => Promise<void>)[] = [];
const channels: Channel[] = [];

function write(name: string, ...docs: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, docs.join('\n---\n'));
  return path;
}

const common = { grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };

async function runInformer(fixture: string) {
  const app = await startInformerApp(informerConfigSchema.parse({ ...common, nats: { url: nats.url }, source: { fixture } }), { handleSignals: false });
  await app.synced;
  return app;
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let snapshot: SnapshotApp;
beforeAll(async () => {
  nats = await startNats();
  snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, nats: { url: nats.url } }), { handleSignals: false });
  stops.push(() => snapshot.stop());
});
afterAll(async () => {
  for (const c of channels) c.close();
  for (const stop of stops.reverse()) await stop();
  await nats.stop();
});

test('a fixture cluster reaches the snapshot with the right NodeInfo; a malformed pod is rejected at the edge and the rest goes on', async () => {
  const fixture = write(
    'cluster.yaml',
    namespace,
    node('n1', 'a'),
    node('n2', 'b'),
    node('n3.example.com', 'b', '4'),
    pod('web-0', 'n1', '500m'),
    pod('bad-0', 'n1', '1.5.5'), // not a quantity
    pod('web-1', 'n2', '2'),
  );
  const informer = await runInformer(fixture);
  stops.push(() => informer.stop());
  await until(() => snapshot.store.state.nodeSize === 3 && snapshot.store.state.podSize === 2);

  const channel = connectChannel(`127.0.0.1:${snapshot.grpcPort}`);
  channels.push(channel);
  const client = createServiceClient(SnapshotServiceDefinition, channel);
  const n1 = (await client.getNode({ name: 'n1' })).nodeInfo!;
  expect(n1.node).toMatchObject({ zone: 'a', pool: 'general', ready: true, allocatable: { milliCpu: 8000, memory: 32 * 1024 ** 3, pods: 110 } });
  expect(n1.requested).toMatchObject({ milliCpu: 500, memory: 1024 ** 3 });
  expect(n1.pods.map((p) => p.name)).toEqual(['web-0']);
  expect(n1.usedPorts.map((p) => p.port)).toEqual([8080]);
  expect((await client.getNode({ name: 'n3.example.com' })).nodeInfo?.node?.allocatable?.milliCpu).toBe(4000);
  await expect(client.getPod({ namespace: 'shop', name: 'bad-0' })).rejects.toMatchObject({ code: 5 });

  const metrics = await (await fetch(`http://127.0.0.1:${informer.httpPort}/metrics`)).text();
  expect(metrics).toMatch(/schedmesh_informer_rejected_objects_total\{kind="Pod",field="[^"]*requests[^"]*cpu[^"]*"[^}]*\} 1/);
  expect(metrics).toMatch(/schedmesh_informer_published_events_total\{kind="Node",type="upsert"[^}]*\} 3/);
});

test('an informer started on a changed cluster deletes downstream what disappeared while none ran', async () => {
  const fixture = write('smaller.yaml', namespace, node('n1', 'a'), pod('web-0', 'n1', '500m'));
  const informer = await runInformer(fixture);
  stops.push(() => informer.stop());
  await until(() => snapshot.store.state.nodeSize === 1 && snapshot.store.state.podSize === 1);
  expect([...snapshot.store.state.nodes()].map((n) => n.name)).toEqual(['n1']);
  const metrics = await (await fetch(`http://127.0.0.1:${informer.httpPort}/metrics`)).text();
  expect(metrics).toMatch(/schedmesh_informer_reconciled_deletions_total\{kind="Node"[^}]*\} 2/);
});

test('a fixture with an unknown kind is refused with the document named', async () => {
  const fixture = write('bad.yaml', node('n1', 'a'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n');
  await expect(startInformerApp(informerConfigSchema.parse({ ...common, nats: { url: nats.url }, source: { fixture } }), { handleSignals: false })).rejects.toThrow(
    'source.fixture[1].kind: expected one of Namespace, Node, Pod, PodDisruptionBudget, PodGroup, Service, ReplicaSet, StatefulSet, ReplicationController, AdmissionPolicy, ConfigMap, got "Deployment"',
  );
});
