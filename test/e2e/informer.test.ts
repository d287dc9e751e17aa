// The state pipeline against a real kube-apiserver: objects created, updated
// and deleted through the API reach the snapshot with the right NodeInfo, and
// watches that keep ending (every 1-2 s here) lose nothing.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AppsV1Api } from '@kubernetes/client-node';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { createFakeNodes, startControlPlane } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';

const common = { grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };

function pod(name: string, nodeName: string, cpu: string, namespace = 'default'): V1Pod {
  return {
    metadata: { name, namespace, labels: { app: name } },
    spec: { nodeName, containers: [{ name: 'app', image: 'registry.example/app:1', resources: { requests: { cpu, memory: '128Mi' } } }] },
  };
}

async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The snapshot agrees with the API server: same nodes, same non-terminal pods on the same nodes. */
async function agrees(core: CoreV1Api, snapshot: SnapshotApp): Promise<boolean> {
  const nodes = (await core.listNode()).items.map((n) => n.metadata!.name!).sort();
  const pods = (await core.listPodForAllNamespaces()).items
    .filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
    .map((p) => `${p.metadata!.namespace}/${p.metadata!.name}@${p.spec?.nodeName ?? ''}`)
    .sort();
  const state = snapshot.store.state;
  const snapNodes = [...state.nodes()].map((n) => n.name).sort();
  const snapPods = pods.filter((key) => {
    const [nsName, node] = key.split('@') as [string, string];
    const [ns, name] = nsName.split('/') as [string, string];
    return state.podByName(ns, name)?.nodeName === node;
  });
  return JSON.stringify(nodes) === JSON.stringify(snapNodes) && snapPods.length === pods.length && state.podSize === pods.length;
}

describe.each([
  ['a plain API server', [] as string[]],
  ['an API server that ends every watch after 1-2 s', ['--min-request-timeout=1']],
])('informer → NATS → snapshot against %s', (_, apiServerArgs) => {
  let cp: ControlPlane;
  let nats: TestServer;
  let informer: InformerApp;
  let snapshot: SnapshotApp;

  beforeAll(async () => {
    [cp, nats] = await Promise.all([startControlPlane({ apiServerArgs }), startNats()]);
    snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, nats: { url: nats.url } }), { handleSignals: false });
    informer = await startInformerApp(
      informerConfigSchema.parse({ ...common, nats: { url: nats.url }, source: { admissionPolicies: false, pluginConfigMap: '', profilesConfigMap: '', restartBackoff: '100ms' } }),
      { handleSignals: false, kubeConfig: cp.kubeConfig },
    );
    await informer.synced;
  }, 120_000);

  afterAll(async () => {
    await informer?.stop();
    await snapshot?.stop();
    await Promise.all([cp?.stop(), nats?.stop()]);
  });

  test('creates, updates and deletes reach the snapshot with the right NodeInfo', async () => {
    await createFakeNodes(cp.kubeConfig, [
      { name: 'n1', zone: 'zone-a', rack: 'r1', capacity: { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '2' } },
      { name: 'n2', zone: 'zone-b', rack: 'r2' },
    ]);
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('web-0', 'n1', '1500m') });
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('web-1', 'n1', '500m') });
    await until(() => snapshot.store.state.nodeInfoMessage('n1')?.pods.length === 2, 'two pods on n1');

    const n1 = snapshot.store.state.nodeInfoMessage('n1')!;
    expect(n1.node).toMatchObject({ zone: 'zone-a', rack: 'r1', ready: true, allocatable: { milliCpu: 8000, scalar: { 'nvidia.com/gpu': 2 } } });
    expect(n1.requested).toMatchObject({ milliCpu: 2000, memory: 256 * 1024 ** 2 });

    // Update: a node label and a cordon.
    await cp.core.patchNode({ name: 'n2', body: [{ op: 'add', path: '/spec/unschedulable', value: true }] });
    await until(() => snapshot.store.state.nodeInfoMessage('n2')?.node?.unschedulable === true, 'n2 cordoned');

    // Delete: a pod and a node.
    await cp.core.deleteNamespacedPod({ namespace: 'default', name: 'web-0', gracePeriodSeconds: 0 });
    await until(() => snapshot.store.state.nodeInfoMessage('n1')?.requested?.milliCpu === 500, 'web-0 released');
    await cp.core.deleteNode({ name: 'n2' });
    await until(() => snapshot.store.state.nodeInfoMessage('n2') === undefined, 'n2 deleted');
    expect(await agrees(cp.core, snapshot)).toBe(true);
  }, 60_000);

  test("Services, ReplicaSets, StatefulSets and ReplicationControllers reach the snapshot as their selectors; deletions follow", async () => {
    const apps = cp.kubeConfig.makeApiClient(AppsV1Api);
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } };
    await cp.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
    await cp.core.createNamespacedReplicationController({ namespace: 'default', body: { metadata: { name: 'web-rc' }, spec: { replicas: 0, selector: { app: 'web' }, template } } });
    await apps.createNamespacedReplicaSet({ namespace: 'default', body: { metadata: { name: 'web-rs' }, spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template } } });
    await apps.createNamespacedStatefulSet({ namespace: 'default', body: { metadata: { name: 'web-ss' }, spec: { replicas: 0, serviceName: 'web', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, template } } });
    const selectors = () =>
      Object.fromEntries(
        [...snapshot.store.state.fullState()]
          .flatMap((e) => (e.object?.$case === 'service' || e.object?.$case === 'replicaSet' || e.object?.$case === 'statefulSet' || e.object?.$case === 'replicationController' ? [e.object] : []))
          .filter((o) => o.value.namespace === 'default' && o.value.name.startsWith('web'))
          .map((o) => [`${o.$case}/${o.value.name}`, o.value.selector]),
      );
    await until(() => Object.keys(selectors()).length === 4, 'the four selectors in the snapshot');
    const app = { matchLabels: { app: 'web' }, matchExpressions: [] };
    expect(selectors()).toEqual({
      'service/web': app,
      'replicationController/web-rc': app,
      'replicaSet/web-rs': app,
      'statefulSet/web-ss': { matchLabels: {}, matchExpressions: [{ key: 'app', operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: ['web'] }] },
    });

    await cp.core.deleteNamespacedService({ namespace: 'default', name: 'web' });
    await apps.deleteNamespacedReplicaSet({ namespace: 'default', name: 'web-rs' });
    await until(() => Object.keys(selectors()).length === 2, 'the Service and the ReplicaSet deleted downstream');
    expect(Object.keys(selectors()).sort()).toEqual(['replicationController/web-rc', 'statefulSet/web-ss']);
  }, 60_000);

  test('a burst of changes while watches come and go ends in the same state as the API server', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    await createFakeNodes(cp.kubeConfig, names.map((name) => ({ name })));
    for (let round = 0; round < 3; round++) {
      await Promise.all(names.map((n, i) => cp.core.createNamespacedPod({ namespace: 'default', body: pod(`${n}-p${round}`, names[(i + round) % names.length]!, '100m') })));
      await Promise.all(names.slice(0, 5).map((n) => cp.core.deleteNamespacedPod({ namespace: 'default', name: `${n}-p${round}`, gracePeriodSeconds: 0 })));
      await new Promise((r) => setTimeout(r, 700)); // let watches expire between rounds
    }
    await cp.core.deleteNode({ name: names[19]! });
    let ok = false;
    const started = Date.now();
    while (!ok && Date.now() - started < 30_000) {
      ok = await agrees(cp.core, snapshot);
      if (!ok) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ok).toBe(true);
  }, 90_000);
});

describe('informer → NATS → snapshot across restarts', () => {
  let cp: ControlPlane;
  let nats: TestServer;
  let snapshot: SnapshotApp;
  const informerConfig = () =>
    informerConfigSchema.parse({ ...common, nats: { url: nats.url }, source: { admissionPolicies: false, pluginConfigMap: '', profilesConfigMap: '', restartBackoff: '100ms' } });

  beforeAll(async () => {
    [cp, nats] = await Promise.all([startControlPlane(), startNats()]);
    snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, nats: { url: nats.url } }), { handleSignals: false });
  }, 120_000);
  afterAll(async () => {
    await snapshot?.stop();
    await Promise.all([cp?.stop(), nats?.stop()]);
  });

  async function converge(): Promise<boolean> {
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      if (await agrees(cp.core, snapshot)) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  test('an API server restart breaks every watch; changes made around it all arrive', async () => {
    const informer = await startInformerApp(informerConfig(), { handleSignals: false, kubeConfig: cp.kubeConfig });
    try {
      await informer.synced;
      await createFakeNodes(cp.kubeConfig, [{ name: 'r1' }, { name: 'r2' }]);
      await cp.core.createNamespacedPod({ namespace: 'default', body: pod('before', 'r1', '1') });
      await cp.restartApiServer(1_500);
      // The informer's watches failed while the server was down; these changes
      // land before or during their restart and must come through the relist.
      await cp.core.createNamespacedPod({ namespace: 'default', body: pod('after', 'r2', '2') });
      await cp.core.deleteNamespacedPod({ namespace: 'default', name: 'before', gracePeriodSeconds: 0 });
      await cp.core.deleteNode({ name: 'r1' });
      expect(await converge()).toBe(true);
      expect(snapshot.store.state.nodeInfoMessage('r2')?.requested?.milliCpu).toBe(2000);
    } finally {
      await informer.stop();
    }
  }, 120_000);

  test('objects deleted while no informer ran are deleted downstream by the next one', async () => {
    await createFakeNodes(cp.kubeConfig, [{ name: 'gone-1' }, { name: 'stays-1' }]);
    await cp.core.createNamespacedPod({ namespace: 'default', body: pod('gone-pod', 'gone-1', '1') });
    const first = await startInformerApp(informerConfig(), { handleSignals: false, kubeConfig: cp.kubeConfig });
    await first.synced;
    await until(() => snapshot.store.state.nodeInfoMessage('gone-1') !== undefined && snapshot.store.state.podByName('default', 'gone-pod') !== undefined, 'gone-1 seen');
    await first.stop();

    await cp.core.deleteNamespacedPod({ namespace: 'default', name: 'gone-pod', gracePeriodSeconds: 0 });
    await cp.core.deleteNode({ name: 'gone-1' });

    const second = await startInformerApp(informerConfig(), { handleSignals: false, kubeConfig: cp.kubeConfig });
    try {
      await second.synced;
      expect(await converge()).toBe(true);
      expect(snapshot.store.state.nodeInfoMessage('gone-1')).toBeUndefined();
      expect(snapshot.store.state.podByName('default', 'gone-pod')).toBeUndefined();
    } finally {
      await second.stop();
    }
  }, 120_000);
});
