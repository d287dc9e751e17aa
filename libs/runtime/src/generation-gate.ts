import { z } from 'zod';
import { duration } from './config.js';
import { DeadlineExceededError, UnavailableError } from './errors.js';

/** Options of {@link GenerationGate}. */
export interface GenerationGateOptions {
  /** What the gate guards, for error messages ("the snapshot", "the admission policy store"). */
  name: string;
  /** What the guarded state follows, for error messages (default "the cluster stream"). */
  source?: string;
  /**
   * Server-side limit of one {@link GenerationGate.waitFor}, in ms (default
   * 10 s): a caller that sets no deadline cannot hold a waiter longer.
   */
  maxWaitMs?: number;
}

/** Options of one {@link GenerationGate.waitFor}. */
export interface WaitForOptions {
  /** This wait's server-side limit, in ms, instead of the gate's. */
  maxWaitMs?: number;
}

interface Waiter {
  readonly generation: number;
  resolve(): void;
}

/** Default server-side limit of a generation wait. */
export const DEFAULT_MAX_WAIT_MS = 10_000;

/**
 * The `minGeneration` block of a service that answers read-your-writes
 * calls: `maxWait` bounds every wait for a generation, whatever deadline the
 * caller set (env SCHEDMESH_MIN_GENERATION__MAX_WAIT).
 */
export const minGenerationConfigSchema = z
  .object({
    /** The longest one call waits for its min_generation before DEADLINE_EXCEEDED. */
    maxWait: duration().default(DEFAULT_MAX_WAIT_MS),
  })
  .strict();

/**
 * Read-your-writes for state that follows a numbered source (the cluster
 * stream, the snapshot service's Watch): the generation the state has
 * applied, waits for a later one, and whether the state is in sync.
 *
 * The contract:
 * - `generation` is the number of the last change applied; {@link advance}
 *   only moves it forward. A source that was recreated starts again with
 *   {@link reset} (or {@link rewind} when the state is swapped whole).
 * - {@link waitFor} resolves once the generation is reached; it fails with
 *   DeadlineExceededError (naming the generation waited for and the one the
 *   state has) when the caller's signal aborts first, or when the gate's
 *   server-side limit passes first. Nobody waits forever.
 * - `synced` is true while the state is known to hold everything its source
 *   held (caught up after a replay, and not cut off since). Serving code calls
 *   {@link requireSynced} and never answers from a state it knows is stale.
 * - Listeners of {@link onSyncChange} hear every change of `synced`, once,
 *   in order (readiness follows it).
 */
export class GenerationGate {
  private gen = 0;
  private isSynced = false;
  private waiters: Waiter[] = [];
  private readonly listeners = new Set<(synced: boolean) => void>();
  private readonly name: string;
  private readonly source: string;
  /** The server-side limit of a wait, in ms. */
  readonly maxWaitMs: number;

  constructor(options: GenerationGateOptions) {
    this.name = options.name;
    this.source = options.source ?? 'the cluster stream';
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  }

  /** The generation of the last change applied (0 = nothing yet). */
  get generation(): number {
    return this.gen;
  }

  /** True while the state is known to be complete up to its source's head. */
  get synced(): boolean {
    return this.isSynced;
  }

  /** Records that `generation` is applied (a lower one is ignored) and releases the waits it satisfies. */
  advance(generation: number): void {
    if (generation <= this.gen) return;
    this.gen = generation;
    this.release();
  }

  /**
   * Sets a lower generation: the state was swapped whole for one of a
   * recreated source. Waits keep waiting (bounded by their limits); the sync
   * flag is left as it is.
   */
  rewind(generation: number): void {
    this.gen = generation;
    this.release();
  }

  /** The source was recreated and the state dropped: generation 0, not in sync. Waits keep waiting. */
  reset(): void {
    this.gen = 0;
    this.setSynced(false);
  }

  /** Marks the state in sync (caught up) or not (source lost or replaying). */
  setSynced(synced: boolean): void {
    if (synced === this.isSynced) return;
    this.isSynced = synced;
    for (const listener of [...this.listeners]) listener(synced);
  }

  /** Subscribes to changes of `synced`; returns the unsubscribe function. */
  onSyncChange(listener: (synced: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Throws UnavailableError unless in sync. `what` names the state in the
   * message (default: the gate's name).
   */
  requireSynced(what: string = this.name): void {
    if (!this.isSynced) throw new UnavailableError(`${what} is not in sync with ${this.source}; retry shortly`);
  }

  /**
   * Resolves with the current generation once `generation` is applied.
   * Rejects with DeadlineExceededError when `signal` aborts first (the
   * caller's deadline) or when the server-side limit passes first.
   */
  async waitFor(generation: number, signal: AbortSignal, options: WaitForOptions = {}): Promise<number> {
    if (generation <= this.gen) return this.gen;
    if (signal.aborted) throw this.late(generation, 'before the deadline');
    const limit = options.maxWaitMs ?? this.maxWaitMs;
    await new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      const waiter: Waiter = {
        generation,
        resolve: () => {
          settle();
          resolve();
        },
      };
      const onAbort = (): void => {
        settle();
        reject(this.late(generation, 'before the deadline'));
      };
      const timer = setTimeout(() => {
        settle();
        reject(this.late(generation, `within the server's limit of ${limit} ms`));
      }, limit);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
    return this.gen;
  }

  /** Waits in progress (for metrics and tests). */
  get waiting(): number {
    return this.waiters.length;
  }

  private late(generation: number, when: string): DeadlineExceededError {
    return new DeadlineExceededError(`${this.name} is at generation ${this.gen}; generation ${generation} was not reached ${when}`);
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    for (const w of this.waiters.filter((x) => x.generation <= this.gen)) w.resolve();
  }
}
