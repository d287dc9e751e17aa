/**
 * The writes of a pod's scheduling outcome to the API server (the
 * PodScheduled condition, status.nominatedNodeName, the Scheduled or
 * FailedScheduling event), off the workers' path and retried: a write that
 * fails while the API server is away (a restart, an overload) is tried again
 * with exponential backoff, a bounded number of times, as client-go's event
 * broadcaster retries its sink. Writes are coalesced per pod: a newer outcome
 * replaces one still waiting for its retry, so the latest outcome wins and a
 * stale FailedScheduling never lands after the pod's Scheduled.
 */
import { KubeApiError } from '@schedmesh/mesh';
import type { Pod } from '@schedmesh/proto/v1/types';
import { Backoff, sleep } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';

/** One outcome's writes; `signal` bounds one try. */
export type OutcomeWrite = (signal: AbortSignal) => Promise<void>;

/** Options of {@link OutcomeWrites}. */
export interface OutcomeWritesOptions {
  readonly logger: Logger;
  /** Tries of one outcome before it is given up (default 10: about 3 minutes with the default delays). */
  readonly maxTries?: number;
  /** The first delay between tries, in ms (default 500). */
  readonly initialBackoffMs?: number;
  /** The longest delay between tries, in ms (default 30 s). */
  readonly maxBackoffMs?: number;
  /** Budget of one try, in ms (default 10 s). */
  readonly tryTimeoutMs?: number;
}

interface Outcome {
  readonly pod: Pod;
  readonly what: string;
  readonly write: OutcomeWrite;
}

/** The API server answered that the write itself is wrong (or the pod is gone): trying again cannot help. */
function permanent(err: unknown): boolean {
  return err instanceof KubeApiError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

/** See the module comment. */
export class OutcomeWrites {
  /** The latest outcome of each pod not yet written. */
  private readonly latest = new Map<string, Outcome>();
  /** Each pod's writing loop, while it has one. */
  private readonly loops = new Map<string, Promise<void>>();
  private readonly closing = new AbortController();

  constructor(private readonly options: OutcomeWritesOptions) {}

  /** Writes `what` for `pod`, replacing an earlier outcome of the pod that is still waiting. */
  submit(pod: Pod, what: string, write: OutcomeWrite): void {
    if (this.closing.signal.aborted) return;
    this.latest.set(pod.uid, { pod, what, write });
    if (this.loops.has(pod.uid)) return;
    const loop = this.writeLatest(pod.uid).finally(() => this.loops.delete(pod.uid));
    this.loops.set(pod.uid, loop);
  }

  /** Pods whose outcome is not written yet. */
  get pending(): number {
    return this.latest.size;
  }

  /** Stops retrying (a try in flight finishes) and resolves when every loop has ended. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.loops.values()]);
  }

  private async writeLatest(uid: string): Promise<void> {
    const { logger, maxTries = 10, tryTimeoutMs = 10_000 } = this.options;
    const backoff = new Backoff({ initialMs: this.options.initialBackoffMs ?? 500, maxMs: this.options.maxBackoffMs ?? 30_000 });
    let current: Outcome | undefined;
    let tries = 0;
    for (;;) {
      const outcome = this.latest.get(uid);
      if (outcome === undefined) return;
      if (outcome !== current) {
        current = outcome;
        tries = 0;
        backoff.reset();
      }
      const log = { pod: `${outcome.pod.namespace}/${outcome.pod.name}`, what: outcome.what };
      tries++;
      try {
        await outcome.write(AbortSignal.timeout(tryTimeoutMs));
        this.settle(uid, outcome);
        continue;
      } catch (err) {
        const message = (err as Error).message;
        if (permanent(err) || tries >= maxTries) {
          logger.warn({ ...log, tries, err: message }, 'could not write the scheduling outcome to the API server; giving it up');
          this.settle(uid, outcome);
          continue;
        }
        if (this.closing.signal.aborted) {
          logger.warn({ ...log, tries, err: message }, 'could not write the scheduling outcome to the API server before shutdown');
          return;
        }
        const delayMs = backoff.next();
        logger.info({ ...log, tries, retryInMs: delayMs, err: message }, 'could not write the scheduling outcome to the API server; retrying');
        await sleep(this.closing.signal, delayMs);
      }
    }
  }

  /** Done with `outcome` (written or given up), unless a newer outcome of the pod replaced it meanwhile. */
  private settle(uid: string, outcome: Outcome): void {
    if (this.latest.get(uid) === outcome) this.latest.delete(uid);
  }
}
