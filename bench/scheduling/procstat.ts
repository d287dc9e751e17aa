// What a process costs, read from /proc: CPU seconds (utime + stime of
// stat(5)) and peak resident memory (VmHWM of status), which writing "5" to
// /proc/<pid>/clear_refs resets so that a peak belongs to one phase.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process the benchmark accounts for. */
export interface WatchedProcess {
  readonly name: string;
  readonly pid: number;
}

/** CPU seconds (user + system) the process has used, or NaN once it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime); the slice starts at field 3.
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set size since start or the last reset, in bytes; NaN once the process is gone. */
export function peakRssOf(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Starts a new peak-RSS window for the process; false where the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** This process's children whose command name is `comm` (redis-server, nats-server started by testkit). */
export function childrenNamed(comm: string): WatchedProcess[] {
  const found: WatchedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && name === comm) found.push({ name: comm, pid: Number(entry) });
    } catch {
      // gone between the listing and the read
    }
  }
  return found;
}

/** Busy and total CPU seconds of the whole machine (all cores). */
function machineCpu(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = cpu[3]! + cpu[4]!; // idle + iowait
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

/** One process's cost over a phase. */
export interface ProcessCost {
  readonly name: string;
  readonly cpuSeconds: number;
  /** Share of one core over the phase (cpuSeconds / wall seconds). */
  readonly cores: number;
  readonly peakRssBytes: number;
}

/** What the processes and the machine spent over a phase. */
export interface PhaseCost {
  readonly processes: ProcessCost[];
  /** Every process on the machine, other users included. */
  readonly machineBusySeconds: number;
  readonly machineBusyShare: number;
}

/** Starts metering `procs`; the function returned reads what each spent since. */
export function meter(procs: readonly WatchedProcess[]): () => PhaseCost {
  const before = procs.map((p) => cpuSecondsOf(p.pid));
  for (const p of procs) resetPeakRss(p.pid);
  const machine = machineCpu();
  const started = process.hrtime.bigint();
  return () => {
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const after = machineCpu();
    const processes = procs.map((p, i) => {
      const cpuSeconds = cpuSecondsOf(p.pid) - before[i]!;
      return { name: p.name, cpuSeconds, cores: cpuSeconds / wallSeconds, peakRssBytes: peakRssOf(p.pid) };
    });
    const busy = after.busy - machine.busy;
    return { processes, machineBusySeconds: busy, machineBusyShare: busy / (after.total - machine.total) };
  };
}
