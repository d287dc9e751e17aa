// The demo's fallback when the cluster binaries are not built: the informer
// publishes the sample cluster from a YAML fixture, the scheduler's Schedule
// RPC places each pod (leases in real Redis, over real NATS and gRPC), and
// the report says what this mode cannot show. Needs no Go build: it points
// SCHEDMESH_CLUSTER_BIN at an empty directory, as on a machine without Go.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { pollUntil } from '@schedmesh/testkit';

import { reportData } from '../../demo/src/report.js';

const ROOT = join(__dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'demo-fixture-e2e-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every live process whose process group is one of `groups`. */
function processesInGroups(groups: ReadonlySet<number>): string[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .flatMap((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        return groups.has(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])) ? [`${e} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`] : [];
      } catch {
        return [];
      }
    });
}

test('without cluster binaries the demo says so, places the sample through the Schedule RPC, and reports it', async () => {
  const emptyBin = join(dir, 'bin');
  const reportPath = join(dir, 'report.html');
  const statePath = join(dir, 'state.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/src/main.ts', '--short', '--exit', '--report', reportPath, '--state', statePath], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SCHEDMESH_CLUSTER_BIN: emptyBin },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  expect({ exit, out: exit === 0 ? '' : out }).toEqual({ exit: 0, out: '' });
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
  // No API server to review tenant RBAC: the tenant policy fails open here, as the note says.
  for (const p of of('intern-')) expect(p.state).toBe('bound');
  const web = report.pods.filter((p) => p.feature === 'web');
  expect(web.length).toBeGreaterThan(0);
  for (const p of web) expect(p).toMatchObject({ state: 'bound', node: expect.stringMatching(/^node-/) });
  const steps = new Map(report.steps.map((s) => [s.step, s.durationsMs]));
  expect(steps.get('attempt (Schedule RPC)')?.length).toBe(30);
  expect([...steps.keys()]).toEqual(expect.arrayContaining(['PreFilter/SchedmeshAdmission', 'Reserve/SchedmeshReservation', 'Permit/SchedmeshReservation']));

  // Exited by itself: nothing of it left.
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as { groups: number[]; dirs: string[] };
  expect(state.groups.length).toBeGreaterThanOrEqual(8);
  const groups = new Set([child.pid!, ...state.groups]);
  // tsx's esbuild helper ends when its pipe closes, right after the demo: allow it a moment.
  await pollUntil(async () => (processesInGroups(groups).length === 0 ? true : undefined), { what: 'no process of the demo left', timeoutMs: 30_000, intervalMs: 100 }).catch(() => undefined);
  expect(processesInGroups(groups)).toEqual([]);
  expect(state.dirs.filter((d) => existsSync(d))).toEqual([]);
}, 150_000);
