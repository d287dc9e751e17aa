// A pod's scheduling outcome survives a kube-apiserver restart (issue 16):
// the scheduler's attempt at a pod lands while the apiserver is down, so its
// PodScheduled=False condition and FailedScheduling event cannot be written
// then. They are retried, and reach the apiserver once it is back — long
// before the pod's next attempt (it waits in the unschedulable pool for an
// event that could help, or podMaxInUnschedulablePods, 5 min). Real etcd +
// kube-apiserver and the mesh in-process; the scheduler is started while the
// apiserver is away, so that its first attempt at the pod is in the outage.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { schedulerConfigSchema, startSchedulerApp } from '@schedmesh/scheduler-service';
import type { SchedulerApp } from '@schedmesh/scheduler-service';
import { createFakeNodes, fakeNodeSpecs, pollUntil } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { startE2eControlPlane, startE2eMesh } from './mesh.js';
import type { E2eMesh } from './mesh.js';

const NODES = 2;
let cp: ControlPlane | undefined;
let mesh: E2eMesh | undefined;
let replacement: SchedulerApp | undefined;

beforeAll(async () => {
  cp = await startE2eControlPlane();
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(NODES));
  mesh = await startE2eMesh(cp, { name: 'outcome-retry', nodes: NODES });
}, 180_000);

afterAll(async () => {
  await replacement?.stop();
  await mesh?.stop();
  await cp?.stop();
}, 60_000);

test('a FailedScheduling the scheduler could not write while the apiserver was down is written once it is back', async () => {
  const api = cp!;
  const name = 'fits-nowhere';
  // No scheduler runs while the pod is created: it waits on the durable consumer.
  await mesh!.scheduler.stop();
  const before = mesh!.snapshot.store.generation;
  await api.core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        schedulerName: 'schedmesh',
        nodeSelector: { pool: 'nowhere' },
        containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: '100m' } } }],
      },
    },
  });
  // The informer published it (the snapshot follows the same stream; nothing else changes in this cluster).
  await pollUntil(async () => (mesh!.snapshot.store.generation > before ? true : undefined), { what: 'the pod on the cluster stream', timeoutMs: 60_000 });

  await api.restartApiServer(async () => {
    replacement = await startSchedulerApp(schedulerConfigSchema.parse(mesh!.config('scheduler')), { handleSignals: false });
    // Its attempt ended while the apiserver is away: the outcome's first write was refused.
    await pollUntil(
      async () => {
        const record = replacement!.records.byPodName('default', name);
        return record && !record.inFlight && record.outcome === 'unschedulable' ? true : undefined;
      },
      { what: `the attempt at ${name} during the outage`, timeoutMs: 120_000 },
    );
  });

  const event = await pollUntil(
    async () => {
      const events = (await api.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` }).catch(() => undefined))?.items;
      return events?.find((e) => e.reason === 'FailedScheduling');
    },
    { what: `the FailedScheduling event of ${name}`, timeoutMs: 150_000, intervalMs: 500 },
  );
  expect(event.message).toMatch(/didn't match/);
  const pod = await api.core.readNamespacedPod({ namespace: 'default', name });
  expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  // One attempt: the outcome came from the retry, not from a later attempt.
  expect(replacement!.records.byPodName('default', name)?.attempts).toBe(1);
}, 420_000);
