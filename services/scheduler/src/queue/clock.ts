/**
 * The queue's view of time: the current time and a repeating timer. Injected
 * so that tests move time by hand instead of sleeping (upstream gives the
 * queue a clock.WithTicker for the same reason).
 */

/** Stops a repeating timer. */
export type CancelTimer = () => void;

/** Time as the queue reads it. */
export interface QueueClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls fn every intervalMs until the returned function is called. */
  every(intervalMs: number, fn: () => void): CancelTimer;
}

/**
 * The wall clock and Node's timers. Its timers are unref'd: a queue that was
 * never closed does not keep the process alive.
 */
export const systemClock: QueueClock = {
  now: () => Date.now(),
  every: (intervalMs, fn) => {
    const timer = setInterval(fn, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  },
};
