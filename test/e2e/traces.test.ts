// One trace per pod, read back from the real Jaeger. The whole mesh runs as
// the processes a deployment runs (test/e2e/mesh.ts) against etcd +
// kube-apiserver with fake nodes, real NATS and Redis, and the example REST
// plugin as a process of its own; each exports over OTLP/HTTP with the
// OpenTelemetry SDK from its own telemetry configuration. The batch span
// processors are told to wait 10 minutes, so nothing leaves a process before
// it is stopped: every span asserted here was flushed by a SIGTERM shutdown.
// Needs `npm run build` (the services' dist/) and the cluster binaries.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import {
  createFakeNodes,
  fakeNodeSpecs,
  findTraces,
  freePort,
  getTrace,
  pollUntil,
  requireBinary,
  spawnManaged,
  startControlPlane,
  startJaeger,
  testEnvKeys,
  kubectl as runKubectl,
} from '@schedmesh/testkit';
import type { ControlPlane, Jaeger, JaegerSpan, JaegerTrace, ManagedProcess, ProcessExit } from '@schedmesh/testkit';
import { startMeshProcesses } from './mesh-processes';
import type { MeshProcesses, MeshProcessName } from './mesh-processes';

const ROOT = join(__dirname, '../..');
const CRD = join(ROOT, 'deploy/base/crds/admissionpolicy.yaml');
const NODES = 12;
const POD = 'traced-0';
const nodes = fakeNodeSpecs(NODES, { zones: 2, racksPerZone: 2 });
// Spans stay in each process's batch until its shutdown flushes them.
const FLUSH_ONLY_AT_SHUTDOWN = { OTEL_BSP_SCHEDULE_DELAY: '600000' };

let cp: ControlPlane;
let jaeger: Jaeger;
let plugin: ManagedProcess | undefined;
let mesh: MeshProcesses | undefined;
let exits: Map<MeshProcessName, ProcessExit> = new Map();
let podUid = '';
// The extender check's caller: kube-scheduler's span, as its traceparent names it.
const caller = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
let extenderStatus = 0;

function pod(name: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'traces-e2e', 'cost-center': 'cc-9' } },
    spec: {
      schedulerName: 'schedmesh',
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
    },
  };
}

beforeAll(async () => {
  for (const bin of ['etcd', 'kube-apiserver', 'kubectl', 'jaeger'] as const) requireBinary(bin);
  const dir = mkdtempSync(join(tmpdir(), 'traces-e2e-'));
  [cp, jaeger] = await Promise.all([startControlPlane(), startJaeger()]);
  await runKubectl(cp, ['apply', '-f', CRD]);
  await runKubectl(cp, ['wait', '--for', 'condition=established', '--timeout=60s', 'crd/admissionpolicies.schedmesh.io']);
  await createFakeNodes(cp.kubeConfig, nodes);

  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl, OTEL_SERVICE_NAME: 'cost-tracking-plugin', ...FLUSH_ONLY_AT_SHUTDOWN };
  const pluginPort = await freePort();
  plugin = spawnManaged({
    name: 'cost-tracking-plugin',
    command: process.execPath,
    args: [join(ROOT, 'examples/rest-plugin/dist/main.js')],
    logPath: join(dir, 'plugin.log'),
    env: { ...process.env, ...otlp, PLUGIN_PORT: String(pluginPort) },
  });
  const pluginsFile = join(dir, 'plugins.yaml');
  writeFileSync(pluginsFile, `plugins:\n- name: cost-tracking\n  type: rest\n  endpoint: http://127.0.0.1:${pluginPort}/\n  extensionPoints: [preBind]\n  failurePolicy: Fail\n`);

  mesh = await startMeshProcesses({
    root: ROOT,
    dir,
    env: FLUSH_ONLY_AT_SHUTDOWN,
    setting: {
      natsUrl: process.env[testEnvKeys.natsUrl]!,
      redisUrl: process.env[testEnvKeys.redisUrl]!,
      kubeconfig: cp.kubeconfigPath,
      runId: `traces${process.pid}`,
      pluginsFile,
      otlpEndpoint: `${jaeger.otlpHttpUrl}/v1/traces`,
      logLevel: 'info',
    },
  });

  // Standalone: the scheduler binds a pod with schedulerName schedmesh.
  const created = await cp.core.createNamespacedPod({ namespace: 'default', body: pod(POD) });
  podUid = created.metadata!.uid!;
  const bound = await pollUntil(
    async () => {
      const p = await cp.core.readNamespacedPod({ namespace: 'default', name: POD });
      return p.spec?.nodeName ? p : undefined;
    },
    { what: `pod ${POD} bound by the schedmesh scheduler`, timeoutMs: 120_000, intervalMs: 500 },
  );
  expect(bound.metadata?.labels?.['schedmesh.io/cost-tracked']).toBe('true');

  // Extender mode: kube-scheduler's filter verb, with its traceparent.
  const res = await fetch(`${mesh.extenderUrl}/filter`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
    body: JSON.stringify({
      Pod: { metadata: { name: 'via-extender', namespace: 'default', uid: 'uid-via-extender' }, spec: pod('via-extender').spec },
      NodeNames: nodes.map((n) => n.name),
    }),
    signal: AbortSignal.timeout(30_000),
  });
  extenderStatus = res.status;
  await res.text();

  // Every span leaves its process now, or never: the shutdown must flush it.
  exits = await mesh.stop();
  await plugin.stop();
}, 360_000);

afterAll(async () => {
  await mesh?.stop(2_000);
  await plugin?.stop(2_000);
  await jaeger?.stop();
  await cp?.stop();
}, 120_000);

const service = (t: JaegerTrace, s: JaegerSpan): string => t.processes[s.processID]?.serviceName ?? '';
const tag = (s: JaegerSpan, key: string): unknown => s.tags.find((t) => t.key === key)?.value;
const parentOf = (s: JaegerSpan): string | undefined => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
const linksOf = (s: JaegerSpan) => s.references.filter((r) => r.refType === 'FOLLOWS_FROM');

/** The span's ancestors in the trace, nearest first, as "service:operation". */
function ancestry(t: JaegerTrace, s: JaegerSpan): string[] {
  const byId = new Map(t.spans.map((x) => [x.spanID, x]));
  const out: string[] = [];
  for (let p = byId.get(parentOf(s) ?? ''); p; p = byId.get(parentOf(p) ?? '')) out.push(`${service(t, p)}:${p.operationName}`);
  return out;
}

/**
 * Polls the trace until it holds spans of every one of `services`: Jaeger
 * answers an export before its batch stores it, so a trace can be read
 * while the last process's spans are still on their way in.
 */
async function traceWith(traceId: string, services: readonly string[]): Promise<JaegerTrace> {
  let last: JaegerTrace | undefined;
  return pollUntil(
    async () => {
      last = await getTrace(jaeger.queryUrl, traceId, { timeoutMs: 60_000 });
      const present = new Set(last.spans.map((s) => service(last!, s)));
      return services.every((s) => present.has(s)) ? last : undefined;
    },
    { what: `trace ${traceId} with spans of ${services.join(', ')}`, timeoutMs: 60_000, intervalMs: 250 },
  );
}

/** The one span of `svc` named `operation` in the trace (fails naming what the trace holds). */
function spanOf(t: JaegerTrace, svc: string, operation: string): JaegerSpan {
  const found = t.spans.filter((s) => service(t, s) === svc && s.operationName === operation);
  if (found.length === 0) throw new Error(`no span ${svc}:${operation} in trace ${t.traceID}; it holds:\n${t.spans.map((s) => `  ${service(t, s)}:${s.operationName}`).sort().join('\n')}`);
  return found[0]!;
}

describe('one trace per scheduling attempt, in Jaeger', () => {
  test('every service stopped cleanly on SIGTERM (and flushed its spans then)', () => {
    expect([...exits].filter(([, e]) => e.code !== 0)).toEqual([]);
    expect(plugin?.exit()?.code).toBe(0);
  });

  let attempt: JaegerTrace;
  let root: JaegerSpan;

  test("the pod's trace is found by its UID; its root is the scheduler's schedule_one with the pod's name and UID", async () => {
    const traces = await findTraces(jaeger.queryUrl, 'schedmesh-scheduler', { operation: 'schedule_one', tags: { 'k8s.pod.uid': podUid }, timeoutMs: 60_000 });
    const scheduled = traces.find((t) => t.spans.some((s) => s.operationName === 'schedule_one' && tag(s, 'schedmesh.outcome') === 'scheduled'));
    expect(scheduled).toBeDefined();
    attempt = await traceWith(scheduled!.traceID, ['schedmesh-scheduler', 'schedmesh-admission', 'schedmesh-filterscore', 'schedmesh-reservation', 'schedmesh-gateway', 'cost-tracking-plugin']);
    root = spanOf(attempt, 'schedmesh-scheduler', 'schedule_one');
    expect(parentOf(root)).toBeUndefined();
    expect(tag(root, 'k8s.pod.name')).toBe(POD);
    expect(tag(root, 'k8s.pod.uid')).toBe(podUid);
    expect(tag(root, 'k8s.namespace.name')).toBe('default');
    expect(tag(root, 'k8s.node.name')).toMatch(/^fake-node-\d+$/);
  }, 90_000);

  test.each([
    ['admission', 'schedmesh-admission', 'schedmesh.v1.AdmissionService/Admit', 'PreFilter/SchedmeshAdmission'],
    ['filterscore', 'schedmesh-filterscore', 'filterscore.Evaluate', 'Filter/SchedmeshFilterScore'],
    ['reservation: Reserve', 'schedmesh-reservation', 'schedmesh.v1.ReservationService/Reserve', 'Reserve/SchedmeshReservation'],
    ['the gateway', 'schedmesh-gateway', 'gateway.plugin cost-tracking', 'PreBind/SchedmeshGateway'],
    ['the REST plugin (over HTTP)', 'cost-tracking-plugin', 'preBind cost-tracking', 'PreBind/SchedmeshGateway'],
    ['the Binding write', 'schedmesh-scheduler', 'POST pods/binding', 'Bind/DefaultBinder'],
    ['reservation: Confirm', 'schedmesh-reservation', 'schedmesh.v1.ReservationService/Confirm', 'PostBind/SchedmeshReservation'],
  ])('%s: a span under its step, under schedule_one', (_what, svc, operation, step) => {
    const chain = ancestry(attempt, spanOf(attempt, svc, operation));
    expect(chain).toContain(`schedmesh-scheduler:${step}`);
    expect(chain[chain.length - 1]).toBe('schedmesh-scheduler:schedule_one');
  });

  test("the REST plugin's span is the child of the gateway's call to it", () => {
    const call = spanOf(attempt, 'schedmesh-gateway', 'gateway.plugin cost-tracking');
    const served = spanOf(attempt, 'cost-tracking-plugin', 'preBind cost-tracking');
    expect(parentOf(served)).toBe(call.spanID);
    expect(tag(served, 'k8s.pod.uid')).toBe(podUid);
  });

  test('Reserve and Confirm name the pod, the node and the lease they decided on', () => {
    const reserve = spanOf(attempt, 'schedmesh-reservation', 'schedmesh.v1.ReservationService/Reserve');
    expect(tag(reserve, 'k8s.pod.uid')).toBe(podUid);
    expect(tag(reserve, 'k8s.node.name')).toBe(tag(root, 'k8s.node.name'));
    expect(tag(reserve, 'schedmesh.reservation.outcome')).toBe('granted');
    const confirm = spanOf(attempt, 'schedmesh-reservation', 'schedmesh.v1.ReservationService/Confirm');
    expect(tag(confirm, 'schedmesh.fencing_version')).toBe(tag(reserve, 'schedmesh.fencing_version'));
  });

  test('filterscore records one event per plugin that scored, with a bounded summary', () => {
    const evaluate = spanOf(attempt, 'schedmesh-filterscore', 'filterscore.Evaluate');
    expect(tag(evaluate, 'schedmesh.nodes_feasible')).toBe(NODES);
    const events = (evaluate.logs ?? []).map((l) => Object.fromEntries(l.fields.map((f) => [f.key, f.value])));
    const scored = events.filter((e) => e.event === 'plugin.score');
    expect(scored.length).toBeGreaterThan(0);
    expect(scored.map((e) => e['schedmesh.plugin'])).toContain('NodeResourcesFit');
    for (const e of scored) expect(e['schedmesh.nodes_scored']).toBe(NODES);
    // Bounded by the plugins, not the nodes.
    expect(events.length).toBeLessThan(NODES);
  });

  test("the informer → NATS → snapshot path: the root and the snapshot's apply both link to the informer's publish of the pod", async () => {
    const links = linksOf(root);
    expect(links).toHaveLength(1);
    const publish = links[0]!;
    const published = await getTrace(jaeger.queryUrl, publish.traceID, { timeoutMs: 60_000 });
    const publishSpan = published.spans.find((s) => s.spanID === publish.spanID);
    expect(publishSpan && service(published, publishSpan)).toBe('schedmesh-informer');

    const applies = await pollUntil(
      async () => {
        const traces = await findTraces(jaeger.queryUrl, 'schedmesh-snapshot', { operation: 'apply pod', limit: 1_000, timeoutMs: 60_000 });
        const found = traces.flatMap((t) => t.spans).filter((s) => s.operationName === 'apply pod' && linksOf(s).some((l) => l.spanID === publish.spanID));
        return found.length > 0 ? found : undefined;
      },
      { what: "the snapshot's apply of the pod event, linked to its publish", timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(tag(applies[0]!, 'span.kind')).toBe('consumer');
    expect(parentOf(applies[0]!)).toBeUndefined();
  }, 150_000);
});

describe('extender mode: one trace per verb call', () => {
  test("a filter call with a traceparent yields the extender's span under that parent, and the attempt's spans under it", async () => {
    expect(extenderStatus).toBe(200);
    const t = await traceWith(caller.traceId, ['schedmesh-extender', 'schedmesh-admission', 'schedmesh-filterscore']);
    const verb = spanOf(t, 'schedmesh-extender', 'POST /schedmesh/filter');
    expect(parentOf(verb)).toBe(caller.spanId);
    expect(tag(verb, 'http.response.status_code')).toBe(200);
    const attemptRoot = spanOf(t, 'schedmesh-extender', 'schedule_one');
    expect(parentOf(attemptRoot)).toBe(verb.spanID);
    expect(tag(attemptRoot, 'k8s.pod.name')).toBe('via-extender');
    expect(ancestry(t, spanOf(t, 'schedmesh-filterscore', 'filterscore.Evaluate'))).toContain('schedmesh-extender:schedule_one');
    expect(ancestry(t, spanOf(t, 'schedmesh-admission', 'schedmesh.v1.AdmissionService/Admit'))).toContain('schedmesh-extender:schedule_one');
  }, 90_000);
});
