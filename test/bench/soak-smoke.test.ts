// The memory soak (bench/soak), short, as CI runs it: 20 nodes, a minute of
// churn after 10 s of warm-up. No thresholds on memory: it checks that the
// run bound and deleted pods, that the report holds a sample of every mesh
// process's RSS and heap and a trend and verdict for each, that the chart is
// written, and that no process the run started outlives it. A bad flag stops
// it at once with the flag's name.
// The soak runs as its own process (node --import tsx), as a user runs it;
// every process it starts inherits a marker variable, which is how the test
// finds any it left.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, test } from '@jest/globals';

import { BOUNDED_CACHES } from '../../bench/soak/bounds';
import { parseSoakOptions } from '../../bench/soak/options';
import type { SoakReport } from '../../bench/soak/report';
import { BenchOptionError } from '../../bench/scheduling/options';
import { MESH_SERVICES } from '../e2e/mesh-config';
import { markedProcesses } from './marked-processes';

const ROOT = join(__dirname, '..', '..');
const MARK = 'SOAK_BENCH_TEST_MARK';

/** Runs the soak with `args` to its end. */
function runSoak(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; mark: string }> {
  const mark = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, SCHEDMESH_CLUSTER_BIN: process.env.SCHEDMESH_CLUSTER_BIN ?? join(ROOT, 'test/cluster/bin'), [MARK]: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr, mark })));
}

test(
  'a one-minute soak samples every process, writes its trends and chart, and leaves nothing running',
  async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'soak-smoke-')), 'soak.json');
    const run = await runSoak(['--nodes', '20', '--initial-pods', '20', '--batch', '10', '--warm-up', '10', '--minutes', '1', '--interval', '10', '--small-bounds', '--out', out]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(markedProcesses(MARK, run.mark)).toEqual([]);

    const report = JSON.parse(readFileSync(out, 'utf8')) as SoakReport;
    expect(report.churn.rounds).toBeGreaterThan(0);
    expect(report.churn.podsBound).toBe(report.churn.rounds * 10);
    // Every 4th pod of a round went through kube-scheduler and the extender.
    expect(report.churn.podsByExtender).toBe(report.churn.rounds * 3);
    const measured = report.samples.filter((s) => s.measured);
    expect(report.samples.length).toBeGreaterThan(measured.length);
    expect(measured.length).toBeGreaterThanOrEqual(2);
    expect(report.processes.map((p) => p.name)).toEqual([...MESH_SERVICES]);
    for (const name of MESH_SERVICES) {
      // RSS from /proc in every sample; the heap from the service's /metrics, which a busy process on a loaded machine may not answer in time (null).
      expect({ name, rss: report.samples.every((s) => s.rssMiB[name]! > 10) }).toEqual({ name, rss: true });
      const heaps = measured.filter((s) => typeof s.heapMiB[name] === 'number');
      expect({ name, heapReadings: heaps.length >= 2 }).toEqual({ name, heapReadings: true });
      for (const s of heaps) expect(s.heapMiB[name]!).toBeLessThan(s.rssMiB[name]!);
      // V8's committed heap, read from the same scrape: at least what is in use, at most the RSS.
      for (const s of heaps) {
        expect(s.heapCommittedMiB?.[name]).toBeGreaterThanOrEqual(s.heapMiB[name]!);
        expect(s.heapCommittedMiB?.[name]).toBeLessThan(s.rssMiB[name]!);
      }
    }
    for (const p of report.processes) {
      expect(Number.isFinite(p.rss.slopeMiBPerMin) && Number.isFinite(p.heap.slopeMiBPerMin)).toBe(true);
      expect(['flat', 'climbing', 'falling']).toContain(p.rssVerdict);
      expect(p.heapFloor.maxMiB).toBeLessThanOrEqual(p.heap.maxMiB);
      expect(p.rss.maxMiB).toBeGreaterThanOrEqual(p.rss.lastMiB);
    }
    expect(run.stdout).toContain(`wrote ${out}`);

    // --small-bounds: recorded and said; each cache's metric read from its service, and a size never past its small bound.
    expect(report.options.smallBounds).toBe(true);
    expect(run.stdout).toContain('bounds LOWERED (--small-bounds)');
    expect(report.bounds.lowered).toBe(true);
    expect(report.bounds.caches.map((c) => [c.cache, c.bound])).toEqual(BOUNDED_CACHES.map((c) => [c.cache, c.smallBound]));
    for (const c of BOUNDED_CACHES) {
      const readings = report.samples.map((s) => s.caches?.[c.cache]).filter((v): v is number => typeof v === 'number');
      expect({ cache: c.cache, read: readings.length >= 2 }).toEqual({ cache: c.cache, read: true });
      if (c.fullWhen === 'size') expect({ cache: c.cache, max: Math.max(...readings) <= c.smallBound }).toEqual({ cache: c.cache, max: true });
    }
    // The scheduler attempted pods (3 in 4 of each round are its own), and its records say so.
    expect(report.samples.at(-1)!.caches!['attempt records']).toBeGreaterThan(0);

    const svg = readFileSync(out.replace(/\.json$/, '.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    // An RSS and a heap line per process.
    expect(svg.match(/<polyline /g)?.length).toBe(2 * MESH_SERVICES.length);
  },
  // On the shared 2-core machine under load: a control plane, the mesh and kube-scheduler take minutes to start.
  900_000,
);

test.each([
  [['--small-bounds=yes'], /--small-bounds' does not take an argument/],
  [['--small-bounds', '--minutes', 'ten'], /--minutes must be a number ≥ 0.1, got "ten"/],
  [['--small', '--minutes', '1'], /Unknown option '--small'/],
])('%j is refused, naming the flag', (argv, message) => {
  expect(() => parseSoakOptions(argv)).toThrow(BenchOptionError);
  expect(() => parseSoakOptions(argv)).toThrow(message);
});

test('--small-bounds is off unless given', () => {
  expect(parseSoakOptions([]).smallBounds).toBe(false);
  expect(parseSoakOptions(['--small-bounds', '--warm-up', '480']).smallBounds).toBe(true);
});

test('a bad flag names the flag and starts nothing', async () => {
  const run = await runSoak(['--minutes', 'ten']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/--minutes must be a number ≥ 0.1, got "ten"/);
  const sparse = await runSoak(['--minutes', '0.2', '--interval', '10']);
  expect(sparse.code).toBe(2);
  expect(sparse.stderr).toMatch(/--interval \(10 s\) leaves fewer than 2 samples in --minutes/);
  expect(markedProcesses(MARK, sparse.mark)).toEqual([]);
  // Two starts of tsx; at a load of 45 on 2 cores one took over a minute.
}, 600_000);
