// The demo (`npm start`) end to end, as a user runs it: its own process (tsx)
// starting etcd + kube-apiserver, Jaeger, NATS, Redis, every service and the
// REST plugin as processes of their own. The report must match what the API
// server holds, the trace it names must be in Jaeger, and after SIGINT no
// process of the demo may be left. Missing binaries fail the suite with the
// build command.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { getTrace, pollUntil, requireBinary } from '@schedmesh/testkit';

import { refusalsByReason } from '../../demo/src/placements.js';
import { reportData } from '../../demo/src/report.js';
import type { ReportData } from '../../demo/src/report.js';
import { alive, leftInGroups, processesInGroups, readState, runDemo } from './demo-process.js';
import type { DemoState } from './demo-process.js';

let dir: string;
let occupied: Server | undefined;

beforeAll(() => {
  for (const b of ['etcd', 'kube-apiserver', 'kubectl', 'jaeger'] as const) requireBinary(b);
  dir = mkdtempSync(join(tmpdir(), 'demo-e2e-'));
});

afterAll(async () => {
  await new Promise<void>((resolve) => (occupied ? occupied.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start (the demo)', () => {
  test('a port in use that the user asked for is named, and the demo exits 2 without starting anything', async () => {
    occupied = createServer();
    await new Promise<void>((resolve) => occupied!.listen(0, '127.0.0.1', resolve));
    const port = (occupied.address() as AddressInfo).port;
    const demo = runDemo(['--short', '--exit', '--jaeger-port', String(port), '--report', join(dir, 'never.html')]);
    const exit = await demo.exited;
    expect(exit.code).toBe(2);
    expect(demo.output()).toContain(`port ${port} (--jaeger-port`);
    expect(demo.output()).not.toContain('starting etcd');
    expect(existsSync(join(dir, 'never.html'))).toBe(false);
  }, 60_000);

  test('schedules the short sample, reports what the API server holds, and leaves no process after SIGINT', async () => {
    const reportPath = join(dir, 'report.html');
    const statePath = join(dir, 'state.json');
    const demo = runDemo(['--short', '--report', reportPath, '--state', statePath]);
    const demoGroup = demo.child.pid!;
    let state: DemoState | undefined;
    try {
      await pollUntil(async () => (demo.output().includes('Ctrl-C stops everything') ? true : undefined), {
        what: 'the demo to write its report and keep running',
        timeoutMs: 150_000,
        intervalMs: 250,
        abortIf: () => (demo.child.exitCode !== null ? `the demo exited early:\n${demo.output().slice(-3000)}` : undefined),
      });
      state = readState(statePath);
      const report: ReportData = reportData(readFileSync(reportPath, 'utf8'));

      // The report's placements are the API server's.
      const kc = new KubeConfig();
      kc.loadFromFile(state.kubeconfig!);
      const core = kc.makeApiClient(CoreV1Api);
      const live = (await Promise.all(['shop', 'analytics', 'ml'].map((namespace) => core.listNamespacedPod({ namespace, labelSelector: 'schedmesh.io/demo=true' })))).flatMap((l) => l.items);
      expect(report.pods).toHaveLength(30);
      expect(live).toHaveLength(30);
      const byName = new Map(report.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
      for (const pod of live) {
        const reported = byName.get(`${pod.metadata!.namespace}/${pod.metadata!.name}`);
        expect(reported).toBeDefined();
        if (pod.spec?.nodeName) expect(reported).toMatchObject({ state: 'bound', node: pod.spec.nodeName });
        else expect(reported!.state).not.toBe('bound');
      }
      const nodeNames = new Set((await core.listNode({})).items.map((n) => n.metadata!.name!));
      expect(report.nodes.map((n) => n.name).sort()).toEqual([...nodeNames].sort());
      expect(nodeNames.size).toBe(66);

      // Every feature shows: bound gang and web pods, each refusal with its reason.
      const of = (prefix: string) => report.pods.filter((p) => p.name.startsWith(prefix));
      expect(of('train-a-').map((p) => p.state)).toEqual(['bound', 'bound', 'bound', 'bound']);
      for (const p of of('train-a-')) expect(p.node).toMatch(/^gpu-node-/);
      expect(of('uploader-').every((p) => p.state === 'bound')).toBe(true);
      const refusal = (prefix: string): string[] => of(prefix).map((p) => `${p.state}: ${p.reason ?? ''}`);
      for (const r of refusal('train-b-')) expect(r).toMatch(/^refused: .*gang ml\/train-b timed out/);
      for (const r of refusal('intern-')) expect(r).toMatch(/^refused: .*nvidia\.com\/gpu.*ml-tenant/);
      for (const r of refusal('reports-')) expect(r).toMatch(/^refused: .*hibernating/);
      expect(refusal('debug-etc')).toEqual([expect.stringMatching(/^refused: .*"\/etc" is not in the host-path allowlist/)]);
      expect(refusal('log-writer')).toEqual([expect.stringMatching(/^refused: .*may only be mounted read-only/)]);
      for (const r of refusal('untracked-')) expect(r).toBe('refused: pod has no cost-center label');
      expect(refusal('giant')).toEqual([expect.stringMatching(/^refused: 0\/66 nodes are available: .*Insufficient cpu/)]);

      // GPU compliance: unattested GPU pods are refused at PreFilter, with the reason in the console and the
      // report's refusals; every GPU pod that bound is on a node the API server has labelled attested.
      for (const r of refusal('unattested-')) expect(r).toBe('refused: Missing security attestation');
      expect(refusal('borrowed-attestation')).toEqual([
        expect.stringMatching(/^refused: Missing security attestation: .* not valid \(the signature does not verify for service account shop\/default\)/),
      ]);
      const missing = refusalsByReason(report.pods).find((g) => g.reason === 'Missing security attestation');
      expect(missing?.pods.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(['ml/unattested-0', 'ml/unattested-1']);
      expect(demo.output()).toMatch(/2 × Missing security attestation\n\s+ml\/unattested-0, ml\/unattested-1/);
      expect(of('infer-').map((p) => p.state)).toEqual(['bound', 'bound']);
      const attestedNodes = new Set((await core.listNode({ labelSelector: 'schedmesh.io/gpu-attested=true' })).items.map((n) => n.metadata!.name!));
      expect(attestedNodes.size).toBe(3);
      const boundGpuPods = live.filter((p) => p.spec?.nodeName && p.spec.containers.some((c) => c.resources?.requests?.['nvidia.com/gpu']));
      expect(boundGpuPods.map((p) => p.metadata!.name).sort()).toEqual(['infer-0', 'infer-1', 'train-a-0', 'train-a-1', 'train-a-2', 'train-a-3']);
      for (const p of boundGpuPods) expect(`${p.metadata!.name} on ${p.spec!.nodeName!}: ${attestedNodes.has(p.spec!.nodeName!)}`).toBe(`${p.metadata!.name} on ${p.spec!.nodeName!}: true`);
      const html = readFileSync(reportPath, 'utf8');
      expect(html).not.toMatch(/<(link|img|iframe)\b|src=|@import|https?:\/\/(?!127\.0\.0\.1)/);
      for (const node of nodeNames) expect(html).toContain(`title="${node} (`);
      expect(html).toContain('<tr><td>2</td><td>Missing security attestation</td><td>ml/unattested-0, ml/unattested-1</td></tr>');

      // Latency per step, from the scheduler's spans, and a trace Jaeger really holds.
      const steps = new Map(report.steps.map((s) => [s.step, s.durationsMs]));
      expect(steps.get('attempt (schedule_one)')?.length).toBeGreaterThanOrEqual(17);
      expect([...steps.keys()]).toEqual(expect.arrayContaining([expect.stringMatching(/^Reserve\//), expect.stringMatching(/^Bind\//), expect.stringMatching(/^Permit\//)]));
      expect(report.trace).toBeDefined();
      expect(report.trace!.name).toMatch(/^train-a-/);
      const trace = await getTrace(state.jaeger!, report.trace!.traceId);
      expect(trace.spans.some((s) => s.operationName === 'schedule_one')).toBe(true);
      expect(demo.output()).toContain(report.trace!.apiUrl);
    } finally {
      demo.child.kill('SIGINT');
    }
    const exit = await demo.exited;
    expect(exit).toEqual({ code: 130, signal: null });
    // Nothing left: no process in the demo's own group (NATS, Redis) nor in any group it led.
    const groups = new Set([demoGroup, state.watchdog, ...state.groups]);
    expect(state.groups.length).toBeGreaterThanOrEqual(10);
    expect(await leftInGroups(groups)).toEqual([]);
    expect(state.dirs.filter((d) => existsSync(d))).toEqual([]);
  }, 200_000);

  test('killed outright (SIGKILL), the demo leaves nothing running: its watchdog ends every process it had started', async () => {
    const statePath = join(dir, 'killed.json');
    const demo = runDemo(['--short', '--report', join(dir, 'killed.html'), '--state', statePath]);
    try {
      await pollUntil(async () => (existsSync(statePath) ? true : undefined), {
        what: 'the mesh up (state file written)',
        timeoutMs: 150_000,
        intervalMs: 250,
        abortIf: () => (demo.child.exitCode !== null ? `the demo exited early:\n${demo.output().slice(-3000)}` : undefined),
      });
    } catch (err) {
      demo.child.kill('SIGINT');
      throw err;
    }
    const state = readState(statePath);
    const groups = new Set([demo.child.pid!, state.watchdog, ...state.groups]);
    expect(processesInGroups(groups).length).toBeGreaterThan(state.groups.length);
    process.kill(demo.child.pid!, 'SIGKILL');
    expect(await demo.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // The watchdog notices within a second, kills, removes the directories, and ends.
    expect(await leftInGroups(groups)).toEqual([]);
    expect(alive(state.watchdog)).toBe(false);
    // And its temporary directories (the run's, the control plane's, Jaeger's) are gone.
    expect(state.dirs).toHaveLength(3);
    expect(state.dirs.filter((d) => existsSync(d))).toEqual([]);
  }, 200_000);
});
