// The Kubernetes writes of a binding cycle (libs/mesh PodWriter) against a real
// kube-apiserver: Binding with its idempotent retry, a pod bound elsewhere, a
// pod that is gone, PreBind metadata patches, the PodScheduled condition and
// nominated node, events, and evictions (and their dry-run trials) that honour a PodDisruptionBudget.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { PolicyV1Api } from '@kubernetes/client-node';
import { KubeApi, PatchType, PodWriter } from '@schedmesh/mesh';
import type { PodIdentity } from '@schedmesh/mesh';
import { createFakeNodes, fakeNodeSpecs, pollUntil, startControlPlane } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';

const NS = 'default';
let cp: ControlPlane;
let api: KubeApi;
let writer: PodWriter;

function podObject(name: string, labels: Record<string, string> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'pod-writer', ...labels } },
    spec: { schedulerName: 'schedmesh', containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled' }] },
  };
}

async function createPod(name: string, labels: Record<string, string> = {}): Promise<PodIdentity> {
  const created = await cp.core.createNamespacedPod({ namespace: NS, body: podObject(name, labels) });
  return { namespace: NS, name, uid: created.metadata!.uid! };
}

const signal = (): AbortSignal => AbortSignal.timeout(15_000);

beforeAll(async () => {
  cp = await startControlPlane();
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(3));
  api = new KubeApi({ kubeConfig: cp.kubeConfig });
  writer = new PodWriter(api, { reportingController: 'schedmesh', reportingInstance: 'test-replica' });
}, 180_000);

afterAll(async () => {
  await api?.close();
  await cp?.stop();
}, 60_000);

describe('PodWriter against a real kube-apiserver', () => {
  test('binds a pod, and a retried bind to the same node answers bound', async () => {
    const pod = await createPod('bind-once');
    expect(await writer.bind(pod, 'fake-node-0', signal())).toEqual({ kind: 'bound', already: false });
    expect((await cp.core.readNamespacedPod({ namespace: NS, name: pod.name })).spec?.nodeName).toBe('fake-node-0');
    expect(await writer.bind(pod, 'fake-node-0', signal())).toEqual({ kind: 'bound', already: true });
  });

  test('a pod bound elsewhere is reported with its node, and left there', async () => {
    const pod = await createPod('bound-elsewhere');
    await writer.bind(pod, 'fake-node-1', signal());
    expect(await writer.bind(pod, 'fake-node-2', signal())).toEqual({ kind: 'boundElsewhere', nodeName: 'fake-node-1' });
    expect((await cp.core.readNamespacedPod({ namespace: NS, name: pod.name })).spec?.nodeName).toBe('fake-node-1');
  });

  test('a deleted pod, or a new pod under the same name, is gone', async () => {
    const pod = await createPod('gone');
    await cp.core.deleteNamespacedPod({ namespace: NS, name: pod.name, gracePeriodSeconds: 0 });
    await pollUntil(async () => ((await writer.read(pod, signal())) === undefined ? true : undefined), { what: 'pod deleted', timeoutMs: 30_000 });
    expect(await writer.bind(pod, 'fake-node-0', signal())).toEqual({ kind: 'gone' });
    const again = await createPod('gone');
    expect(again.uid).not.toBe(pod.uid);
    // The old UID must not bind the new pod.
    expect(await writer.bind(pod, 'fake-node-0', signal())).toEqual({ kind: 'gone' });
    expect((await cp.core.readNamespacedPod({ namespace: NS, name: 'gone' })).spec?.nodeName ?? '').toBe('');
  });

  test('PreBind patches merge labels and annotations into the pod', async () => {
    const pod = await createPod('patched', { keep: 'me' });
    await writer.patchMetadata(pod, { labels: { 'cost-center': 'cc-42' }, annotations: { 'schedmesh.io/tagged-by': 'cost-tagger' } }, signal());
    const read = await cp.core.readNamespacedPod({ namespace: NS, name: pod.name });
    expect(read.metadata?.labels).toMatchObject({ keep: 'me', 'cost-center': 'cc-42' });
    expect(read.metadata?.annotations).toMatchObject({ 'schedmesh.io/tagged-by': 'cost-tagger' });
  });

  test('an unschedulable pod gets PodScheduled=False, its nominated node, and a FailedScheduling event', async () => {
    const pod = await createPod('unschedulable');
    const message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    await writer.markUnschedulable(pod, 'Unschedulable', message, signal(), 'fake-node-2');
    await writer.event(pod, { type: 'Warning', reason: 'FailedScheduling', action: 'Scheduling', note: message }, signal());
    const read = await cp.core.readNamespacedPod({ namespace: NS, name: pod.name });
    const cond = read.status?.conditions?.find((c) => c.type === 'PodScheduled');
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    expect(read.status?.nominatedNodeName).toBe('fake-node-2');
    const events = (await cp.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${pod.name}` })).items;
    expect(events.find((e) => e.reason === 'FailedScheduling')).toMatchObject({ type: 'Warning', message });
    await writer.nominate(pod, '', signal());
    expect((await cp.core.readNamespacedPod({ namespace: NS, name: pod.name })).status?.nominatedNodeName ?? '').toBe('');
  });

  test('eviction honours a PodDisruptionBudget, then evicts when the budget allows', async () => {
    const policy = cp.kubeConfig.makeApiClient(PolicyV1Api);
    const a = await createPod('guarded-a', { guard: 'yes' });
    const b = await createPod('guarded-b', { guard: 'yes' });
    await writer.bind(a, 'fake-node-0', signal());
    await writer.bind(b, 'fake-node-1', signal());
    // The API server evicts Pending pods regardless of budgets; no kubelet runs here, so report them Running.
    for (const p of [a, b]) {
      await api.patch(
        `/api/v1/namespaces/${NS}/pods/${p.name}/status`,
        { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
        PatchType.strategic,
        signal(),
      );
    }
    // No controller manager runs here, so the budget's status never allows a disruption: the API
    // server refuses every eviction it covers (429), exactly the "blocked" path.
    await policy.createNamespacedPodDisruptionBudget({
      namespace: NS,
      body: { metadata: { name: 'guard' }, spec: { minAvailable: 2, selector: { matchLabels: { guard: 'yes' } } } },
    });
    expect(await writer.evict(a, signal(), { dryRun: true })).toBe('blocked');
    expect(await writer.evict(a, signal())).toBe('blocked');
    expect((await cp.core.readNamespacedPod({ namespace: NS, name: a.name })).metadata?.uid).toBe(a.uid);
    await policy.deleteNamespacedPodDisruptionBudget({ namespace: NS, name: 'guard' });
    // The trial (dryRun=All) passes every check and deletes nothing.
    expect(await writer.evict(a, signal(), { dryRun: true })).toBe('evicted');
    expect((await cp.core.readNamespacedPod({ namespace: NS, name: a.name })).metadata?.deletionTimestamp).toBeUndefined();
    expect(await writer.evict(a, signal())).toBe('evicted');
    // A Running pod is deleted gracefully: no kubelet here confirms it, so it stays terminating.
    expect((await cp.core.readNamespacedPod({ namespace: NS, name: a.name })).metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(await writer.evict({ namespace: NS, name: 'never-existed', uid: 'x' }, signal())).toBe('gone');
  });

  test('an unreachable API server is an UnavailableError naming the call', async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const dead = new PodWriter(new KubeApi({ kubeConfig: kc, timeoutMs: 2_000 }), { reportingController: 's', reportingInstance: 'i' });
    await expect(dead.bind({ namespace: NS, name: 'x', uid: 'u' }, 'n', signal())).rejects.toThrow(/binding: the API server is unreachable/);
  });
});
