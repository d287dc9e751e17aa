// The last line of defence: a demo killed outright (SIGKILL, the OOM killer)
// cannot run its stop. A small detached shell watches it, remembers its
// children every second, and once it is gone kills each child's process
// group (services, plugins, etcd, kube-apiserver, Jaeger lead their own) and
// the child itself (NATS, Redis), then removes the directories it was told
// of. A clean stop ends the watchdog last.
import { spawn } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = `
demo=$1
dirs=$2
trap 'rm -f "$dirs"; exit 0' TERM
# Alive and not a zombie (a killed demo whose parent has not reaped it yet).
running() { [ -r "/proc/$demo/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$demo/stat"; }
children=""
while running; do
  # Every child seen so far but this watchdog: a child that ended is simply not found later.
  children=$(printf '%s\\n' $children $(ps -o pid= --ppid "$demo") | grep -vx "$$" | sort -u)
  sleep 1 & wait $!
done
for p in $children; do
  kill -KILL -- "-$p" 2>/dev/null
  kill -KILL "$p" 2>/dev/null
done
if [ -f "$dirs" ]; then
  while IFS= read -r d; do [ -n "$d" ] && rm -rf -- "$d"; done < "$dirs"
  rm -f "$dirs"
fi
exit 0
`;

export interface Watchdog {
  readonly pid: number;
  /** Directories to remove if the demo is killed (the stack removes them on a clean stop). */
  removeOnKill(dirs: readonly string[]): void;
  /** Ends the watchdog (the demo stopped everything itself). */
  stop(): void;
}

export function startWatchdog(pid = process.pid): Watchdog {
  const dirsFile = join(tmpdir(), `schedmesh-demo-${pid}.dirs`);
  const child = spawn('bash', ['-c', SCRIPT, 'schedmesh-demo-watchdog', String(pid), dirsFile], { detached: true, stdio: 'ignore' });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the demo watchdog (bash)');
  const watchdogPid = child.pid;
  return {
    pid: watchdogPid,
    removeOnKill: (dirs) => appendFileSync(dirsFile, dirs.map((d) => `${d}\n`).join('')),
    stop: () => {
      rmSync(dirsFile, { force: true });
      try {
        process.kill(-watchdogPid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    },
  };
}
