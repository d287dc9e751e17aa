// The schedmesh CLI end to end: the real binary (tools/cli, built), spawned as
// an operator runs it, against the whole mesh on a real control plane (etcd +
// kube-apiserver; informer, snapshot, filterscore, reservation on real Redis,
// admission, the gateway with the example cost-tracking REST plugin as Filter
// and Score, and the scheduler binding pods). Four fake nodes: fake-node-0 is
// premium (the REST filter refuses it to ordinary pods), fake-node-3 carries a
// taint, fake-node-1 is cheaper than fake-node-2 (the REST score). One pod
// binds, one fits nowhere, one an AdmissionPolicy rejects, one only the REST
// filter refuses; `why` explains each, in a table and as JSON, and its answers are checked against the API
// server's events and the scheduler's own records. `schedule --dry-run`,
// `status` and an unreachable scheduler complete it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { StatusView, WhyView, ScheduleView } from '@schedmesh/cli';
import { startExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { ExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { SchedulerApp } from '@schedmesh/scheduler-service';
import { createFakeNodes, fakeNodeSpecs, freePort, pollUntil, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { startE2eControlPlane, startE2eMesh } from './mesh.js';
import type { E2eMesh } from './mesh.js';

const BIN = join(__dirname, '../../tools/cli/bin/schedmesh.js');
const JAEGER = 'http://jaeger.test:16686';

let cp: ControlPlane;
let mesh: E2eMesh | undefined;
let plugin: ExamplePlugin | undefined;
let scheduler: SchedulerApp | undefined;

let cliEnv: NodeJS.ProcessEnv;

function pod(name: string, cpu: string, namespace = 'default', nodeSelector?: Record<string, string>): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'cli-e2e', 'cost-center': 'cc-7' } },
    spec: {
      schedulerName: 'schedmesh',
      ...(nodeSelector ? { nodeSelector } : {}),
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu, memory: '256Mi' } } }],
    },
  };
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built binary as a process; resolves with its exit code and output, whatever the code. */
function schedmesh(args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: options.env ?? cliEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`schedmesh ${args.join(' ')}: ${err.message}\n${stderr}`));
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}

async function json<T>(args: readonly string[], options: { input?: string } = {}): Promise<{ code: number; view: T }> {
  const run = await schedmesh([...args, '-o', 'json', '--jaeger-url', JAEGER], options);
  if (run.stderr !== '') throw new Error(`schedmesh ${args.join(' ')} wrote to stderr: ${run.stderr}`);
  return { code: run.code, view: JSON.parse(run.stdout) as T };
}

/** Waits until the scheduler's record of the pod says its attempt finished with `outcome`. */
async function attempted(namespace: string, name: string, outcome: string): Promise<void> {
  await pollUntil(async () => (scheduler!.records.byPodName(namespace, name)?.outcome === outcome && !scheduler!.records.byPodName(namespace, name)?.inFlight ? true : undefined), {
    what: `${namespace}/${name}'s attempt finished ${outcome}`,
    timeoutMs: 60_000,
    intervalMs: 200,
  });
}

beforeAll(async () => {
  if (!existsSync(join(__dirname, '../../tools/cli/dist/main.js'))) throw new Error('tools/cli/dist is missing: run `npm run build` before this test (it runs the built binary)');
  cp = await startE2eControlPlane(['locked']);
  const [premium, cheap, dear, tainted] = fakeNodeSpecs(4);
  await createFakeNodes(cp.kubeConfig, [
    { ...premium!, labels: { 'schedmesh.io/cost-tier': 'premium' } },
    { ...cheap!, labels: { 'schedmesh.io/hourly-cost': '100' } },
    { ...dear!, labels: { 'schedmesh.io/hourly-cost': '300' } },
    { ...tainted!, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
  ]);

  plugin = await startExamplePlugin();
  const pluginsFile = join(mkdtempSync(join(tmpdir(), 'cli-e2e-')), 'plugins.yaml');
  writeFileSync(pluginsFile, `plugins:\n- name: cost-tracking\n  type: rest\n  endpoint: ${plugin.url}\n  extensionPoints: [filter, score]\n  failurePolicy: Fail\n`);
  mesh = await startE2eMesh(cp, { name: 'cli-e2e', nodes: 4, pluginsFile, admission: true });
  scheduler = mesh.scheduler;

  const { informer, snapshot, filterscore, reservation, admission, gateway } = mesh;
  const ports = { informer, snapshot, filterscore, reservation, admission: admission!, gateway: gateway!, scheduler };
  cliEnv = {
    PATH: process.env.PATH,
    ...Object.fromEntries(Object.entries(ports).map(([name, app]) => [`SCHEDMESHCTL_${name.toUpperCase()}_ADDRESS`, `127.0.0.1:${app.grpcPort}`])),
    // No extender runs here: a port nobody listens on.
    SCHEDMESHCTL_EXTENDER_ADDRESS: `127.0.0.1:${await freePort()}`,
  };

  await runKubectl(
    cp,
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'schedmesh.io/v1alpha1', kind: 'AdmissionPolicy', metadata: { name: 'lockdown' }, spec: { targetNamespaces: { names: ['locked'] }, hibernation: { allApps: true } } }),
  );
  // The policy reaches admission through its own watch; a pod created first could be admitted before it.
  await pollUntil(async () => (mesh!.admission!.store.policies().some((p) => p.key === 'lockdown') ? true : undefined), { what: 'admission knows the lockdown policy', timeoutMs: 60_000, intervalMs: 200 });
  await cp.core.createNamespacedPod({ namespace: 'default', body: pod('web', '250m') });
  await cp.core.createNamespacedPod({ namespace: 'default', body: pod('huge', '64') });
  await cp.core.createNamespacedPod({ namespace: 'locked', body: pod('refused', '250m', 'locked') });
  // Fits only the premium node, which the REST filter keeps for premium pods.
  await cp.core.createNamespacedPod({ namespace: 'default', body: pod('picky', '250m', 'default', { 'kubernetes.io/hostname': 'fake-node-0' }) });
  await attempted('default', 'web', 'scheduled');
  await attempted('default', 'picky', 'unschedulable');
  await attempted('default', 'huge', 'unschedulable');
  await attempted('locked', 'refused', 'rejected');
}, 240_000);

afterAll(async () => {
  await mesh?.stop();
  await plugin?.close();
  await cp?.stop();
}, 120_000);

describe('schedmesh why', () => {
  test('a bound pod: its node, the top-scored nodes with every plugin (the REST score among them), the rejections and the trace', async () => {
    const bound = (await cp.core.readNamespacedPod({ namespace: 'default', name: 'web' })).spec?.nodeName;
    const record = scheduler!.records.byPodName('default', 'web')!;
    const { code, view } = await json<WhyView>(['why', 'default/web']);
    expect(code).toBe(0);
    expect(view).toMatchObject({ pod: 'default/web', state: 'bound', node: bound, lastResult: 'scheduled', traceId: record.traceId, traceUrl: `${JAEGER}/trace/${record.traceId}` });
    expect(record.traceId).toMatch(/^[0-9a-f]{32}$/);
    // The REST filter refused the premium node, TaintToleration the tainted one; two nodes were feasible and scored.
    expect(view.explanation?.rejectedNodes).toBe(2);
    expect(view.explanation?.reasons).toEqual(
      expect.arrayContaining([
        { reason: 'premium node reserved for premium cost centers', nodes: 1, examples: ['fake-node-0'], plugin: 'cost-tracking', resolvable: true },
        expect.objectContaining({ reason: expect.stringMatching(/untolerated taint\(s\)/), nodes: 1, examples: ['fake-node-3'], plugin: 'TaintToleration', resolvable: false }),
      ]),
    );
    const top = new Map(view.explanation!.topNodes.map((n) => [n.node, n]));
    expect([...top.keys()].sort()).toEqual(['fake-node-1', 'fake-node-2']);
    const rest = (node: string) => top.get(node)!.plugins.find((p) => p.plugin === 'SchedmeshGateway')?.score;
    expect(rest('fake-node-1')).toBe(100); // the cheaper node
    expect(rest('fake-node-2')).toBe(0);
    for (const n of top.values()) {
      expect(n.plugins.map((p) => p.plugin)).toContain('NodeResourcesFit');
      expect(n.total).toBe(n.plugins.reduce((sum, p) => sum + p.score * p.weight, 0));
    }

    const table = await schedmesh(['why', 'default/web', '--jaeger-url', JAEGER]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^Node:\\s+${bound}$`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^Trace:\\s+${JAEGER}/trace/${record.traceId}$`, 'm'));
    expect(table.stdout).toMatch(new RegExp(`^${bound} \\(chosen\\)\\s+${top.get(bound!)!.total}\\s`, 'm'));
    expect(table.stdout).toMatch(/^NODE\s+TOTAL\s.*SchedmeshGateway ×1/m);
    expect(table.stdout).toMatch(/^premium node reserved for premium cost centers\s+1\s+cost-tracking\s+yes\s+fake-node-0$/m);
  }, 60_000);

  test('a pod that fits nowhere: the reasons grouped as its FailedScheduling event counts them, and the deciding plugin', async () => {
    const event = await pollUntil(
      async () => (await cp.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=huge' })).items.find((e) => e.reason === 'FailedScheduling'),
      { what: "huge's FailedScheduling event", timeoutMs: 30_000, intervalMs: 200 },
    );
    const { code, view } = await json<WhyView>(['why', 'huge', '-n', 'default']);
    expect(code).toBe(0);
    expect(['unschedulable', 'backoff', 'active', 'in-flight']).toContain(view.state);
    expect(view).toMatchObject({ pod: 'default/huge', node: '', lastResult: 'unschedulable' });
    expect(view.message).toBe(event.message);
    expect(view.message).toMatch(/^0\/4 nodes are available: 1 node\(s\) had untolerated taint\(s\), 3 Insufficient cpu\./);
    expect(view.explanation).toMatchObject({ rejectedNodes: 4, decidedBy: 'NodeResourcesFit, TaintToleration', topNodes: [] });
    expect(view.explanation!.reasons.map((r) => [r.reason, r.nodes, r.plugin, [...r.examples].sort()])).toEqual([
      ['node(s) had untolerated taint(s)', 1, 'TaintToleration', ['fake-node-3']],
      ['Insufficient cpu', 3, 'NodeResourcesFit', ['fake-node-0', 'fake-node-1', 'fake-node-2']],
    ]);

    const table = await schedmesh(['why', 'default/huge']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Decided by:\s+NodeResourcesFit, TaintToleration$/m);
    expect(table.stdout).toMatch(/^Rejected nodes \(4\):$/m);
    // 64 CPUs exceed every node's allocatable: no eviction can help, as upstream's NodeResourcesFit says.
    expect(table.stdout).toMatch(/^Insufficient cpu\s+3\s+NodeResourcesFit\s+no\s+fake-node-\d, fake-node-\d, fake-node-\d$/m);
    expect(table.stdout).toMatch(/^Trace:\s+http:\/\/127\.0\.0\.1:16686\/trace\/[0-9a-f]{32}$/m); // the default Jaeger UI
  }, 60_000);

  test('a pod an AdmissionPolicy rejects: admission decided, and the policy is named', async () => {
    const { code, view } = await json<WhyView>(['why', 'locked/refused']);
    expect(code).toBe(0);
    expect(view).toMatchObject({ lastResult: 'rejected', node: '' });
    expect(view.explanation?.decidedBy).toBe('SchedmeshAdmission');
    expect(view.explanation?.admissionPolicies.join(',')).toMatch(/lockdown/);
    expect(view.message).toMatch(/lockdown/);
    const table = await schedmesh(['why', 'locked/refused']);
    expect(table.stdout).toMatch(/^Decided by:\s+SchedmeshAdmission$/m);
    expect(table.stdout).toMatch(/^Admission policies:\s+.*lockdown/m);
  }, 60_000);

  test('a pod only a REST plugin refuses: the REST plugin decided', async () => {
    const { code, view } = await json<WhyView>(['why', 'default/picky']);
    expect(code).toBe(0);
    expect(view).toMatchObject({ lastResult: 'unschedulable', node: '' });
    expect(view.message).toBe('0/1 ranked nodes passed the REST plugins: premium node reserved for premium cost centers');
    expect(view.explanation?.decidedBy).toBe('cost-tracking');
    // Filters stop at a node's first failure: TaintToleration runs before NodeAffinity, as upstream orders them.
    expect(view.explanation?.reasons.map((r) => [r.reason, r.nodes, r.plugin, [...r.examples].sort()])).toEqual([
      ['node(s) had untolerated taint(s)', 1, 'TaintToleration', ['fake-node-3']],
      ['premium node reserved for premium cost centers', 1, 'cost-tracking', ['fake-node-0']],
      ["node(s) didn't match Pod's node affinity/selector", 2, 'NodeAffinity', ['fake-node-1', 'fake-node-2']],
    ]);
  }, 60_000);

  test('a pod the scheduler does not know: exit 3 and a message on stderr', async () => {
    const run = await schedmesh(['why', 'default/never-created']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^schedmesh: the scheduler at 127\.0\.0\.1:\d+ has no attempt at default\/never-created: it has not tried it yet, its schedulerName is not one/);
  }, 60_000);

  test('an unreachable scheduler: exit 1, naming the address and how to set it', async () => {
    const port = await freePort();
    const run = await schedmesh(['why', 'default/web', '--scheduler', `127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`schedmesh: scheduler unreachable at 127.0.0.1:${port}: is it running? set --scheduler or SCHEDMESHCTL_SCHEDULER_ADDRESS (connect ECONNREFUSED 127.0.0.1:${port})\n`);
  }, 60_000);
});

describe('schedmesh schedule --dry-run', () => {
  test('a pod that fits: scheduled on a feasible node (exit 0), nothing bound or held', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-e2e-pod-'));
    const file = join(dir, 'pod.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: probe\n  labels: { cost-center: cc-7 }\nspec:\n  schedulerName: schedmesh\n  containers:\n  - name: c\n    resources: { requests: { cpu: 500m } }\n',
    );
    const { code, view } = await json<ScheduleView>(['schedule', '-f', file, '--dry-run']);
    expect(code).toBe(0);
    expect(view).toMatchObject({ pod: 'default/probe', result: 'scheduled' });
    expect(['fake-node-1', 'fake-node-2']).toContain(view.node);
    expect(view.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(view.explanation.topNodes.map((n) => n.node).sort()).toEqual(['fake-node-1', 'fake-node-2']);
    expect(view.steps.map((s) => s.point)).toEqual(expect.arrayContaining(['PreFilter', 'Filter', 'Score']));
    expect(view.steps.map((s) => s.point)).not.toContain('Reserve');

    const table = await schedmesh(['schedule', '-f', file, '--dry-run']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Result:\s+scheduled$/m);
    expect(table.stdout).toMatch(/^PreFilter\s+SchedmeshAdmission\s+Success\s/m);
    // A dry run holds nothing: no pod named probe exists, and the scheduler recorded no attempt for one.
    expect(scheduler!.records.byPodName('default', 'probe')).toBeUndefined();
  }, 60_000);

  test('a pod that fits nowhere, as JSON on stdin: unschedulable (exit 4) with the grouped reasons', async () => {
    const manifest = JSON.stringify(pod('huge-probe', '64'));
    const { code, view } = await json<ScheduleView>(['schedule', '-f', '-', '--dry-run'], { input: manifest });
    expect(code).toBe(4);
    expect(view).toMatchObject({ result: 'unschedulable', node: '' });
    expect(view.message).toMatch(/^0\/4 nodes are available: 1 node\(s\) had untolerated taint\(s\), 3 Insufficient cpu\./);
    expect(view.explanation.reasons.map((r) => [r.reason, r.nodes])).toEqual([
      ['node(s) had untolerated taint(s)', 1],
      ['Insufficient cpu', 3],
    ]);
  }, 60_000);

  test('a manifest that is not a pod: exit 2, naming the field', async () => {
    const run = await schedmesh(['schedule', '-f', '-', '--dry-run'], { input: JSON.stringify(pod('bad', '2 cores')) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^schedmesh: stdin: Pod "default\/bad": spec\.containers\[0\]\.resources\.requests\[cpu\]/);
  }, 60_000);
});

describe('schedmesh status', () => {
  test('every running service serving, the generations, the queues; a missing extender makes it exit 4', async () => {
    const running = 'scheduler,informer,snapshot,filterscore,reservation,admission,gateway';
    const { code, view } = await json<StatusView>(['status', '--services', running]);
    expect(code).toBe(0);
    expect(view.healthy).toBe(true);
    expect(view.services.map((s) => [s.service, s.health])).toEqual(running.split(',').map((s) => [s, 'serving']));
    const row = (name: string) => view.services.find((s) => s.service === name)!;
    expect(row('scheduler').address).toBe(`127.0.0.1:${scheduler!.grpcPort}`);
    expect(row('scheduler').generation).toBeGreaterThan(0);
    expect(row('snapshot').generation).toBeGreaterThan(0);
    expect(row('gateway').generation).toBeUndefined();
    // huge, refused and picky wait in the scheduler's queues; they and web are recorded.
    const q = view.queues!;
    expect(q.active + q.backoff + q.unschedulable + q.inFlight).toBeGreaterThanOrEqual(3);
    expect(q.recordedPods).toBeGreaterThanOrEqual(4);

    const all = await schedmesh(['status']);
    expect(all.code).toBe(4);
    expect(all.stdout).toMatch(/^scheduler\s+127\.0\.0\.1:\d+\s+serving\s+\d+$/m);
    expect(all.stdout).toMatch(new RegExp(`^extender\\s+${cliEnv.SCHEDMESHCTL_EXTENDER_ADDRESS}\\s+unreachable\\s+-\\s+extender unreachable at .*is it running\\?`, 'm'));
    expect(all.stdout).toMatch(/^Scheduler queues:$/m);
  }, 60_000);
});
