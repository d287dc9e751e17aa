import { setTimeout as sleep } from 'node:timers/promises';

import { ClusterStartError } from './errors.js';
import { describeExit, tailFile } from './process.js';
import type { ManagedProcess } from './process.js';

export interface PollOptions {
  /** What is awaited, for the timeout message. */
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Called before each probe; a returned string aborts the wait with that reason (e.g. the process died). */
  readonly abortIf?: () => string | undefined;
  readonly signal?: AbortSignal;
}

/** The wait ended without the probe succeeding. */
export class PollTimeoutError extends Error {
  override readonly name = 'PollTimeoutError';
  constructor(
    readonly what: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${what}: ${reason}`, options);
  }
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than
 * undefined. A probe that throws counts as "not yet"; the last error becomes
 * the cause of the timeout.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, opts: PollOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 100;
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    const abortReason = opts.abortIf?.();
    if (abortReason !== undefined) throw new PollTimeoutError(opts.what, abortReason, { cause: lastError });
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new PollTimeoutError(opts.what, `not done after ${opts.timeoutMs} ms${detail}`, { cause: lastError });
    }
    await sleep(interval, undefined, opts.signal ? { signal: opts.signal } : undefined);
  }
}

/** Polls `probe` until it yields a value, failing fast (with the log tail) if `proc` exits. */
export async function waitReady<T>(
  proc: ManagedProcess,
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  try {
    return await pollUntil(probe, {
      what,
      timeoutMs,
      intervalMs: 100,
      abortIf: () => {
        const exit = proc.exit();
        return exit ? `${proc.name} ${describeExit(exit)}` : undefined;
      },
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ClusterStartError(proc.name, reason, proc.logPath, tailFile(proc.logPath, 30), { cause: err });
  }
}

/**
 * Runs `start` again (up to `attempts` times) when it failed because a port
 * it was given got taken between freePort() and the child's bind — another
 * test process can win that race.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      const clash = err instanceof ClusterStartError && /address already in use/i.test(err.logTail);
      if (!clash || attempt >= attempts) throw err;
    }
  }
}
