import { delay, isAbortError } from 'abort-controller-x';

/**
 * Waits `ms`, or less when `signal` aborts first. Never rejects on abort: it
 * is the pause of a retry loop that checks `signal` itself, so shutdown never
 * waits out a backoff.
 */
export async function sleep(signal: AbortSignal, ms: number): Promise<void> {
  try {
    await delay(signal, ms);
  } catch (err) {
    if (!isAbortError(err)) throw err;
  }
}

/** Delays between retries, in ms. */
export interface BackoffOptions {
  /** The first delay (default 250 ms). */
  initialMs?: number;
  /** The longest delay (default 5 s). */
  maxMs?: number;
}

/** Exponential backoff: each {@link next} doubles the delay up to the maximum; {@link reset} after a success. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private current: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = Math.max(this.initialMs, options.maxMs ?? 5_000);
    this.current = this.initialMs;
  }

  /** The delay to wait now; the one after it is twice as long (up to the maximum). */
  next(): number {
    const ms = this.current;
    this.current = Math.min(this.current * 2, this.maxMs);
    return ms;
  }

  /** Starts again from the first delay. */
  reset(): void {
    this.current = this.initialMs;
  }
}
