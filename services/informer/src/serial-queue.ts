/**
 * Runs tasks one at a time in submission order. A task that fails with a
 * transient error is retried (with capped backoff) before the next one runs,
 * so events of one kind are published in order and none is dropped while
 * NATS is away.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private depth = 0;

  constructor(
    private readonly onRetry: (err: Error, attempt: number) => void,
    private readonly maxDelayMs = 5_000,
  ) {}

  /** Tasks waiting or running. */
  get pending(): number {
    return this.depth;
  }

  /** Queues a task; the returned promise settles when it has run. */
  push(task: () => Promise<void>): Promise<void> {
    this.depth++;
    const run = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await task();
          return;
        } catch (err) {
          this.onRetry(err as Error, attempt);
          await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** Math.min(attempt, 6), this.maxDelayMs)));
        }
      }
    };
    this.tail = this.tail.then(run).finally(() => this.depth--);
    return this.tail;
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
