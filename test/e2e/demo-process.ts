// The demo as its e2e tests run it: its own process (tsx, as `npm start`
// runs it), leader of its own process group, and what /proc says is left of
// it afterwards.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { pollUntil } from '@schedmesh/testkit';

const ROOT = join(__dirname, '../..');

/** What the demo writes with --state once the mesh is up (the cluster-mode fields are absent in fixture mode). */
export interface DemoState {
  readonly pid: number;
  readonly watchdog: number;
  readonly groups: number[];
  readonly dirs: string[];
  readonly runDir: string;
  readonly kubeconfig?: string;
  readonly jaeger?: string;
}

export const readState = (path: string): DemoState => JSON.parse(readFileSync(path, 'utf8')) as DemoState;

export interface DemoRun {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the demo, leader of its own process group so every process it leaves behind is findable. */
export function runDemo(args: readonly string[], env: NodeJS.ProcessEnv = process.env): DemoRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/src/main.ts', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => out, exited };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process whose process group is one of `groups` (from /proc), as "pid name". */
export function processesInGroups(groups: ReadonlySet<number>): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (groups.has(Number(fields[2]))) found.push(`${entry} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`);
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/**
 * What is left in `groups` once they emptied, or after `timeoutMs`: a process
 * the demo does not wait for (tsx's esbuild helper, which ends when its pipe
 * closes; the watchdog) goes a moment after it.
 */
export async function leftInGroups(groups: ReadonlySet<number>, timeoutMs = 30_000): Promise<string[]> {
  await pollUntil(async () => (processesInGroups(groups).length === 0 ? true : undefined), { what: 'no process of the demo left', timeoutMs, intervalMs: 100 }).catch(() => undefined);
  return processesInGroups(groups);
}
