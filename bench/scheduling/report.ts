// The run's figures: one record per phase (a workload in a mode), the floors,
// printed as tables and written as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { printTable } from '../support.js';
import type { ApiRequestFigures } from './api-requests.js';
import type { FloorFigures } from './floor.js';
import type { ModeName } from './modes.js';
import type { PhaseTiming } from './phase.js';
import type { PhaseCost } from './procstat.js';
import type { RpcCalls, StepFigures } from './spans.js';
import type { WorkloadName } from './workloads.js';

/** A step of the attempt beside its floor. */
export interface StepWithFloor extends StepFigures {
  /** The cheapest round trips the step cannot avoid (p50 sum), ms; NaN where none was measured (the API's Binding). */
  readonly floorMs: number;
  /** p50 over the floor. */
  readonly overFloor: number;
}

/** One workload in one mode: what its phase measured (PhaseTiming's counts) and what they make. */
export interface PhaseRecord extends Pick<PhaseTiming, 'measured' | 'bound' | 'seenByListOnly' | 'watchRestarts' | 'unfit' | 'unfitBound' | 'timedOut'> {
  readonly workload: WorkloadName;
  /** The label value its pods carried (bench-phase). */
  readonly phase: string;
  readonly mode: ModeName;
  readonly modeLabel: string;
  /** Set where the mode ran other pods than the workload's (kube-scheduler has no gangs). */
  readonly note?: string;
  readonly seconds: number;
  readonly podsPerSecond: number;
  /** How fast this process created the measured pods: pods/s cannot exceed it, and a scheduler that keeps up shows about it. */
  readonly createdPerSecond: number;
  /** pods/s over kube-scheduler alone's (mode ks) on the same workload; NaN without it. */
  readonly ratioToKubeScheduler: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly cost: PhaseCost;
  /**
   * Share of one core each process spent idle (no pods to schedule) over
   * --idle-seconds before the mode's first phase; absent when not measured.
   * A process's cost that grows with a phase's length, not with its pods.
   */
  readonly idleCores?: Readonly<Record<string, number>>;
  /** The apiserver requests of the phase, every client's (api-requests.ts). */
  readonly apiRequests: ApiRequestFigures[];
  readonly steps: StepWithFloor[];
  /** The schedmesh RPCs its services served (their server spans), per pod bound estimated from the traced share. */
  readonly rpcCalls: RpcCalls[];
  /** Share of the mesh's attempts traced: its steps come from those (0: not traced). */
  readonly traceSampleRatio: number;
}

/** The whole run. */
export interface SchedulingReport {
  readonly startedAt: string;
  readonly command: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryGiB: number; readonly node: string };
  readonly options: Record<string, unknown>;
  readonly setup: Record<string, number>;
  readonly floors: FloorFigures[];
  readonly phases: PhaseRecord[];
}

/** Which floors a step cannot go below: one gRPC round trip, plus Redis for the reservation's steps. */
export function withFloor(step: StepFigures, floors: readonly FloorFigures[]): StepWithFloor {
  const grpc = floors.find((f) => f.name.startsWith('gRPC'))?.p50Ms ?? Number.NaN;
  const redis = floors.find((f) => f.name === 'Redis SET')?.p50Ms ?? Number.NaN;
  // kube-scheduler's steps run in its process (no round trip); Bind and the attempt have no floor measured here.
  const noFloor = step.name === 'schedule_one' || step.name.startsWith('Bind/') || step.name.startsWith('kube-scheduler ');
  const floorMs = noFloor ? Number.NaN : step.name.includes('Reservation') ? grpc + redis : grpc;
  return { ...step, floorMs, overFloor: step.p50Ms / floorMs };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');
const mib = (bytes: number): string => fmt(bytes / 2 ** 20, 0);

/** Bound within a tenth of the creation rate: the scheduler kept up, and creation, not scheduling, was the limit. */
export function creationPaced(p: Pick<PhaseRecord, 'podsPerSecond' | 'createdPerSecond'>): boolean {
  return p.podsPerSecond >= 0.9 * p.createdPerSecond;
}

/** Prints one phase's figures as soon as it ends. */
export function printPhase(log: (line: string) => void, p: PhaseRecord): void {
  log(
    `${p.workload} / ${p.modeLabel}${p.note ? ` (${p.note})` : ''}: ${p.bound}/${p.measured} bound${p.timedOut ? ' (TIMED OUT: partial)' : ''}` +
      `${p.unfit ? `, ${p.unfitBound}/${p.unfit} unfit pods bound` : ''}; ${fmt(p.podsPerSecond, 1)} pods/s (${fmt(p.ratioToKubeScheduler, 2)}× kube-scheduler; created at ${fmt(p.createdPerSecond, 1)}/s); ` +
      `create→bind p50 ${fmt(p.latencyP50Ms)} ms, p99 ${fmt(p.latencyP99Ms)} ms`,
  );
  if (creationPaced(p)) log(`creation set the pace: pods were bound about as fast as they were created (${fmt(p.createdPerSecond, 1)}/s), so pods/s is a lower bound of what the scheduler can do`);
  if (p.seenByListOnly > 0 || p.watchRestarts > 0) log(`measurement: ${p.seenByListOnly} pods seen bound by a list after a watch restart, not the watch; the watch was started again ${p.watchRestarts} time(s)`);
  printTable(
    log,
    ['process', 'CPU s', 'CPU ms per pod bound', 'cores', 'idle cores', 'peak RSS MiB'],
    p.cost.processes.map((c) => [c.name, fmt(c.cpuSeconds, 1), fmt((1000 * c.cpuSeconds) / p.bound, 1), fmt(c.cores, 2), p.idleCores?.[c.name] === undefined ? '-' : fmt(p.idleCores[c.name]!, 3), mib(c.peakRssBytes)]),
  );
  log(`machine busy ${fmt(100 * p.cost.machineBusyShare)}% (every process on it, other users too)`);
  printTable(
    log,
    ['apiserver requests (every client)', 'count', 'per pod'],
    p.apiRequests.map((r) => [r.request, fmt(r.count), fmt(r.perPod, 2)]),
  );
  if (p.steps.length > 0) {
    printTable(
      log,
      [`step (kube-scheduler: its metrics; schedmesh: child spans of schedule_one${p.traceSampleRatio > 0 ? `, ${fmt(100 * p.traceSampleRatio)}% of attempts traced` : ''})`, 'count', 'mean ms', 'p50 ms', 'p99 ms', 'share', 'floor ms', 'p50/floor'],
      p.steps.map((s) => [s.name, fmt(s.count), fmt(s.meanMs, 2), fmt(s.p50Ms, 2), fmt(s.p99Ms, 2), `${fmt(100 * s.share)}%`, fmt(s.floorMs, 3), fmt(s.overFloor, 1)]),
    );
  }
  if (p.rpcCalls.length > 0) {
    printTable(
      log,
      [`RPC served (server spans${p.traceSampleRatio < 1 ? ` of the ${fmt(100 * p.traceSampleRatio)}% of attempts traced` : ''})`, 'calls traced', 'per pod bound'],
      p.rpcCalls.map((c) => [c.method, fmt(c.count), fmt(c.perPod, 3)]),
    );
  }
}

/** Prints the summary: pods/s per workload and mode, and the floors. */
export function printSummary(log: (line: string) => void, report: SchedulingReport): void {
  printTable(
    log,
    ['floor (1 call in flight)', 'rounds', 'p50 ms', 'p99 ms'],
    report.floors.map((f) => [f.name, fmt(f.rounds), fmt(f.p50Ms, 3), fmt(f.p99Ms, 3)]),
  );
  printTable(
    log,
    ['workload', 'mode', 'bound', 'pods/s', 'vs ks', 'created/s', 'p50 ms', 'p99 ms', 'CPU s (all processes)'],
    report.phases.map((p) => [
      p.workload,
      p.modeLabel + (p.note ? ' *' : ''),
      `${p.bound}/${p.measured}${p.timedOut ? ' TIMED OUT' : ''}`,
      fmt(p.podsPerSecond, 1),
      fmt(p.ratioToKubeScheduler, 2),
      fmt(p.createdPerSecond, 1) + (creationPaced(p) ? ' †' : ''),
      fmt(p.latencyP50Ms),
      fmt(p.latencyP99Ms),
      fmt(p.cost.processes.reduce((a, c) => a + c.cpuSeconds, 0), 1),
    ]),
  );
  if (report.phases.some((p) => p.note)) log('* plain pods: kube-scheduler has no gangs');
  if (report.phases.some(creationPaced)) log('† creation set the pace (bound/s ≥ 0.9 × created/s): that pods/s is a lower bound');
}

/** Writes a JSON report (and its directory); NaN and infinities as null. The soak (bench/soak) writes its report with it too. */
export function writeReport(path: string, report: object): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}
