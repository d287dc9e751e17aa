// The demo's fallback when the cluster binaries are not built: the informer
// publishes the sample cluster from a YAML fixture, the scheduler's Schedule
// RPC places each pod (leases in real Redis, over real NATS and gRPC), and
// the report says what this mode cannot show. Needs no Go build: it points
// SCHEDMESH_CLUSTER_BIN at an empty directory, as on a machine without Go.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, test } from '@jest/globals';

import { reportData } from '../../demo/src/report.js';
import { leftInGroups, readState, runDemo } from './demo-process.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'demo-fixture-e2e-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('without cluster binaries the demo says so, places the sample through the Schedule RPC, and reports it', async () => {
  const emptyBin = join(dir, 'bin');
  const reportPath = join(dir, 'report.html');
  const statePath = join(dir, 'state.json');
  const demo = runDemo(['--short', '--exit', '--report', reportPath, '--state', statePath], { ...process.env, SCHEDMESH_CLUSTER_BIN: emptyBin });
  const { code } = await demo.exited;
  const out = demo.output();
  expect({ code, out: code === 0 ? '' : out }).toEqual({ code: 0, out: '' });
  expect(out).toContain(`cluster binaries missing: etcd is not built: ${join(emptyBin, 'etcd')}`);
  expect(out).toContain('falling back to fixture mode');

  const report = reportData(readFileSync(reportPath, 'utf8'));
  expect(report.note).toMatch(/^Fixture mode/);
  expect(report.pods).toHaveLength(30);
  expect(report.nodes).toHaveLength(66);
  expect(report.trace).toBeUndefined();
  const of = (prefix: string) => report.pods.filter((p) => p.name.startsWith(prefix));
  // The gang completes on the GPU pool; the incomplete one times out at Permit; admission still refuses.
  expect(of('train-a-').map((p) => p.node)).toEqual([expect.stringMatching(/^gpu-node-/), expect.stringMatching(/^gpu-node-/), expect.stringMatching(/^gpu-node-/), expect.stringMatching(/^gpu-node-/)]);
  for (const p of of('train-b-')) expect(p).toMatchObject({ state: 'refused', reason: expect.stringMatching(/gang ml\/train-b timed out/) });
  for (const p of of('reports-')) expect(p).toMatchObject({ state: 'refused', reason: expect.stringMatching(/hibernating/) });
  expect(of('giant')[0]).toMatchObject({ state: 'refused', reason: expect.stringMatching(/^0\/66 nodes are available: .*Insufficient cpu/) });
  for (const p of of('untracked-')) expect(p).toMatchObject({ state: 'refused', reason: 'pod has no cost-center label' });
  // No API server to review tenant RBAC: the tenant policy fails open here, as the note says, and the
  // intern's GPU pods are stopped by the GPU compliance plugin instead (nobody attested them).
  for (const p of of('intern-')) expect(p).toMatchObject({ state: 'refused', reason: 'Missing security attestation' });
  for (const p of of('unattested-')) expect(p).toMatchObject({ state: 'refused', reason: 'Missing security attestation' });
  for (const p of [...of('infer-'), ...of('train-a-')]) expect(p).toMatchObject({ state: 'bound', node: expect.stringMatching(/^gpu-node-[0-2]$/) });
  const web = report.pods.filter((p) => p.feature === 'web');
  expect(web.length).toBeGreaterThan(0);
  for (const p of web) expect(p).toMatchObject({ state: 'bound', node: expect.stringMatching(/^node-/) });
  const steps = new Map(report.steps.map((s) => [s.step, s.durationsMs]));
  expect(steps.get('attempt (Schedule RPC)')?.length).toBe(30);
  expect([...steps.keys()]).toEqual(expect.arrayContaining(['PreFilter/SchedmeshAdmission', 'Reserve/SchedmeshReservation', 'Permit/SchedmeshReservation']));

  // Exited by itself: nothing of it left.
  const state = readState(statePath);
  expect(state.groups.length).toBeGreaterThanOrEqual(8);
  expect(await leftInGroups(new Set([demo.child.pid!, state.watchdog, ...state.groups]))).toEqual([]);
  expect(state.dirs.filter((d) => existsSync(d))).toEqual([]);
}, 150_000);
