/**
 * The proto Duration (google.protobuf.Duration: whole seconds plus nanos of
 * the same sign) and the integer milliseconds the mesh computes with.
 */
import type { Duration } from '@schedmesh/proto/google/duration';

const NANOS_PER_MS = 1_000_000;
const MAX_NANOS = 999_999_999;

/**
 * A number of milliseconds as a Duration. Fractions of a millisecond are kept
 * to the nanosecond (rounded); a negative span gives negative seconds and
 * nanos, as the Duration's contract requires.
 */
export function msToDuration(ms: number): Duration {
  if (ms < 0) {
    const d = msToDuration(-ms);
    return { seconds: d.seconds === 0 ? 0 : -d.seconds, nanos: d.nanos === 0 ? 0 : -d.nanos };
  }
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.min(MAX_NANOS, Math.round((ms - seconds * 1000) * NANOS_PER_MS)) };
}

/** A Duration in whole milliseconds, truncated toward zero (check it first with {@link durationProblem}). */
export function durationToMs(d: Duration): number {
  return d.seconds * 1000 + Math.trunc(d.nanos / NANOS_PER_MS);
}

/** Why d is not a valid non-negative Duration (negative, or nanos out of 0..999,999,999), or undefined if it is one. */
export function durationProblem(d: Duration): string | undefined {
  return d.seconds < 0 || d.nanos < 0 || d.nanos > MAX_NANOS ? 'must be a non-negative duration' : undefined;
}
