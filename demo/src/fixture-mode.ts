// The fallback when the cluster binaries (etcd, kube-apiserver, Jaeger: Go
// builds) are not there: the informer publishes the sample cluster from a
// YAML fixture instead of watching an API server, and the demo asks the
// scheduler's Schedule RPC for each pod (a lease is taken on the chosen node,
// nothing is bound: there is nothing to bind through). Placements, refusals
// and per-step latencies (the StepResults of each answer) still show; pod
// objects, Binding, FailedScheduling events, tenant RBAC reviews (the tenant
// policy is written with failurePolicy: Ignore here) and Jaeger traces need
// the real control plane.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import type { V1Pod } from '@kubernetes/client-node';
import { convertPod } from '@schedmesh/model';
import { ScheduleResult, SchedulerServiceDefinition } from '@schedmesh/proto/v1/scheduler';
import type { ScheduleResponse } from '@schedmesh/proto/v1/scheduler';
import { extensionPointToJSON } from '@schedmesh/proto/v1/types';
import { connectClient } from '@schedmesh/runtime';
import { fakeNodeObject, startNats, startRedis } from '@schedmesh/testkit';
import { stringify } from 'yaml';

import { ProgressDisplay } from './console.js';
import { startMesh } from './mesh.js';
import type { Mesh } from './mesh.js';
import type { NodeView, PodView } from './placements.js';
import type { DemoPlugin } from './plugins.js';
import { NAMESPACES, sampleNodes, samplePods, samplePolicies } from './sample.js';
import type { SampleOptions } from './sample.js';
import type { StackHandles } from './stack.js';
import type { StepLatencies } from './traces.js';

/** What a fixture run produced, for the report. */
export interface FixtureRun {
  readonly runDir: string;
  readonly mesh: Mesh;
  readonly nodes: NodeView[];
  readonly pods: PodView[];
  readonly steps: StepLatencies[];
  readonly durationMs: number;
}

// Every request fails at once: there is no API server, and nothing should wait for one.
const NO_API_SERVER_KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
`;

/** "EXTENSION_POINT_PRE_FILTER" → "PreFilter": the step names the cluster mode's spans carry. */
export function stepName(point: string, plugin: string): string {
  const words = point.replace(/^EXTENSION_POINT_/, '').toLowerCase().split('_');
  return `${words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}/${plugin}`;
}

/** The scheduler name of the fixture's copies of the pods: no schedmesh profile serves it, so no scheduler takes them from the stream. */
const RPC_ONLY_SCHEDULER = 'schedmesh-demo-rpc';

function fixtureYaml(pods: readonly V1Pod[]): string {
  const docs = [
    ...[...NAMESPACES, 'schedmesh-system'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ...sampleNodes().map(fakeNodeObject),
    // No API server, no SubjectAccessReview: the tenant's pods are admitted unreviewed rather than all refused.
    ...samplePolicies({ tenantFailurePolicy: 'Ignore' }),
    // The pods themselves, pending, as an API server would hold them: reservation admits a gang
    // member only if the cluster stream has that pod (security review M2).
    ...pods.map((p) => ({ ...p, spec: { ...p.spec!, schedulerName: RPC_ONLY_SCHEDULER }, status: { phase: 'Pending' } })),
  ];
  return docs.map((d) => stringify(d)).join('---\n');
}

function viewOf(pod: V1Pod, answer: ScheduleResponse | Error): PodView {
  const base = { namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, feature: pod.metadata!.labels!['schedmesh.io/demo-feature'] ?? '' };
  // A failed call (a service down, a deadline) is an error, not a refusal: the cluster mode's scheduler would retry it.
  if (answer instanceof Error) return { ...base, state: 'retrying', reason: answer.message };
  if (answer.result === ScheduleResult.SCHEDULE_RESULT_SCHEDULED && answer.nodeName) return { ...base, state: 'bound', node: answer.nodeName };
  return { ...base, state: 'refused', reason: answer.message };
}

export async function runFixtureMode(ctx: {
  readonly root: string;
  readonly pods: number;
  readonly gangTimeoutSeconds: number;
  readonly plugins: readonly DemoPlugin[];
  readonly handles: StackHandles;
  readonly say: (line: string) => void;
}): Promise<FixtureRun> {
  const runDir = mkdtempSync(join(tmpdir(), 'schedmesh-demo-'));
  ctx.handles.add(async () => rmSync(runDir, { recursive: true, force: true }));
  ctx.say('starting NATS (JetStream) and Redis on free loopback ports');
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  ctx.handles.add(() => nats.stop());
  ctx.handles.add(() => redis.stop());
  // One uid per pod, shared by the fixture's copy and the pod sent to Schedule.
  const uids = new Map<string, string>();
  const withIdentity = (p: V1Pod): V1Pod => {
    const key = `${p.metadata!.namespace}/${p.metadata!.name}`;
    if (!uids.has(key)) uids.set(key, randomUUID());
    return { ...p, metadata: { ...p.metadata, uid: uids.get(key)!, creationTimestamp: new Date() } };
  };
  const sample = (attest: SampleOptions['attest']): V1Pod[] =>
    samplePods(ctx.pods, { gangTimeoutSeconds: ctx.gangTimeoutSeconds, attest }).map(withIdentity);
  const fixture = join(runDir, 'cluster.yaml');
  // The attestations are signed once the plugin's key exists; the fixture's copies need none.
  writeFileSync(fixture, fixtureYaml(sample(() => 'unsigned')));
  const kubeconfig = join(runDir, 'no-api-server.kubeconfig');
  writeFileSync(kubeconfig, NO_API_SERVER_KUBECONFIG);
  ctx.say(`sample cluster from the fixture ${fixture}: ${sampleNodes().length} nodes, 3 AdmissionPolicies (no RBAC objects: no API server to review them)`);
  ctx.say('starting the schedmesh services and REST plugins, one process each');
  const mesh = await startMesh(
    { root: ctx.root, runDir, cluster: { fixture, kubeconfig }, natsUrl: nats.url, redisUrl: redis.url, leaseTtl: '15m' },
    ctx.plugins,
    (p) => ctx.handles.addProcess(p),
  );
  const nodes = sampleNodes().map((n) => ({ name: n.name, zone: n.zone!, rack: n.rack!, pool: n.labels?.['schedmesh.io/node-pool'] ?? '' }));
  const pods = sample(mesh.attestation.sign);
  ctx.say(`asking the scheduler's Schedule RPC for ${pods.length} pods (a lease each, nothing bound)`);
  const views: PodView[] = pods.map((p) => ({ namespace: p.metadata!.namespace!, name: p.metadata!.name!, feature: '', state: 'pending' }));
  const steps = new Map<string, number[]>();
  const record = (step: string, ms: number) => steps.set(step, [...(steps.get(step) ?? []), ms]);
  const display = new ProgressDisplay(process.stdout, pods.length);
  const started = Date.now();
  const { client, close } = connectClient(SchedulerServiceDefinition, { address: mesh.schedulerAddress, deadline: 120_000 });
  ctx.handles.add(async () => close());
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pods.length) {
      const i = next++;
      const pod = pods[i]!;
      const t0 = performance.now();
      let answer: ScheduleResponse | Error;
      try {
        answer = await client.schedule({ pod: convertPod(pod), dryRun: false, bind: false });
        record('attempt (Schedule RPC)', performance.now() - t0);
        for (const s of answer.steps) record(stepName(extensionPointToJSON(s.point), s.status?.plugin ?? ''), s.durationMicros / 1000);
      } catch (err) {
        answer = err instanceof Error ? err : new Error(String(err));
      }
      views[i] = viewOf(pod, answer);
      display.update(views, nodes, Date.now() - started);
    }
  };
  // As many in flight as the scheduler's own parallelism: gang members wait at Permit together.
  await Promise.all(Array.from({ length: 16 }, worker));
  display.finish(views, nodes, Date.now() - started);
  return { runDir, mesh, nodes, pods: views, steps: [...steps.entries()].map(([step, durationsMs]) => ({ step, durationsMs })), durationMs: Date.now() - started };
}
