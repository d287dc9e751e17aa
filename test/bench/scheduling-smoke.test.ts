// The scheduling benchmark (bench/scheduling), small, as CI runs it: 500
// nodes and 1,000 pods (250 in each of the four modes, SchedulingBasic). No
// thresholds: it checks that every mode bound every pod that fits, that the
// JSON holds each mode's figures and that the chart is written. Then the bad input the benchmark must survive:
// a missing binary, a taken port, a bad flag and an exceeded time bound each
// stop it with a message, and none leaves a process behind.
// The benchmark runs as its own process (node --import tsx), as a user runs
// it; every process it starts inherits a marker variable, which is how the
// test finds any it left.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, test } from '@jest/globals';

import type { SchedulingReport } from '../../bench/scheduling/report';
import { markedProcesses as marked } from './marked-processes';

const ROOT = join(__dirname, '..', '..');
const MARK = 'SCHEDULING_BENCH_TEST_MARK';

interface BenchExit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The most processes carrying the run's marker seen at once while it ran. */
  readonly peakMarked: number;
}

/** Pids of processes whose environment carries the marker `value`. */
const markedProcesses = (value: string): number[] => marked(MARK, value);

/** Benchmarks still running: a test that timed out must not leave one behind. */
const running = new Set<ChildProcess>();

afterEach(async () => {
  for (const child of running) {
    // SIGTERM: the benchmark stops everything it started, then exits.
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}, 180_000);

/** Runs the benchmark with `args` to its end, watching how many marked processes it had. */
function runBench(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<BenchExit & { mark: string }> {
  const mark = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/scheduling/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, SCHEDMESH_CLUSTER_BIN: process.env.SCHEDMESH_CLUSTER_BIN ?? join(ROOT, 'test/cluster/bin'), ...env, [MARK]: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let peakMarked = 0;
  const census = setInterval(() => (peakMarked = Math.max(peakMarked, markedProcesses(mark).length)), 500);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      clearInterval(census);
      resolve({ code, stdout, stderr, peakMarked, mark });
    }),
  );
}

const MODES = ['ks', 'ks-extender', 'schedmesh-1', 'schedmesh-2'] as const;
const WORKLOADS = ['SchedulingBasic'] as const;

test(
  'every mode binds every pod that fits, and the JSON and the chart say so',
  async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'scheduling-smoke-')), 'smoke.json');
    const run = await runBench(['--nodes', '500', '--initial-pods', '100', '--pods', '250', '--workloads', WORKLOADS.join(','), '--modes', MODES.join(','), '--floor-rounds', '200', '--phase-limit', '300', '--trace-sample', '1', '--out', out]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(markedProcesses(run.mark)).toEqual([]);

    const report = JSON.parse(readFileSync(out, 'utf8')) as SchedulingReport;
    expect(report.floors.map((f) => f.name)).toEqual(['gRPC unary (health Check, loopback)', 'Redis PING', 'Redis SET']);
    for (const f of report.floors) expect(f.p50Ms).toBeGreaterThan(0);
    expect(report.phases.map((p) => `${p.workload}/${p.mode}`)).toEqual(WORKLOADS.flatMap((w) => MODES.map((m) => `${w}/${m}`)));
    for (const p of report.phases) {
      expect({ phase: `${p.workload}/${p.mode}`, bound: p.bound, timedOut: p.timedOut, unfitBound: p.unfitBound }).toEqual({ phase: `${p.workload}/${p.mode}`, bound: p.measured, timedOut: false, unfitBound: 0 });
      expect(p.measured).toBe(250);
      expect(p.podsPerSecond).toBeGreaterThan(0);
      expect(p.latencyP99Ms).toBeGreaterThanOrEqual(p.latencyP50Ms);
      expect(p.ratioToKubeScheduler).toBeGreaterThan(0);
      const names = p.cost.processes.map((c) => c.name);
      expect(names).toEqual(expect.arrayContaining(['kube-apiserver', 'etcd']));
      for (const c of p.cost.processes) {
        expect(c.cpuSeconds).toBeGreaterThanOrEqual(0);
        expect(c.peakRssBytes).toBeGreaterThan(0);
      }
      if (p.mode.startsWith('ks')) expect(names).toContain('kube-scheduler');
      if (p.mode !== 'ks') expect(names).toEqual(expect.arrayContaining(['informer', 'snapshot', 'filterscore', 'reservation', 'admission']));
      // Each mode runs what its deploy overlay deploys: the extender only with kube-scheduler, the schedmesh scheduler only standalone.
      expect({ mode: p.mode, extender: names.includes('extender'), scheduler: names.includes('scheduler') }).toEqual({ mode: p.mode, extender: p.mode === 'ks-extender', scheduler: p.mode.startsWith('schedmesh') });
      expect(names.includes('scheduler-2')).toBe(p.mode === 'schedmesh-2');
      // The idle meter ran before the mode's first phase, over the same processes.
      expect(Object.keys(p.idleCores ?? {}).sort()).toEqual([...names].sort());
      for (const cores of Object.values(p.idleCores ?? {})) expect(cores).toBeGreaterThanOrEqual(0);
      // Every mode binds through the Binding subresource: the apiserver's counters see each measured pod's.
      expect(p.apiRequests.find((r) => r.request === 'POST pods/binding')?.count).toBeGreaterThanOrEqual(p.bound);
      // The mesh's modes break the attempt into steps from the services' spans (here every attempt is traced; kube-scheduler's steps come from its metrics).
      expect(p.traceSampleRatio).toBe(p.mode === 'ks' ? 0 : 1);
      if (p.mode !== 'ks') expect(p.steps.find((s) => s.name === 'schedule_one')?.count).toBeGreaterThanOrEqual(p.bound);
    }
    expect(report.phases.find((p) => p.mode === 'ks')?.ratioToKubeScheduler).toBe(1);

    const svg = readFileSync(out.replace(/\.json$/, '.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    for (const p of report.phases) expect(svg).toContain(p.modeLabel);
    expect(svg.match(/<rect [^>]*><title>/g)?.length).toBe(report.phases.length);
  },
  // On the shared 2-core machine at load 30: 8.8 minutes (1,000 pods in every mode took 14.5), most of it the extender's ~5 pods/s.
  900_000,
);

describe('bad input stops the benchmark with a message and leaves nothing running', () => {
  test('a missing cluster binary', async () => {
    const run = await runBench(['--nodes', '5', '--pods', '5'], { SCHEDMESH_CLUSTER_BIN: mkdtempSync(join(tmpdir(), 'no-binaries-')) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/etcd is not built: .* does not exist or is not executable/);
    expect(markedProcesses(run.mark)).toEqual([]);
  }, 180_000);

  test('a bad flag names the flag', async () => {
    const run = await runBench(['--nodes', 'many']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--nodes must be an integer ≥ 1, got "many"/);
    const unknown = await runBench(['--workloads', 'SchedulingBasic,Nope']);
    expect(unknown.stderr).toMatch(/--workloads: unknown Nope/);
  }, 180_000);

  test('a taken port', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const run = await runBench(['--nodes', '5', '--pods', '5', '--otlp-port', String(port)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port 127.0.0.1:${port} is taken (--otlp-port)`);
      expect(markedProcesses(run.mark)).toEqual([]);
    } finally {
      taken.close();
    }
  }, 180_000);

  test('a run past its time bound: every child is killed', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'scheduling-bound-')), 'bound.json');
    const run = await runBench(['--nodes', '50', '--pods', '50', '--time-limit', '30', '--out', out]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('the run exceeded its time bound of 30 s (--time-limit); every process it started is stopped');
    // It had started processes (Redis, NATS, etcd, …), and none outlived it.
    expect(run.peakMarked).toBeGreaterThan(1);
    expect(markedProcesses(run.mark)).toEqual([]);
  }, 240_000);
});
