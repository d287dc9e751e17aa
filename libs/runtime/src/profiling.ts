/**
 * Profiling on demand, the pprof of the seeds for Node: a CPU profile of the
 * next N seconds (the V8 `.cpuprofile` JSON that Chrome DevTools and
 * speedscope open) and a heap snapshot (`.heapsnapshot`). Served on the HTTP
 * endpoints' port under /debug/pprof/, and only when `http.profiling` is on:
 * both expose the process's code and data, and a heap snapshot pauses it.
 */
import { Session } from 'node:inspector/promises';
import type { Readable } from 'node:stream';
import { getHeapSnapshot } from 'node:v8';
import { sleep } from './backoff.js';
import { FailedPreconditionError, InvalidArgumentError } from './errors.js';

/** The longest CPU profile one request may ask for, in seconds. */
export const MAX_PROFILE_SECONDS = 300;
/** The CPU profile length when a request names none, in seconds. */
export const DEFAULT_PROFILE_SECONDS = 10;

let profiling = false;

/** Parses `seconds` of a profile request: 1..MAX_PROFILE_SECONDS, default DEFAULT_PROFILE_SECONDS. */
export function profileSeconds(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_PROFILE_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PROFILE_SECONDS) {
    throw new InvalidArgumentError('seconds', `must be a whole number from 1 to ${MAX_PROFILE_SECONDS}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/**
 * Records a CPU profile of the whole process for `seconds` and returns it as
 * JSON. One at a time: a second request while one runs is a
 * FailedPreconditionError. `signal` ends the recording early (the client left).
 */
export async function recordCpuProfile(seconds: number, signal: AbortSignal): Promise<string> {
  if (profiling) throw new FailedPreconditionError('a CPU profile is already being recorded; retry when it ends');
  profiling = true;
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await sleep(signal, seconds * 1000).catch(() => undefined);
    const { profile } = await session.post('Profiler.stop');
    return JSON.stringify(profile);
  } finally {
    session.disconnect();
    profiling = false;
  }
}

/** A heap snapshot of the process, as a stream (the process pauses while V8 writes it). */
export function heapSnapshot(): Readable {
  return getHeapSnapshot();
}
