import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';

/** How a managed process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process in its own process group, its output in a log file. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** The exit, once the process has ended. */
  exit(): ProcessExit | undefined;
  /** The last `lines` lines of the log. */
  logTail(lines?: number): string;
  /** Resident memory of the process now (from /proc), undefined once it has exited or off Linux. */
  rssBytes(): number | undefined;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the leader is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logPath: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

// Groups still running, killed synchronously if this process exits without
// stopping them (a crashed test run must not leave an apiserver behind).
const liveGroups = new Set<number>();
// Directories to remove at exit for the same reason.
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Removes `dir` when this process exits unless forgetDirOnExit(dir) is called first. */
export function removeDirOnExit(dir: string): void {
  installExitHook();
  liveDirs.add(dir);
}

export function forgetDirOnExit(dir: string): void {
  liveDirs.delete(dir);
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    // ESRCH: the group is already gone.
    return false;
  }
}

/** Reads the last lines of a log file; never throws. */
export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `command` detached (leader of a new process group) with stdout and
 * stderr appended to `logPath`. The child does not keep this process alive.
 */
export function spawnManaged(opts: SpawnOptions): ManagedProcess {
  installExitHook();
  const fd = openSync(opts.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, [...opts.args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exitInfo: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolveExit(exitInfo);
    });
    child.once('error', () => {
      exitInfo ??= { code: null, signal: null };
      resolveExit(exitInfo);
    });
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`${opts.name}: could not spawn ${opts.command}`);
  }
  liveGroups.add(pid);
  void exited.then(() => {
    // Anything the leader left in its group goes with it.
    killGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
  });

  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    pid,
    logPath: opts.logPath,
    exited,
    exit: () => exitInfo,
    logTail: (lines?: number) => tailFile(opts.logPath, lines),
    rssBytes: () => (exitInfo === undefined ? readRss(pid) : undefined),
    stop(graceMs = 10_000): Promise<void> {
      stopping ??= (async () => {
        if (exitInfo === undefined) {
          // Unref'd, the child would not keep this process alive until its exit event.
          child.ref();
          killGroup(pid, 'SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<'timeout'>((r) => {
            timer = setTimeout(() => r('timeout'), graceMs);
          });
          const outcome = await Promise.race([exited, timedOut]);
          clearTimeout(timer);
          if (outcome === 'timeout') killGroup(pid, 'SIGKILL');
          await exited;
        }
        killGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
      })();
      return stopping;
    },
  };
}

function readRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** Describes an exit for an error message. */
export function describeExit(exit: ProcessExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
}
