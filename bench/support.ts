// What the benchmarks share: loading a cluster onto the stream in place of the informer, and printing a table.
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { publishClusterEvent } from '@schedmesh/runtime';

/** Publishes the events to the cluster stream at `url`; resolves with the last sequence (the generation that holds them all). */
export async function publishAll(url: string, events: readonly ClusterEvent[]): Promise<number> {
  const nc = await connect({ servers: url });
  const js = jetstream(nc);
  let last = 0;
  // Windows of concurrent publishes: the stream keeps their order per subject, and every object has its own subject.
  for (let i = 0; i < events.length; i += 500) {
    const acks = await Promise.all(events.slice(i, i + 500).map((e) => publishClusterEvent(js, e)));
    for (const a of acks) last = Math.max(last, a.seq);
  }
  await nc.close();
  return last;
}

/** Prints rows under a header, each column right-aligned to its widest cell. */
export function printTable(log: (line: string) => void, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  log('');
  log(line(header));
  for (const r of rows) log(line(r));
  log('');
}

/**
 * Runs a benchmark's main: exits 0 once it is done (whatever handles a
 * library left open), or prints why it failed and exits 1.
 */
export function runBench(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${name} benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

/** The median of a list of figures (the middle round of several). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
}

/** A round of calls: how many per second (wall clock), and this process's CPU time per call (user + system, µs). */
export interface CallRound {
  readonly rate: number;
  readonly cpuUsPerCall: number;
}

/**
 * Runs `calls` calls of `call`, `parallel` in flight at a time. On a shared,
 * loaded machine the CPU time per call is the steadier figure: waiting for a
 * core does not count in it.
 */
export async function callRound(call: () => Promise<unknown>, calls: number, parallel: number): Promise<CallRound> {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < calls) {
        next++;
        await call();
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { rate: calls / (Number(process.hrtime.bigint() - started) / 1e9), cpuUsPerCall: (used.user + used.system) / calls };
}

/**
 * Interleaved rounds of several modes (so the machine's noise falls on all
 * alike): after one warm-up round each, `rounds` rounds of each mode in turn;
 * returns each mode's median rate and median CPU per call.
 */
export async function interleavedRounds(modes: readonly (() => Promise<CallRound>)[], rounds: number): Promise<CallRound[]> {
  for (const m of modes) await m();
  const results: CallRound[][] = modes.map(() => []);
  for (let r = 0; r < rounds; r++) for (let i = 0; i < modes.length; i++) results[i]!.push(await modes[i]!());
  return results.map((rs) => ({ rate: median(rs.map((r) => r.rate)), cpuUsPerCall: median(rs.map((r) => r.cpuUsPerCall)) }));
}

/**
 * Runs fn; with BENCH_CPU_PROF=DIR set, records a V8 CPU profile of this
 * process while it runs (only the measured phase, not the cluster load) into
 * DIR/<name>.cpuprofile, for Chrome DevTools, speedscope or
 * `npx tsx bench/cpuprofile-top.ts FILE`.
 */
export async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}
