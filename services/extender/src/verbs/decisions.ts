/**
 * The filter verb's scored decision, kept for the prioritize call of the same
 * scheduling cycle. kube-scheduler calls filter and then, in the same serial
 * cycle, prioritize with exactly the nodes filter left feasible; scoring
 * them in filter's attempt and keeping the mapped scores spares prioritize a
 * second attempt (admission, Evaluate, the gateway) over the same pod and
 * nodes. Scores are normalized over the feasible nodes, which is the set
 * prioritize names, so the answer is the one a fresh attempt would give at
 * filter's generation.
 */
import type { Pod } from '@schedmesh/proto/v1/types';

/** Options of {@link DecisionCache}. */
export interface DecisionCacheOptions {
  /** How long a decision serves a prioritize call, in ms (a cycle's filter → prioritize gap). */
  readonly maxAgeMs: number;
  /** The most decisions kept (the oldest goes first): pods whose cycle never called prioritize. */
  readonly maxEntries: number;
  /** The clock, in ms (tests pass their own). */
  readonly now?: () => number;
}

interface Entry {
  readonly resourceVersion: string;
  readonly feasible: ReadonlySet<string>;
  /** Extender scores (0..10) of the feasible nodes. */
  readonly scores: ReadonlyMap<string, number>;
  readonly at: number;
}

/** Filter's scores by pod UID, each used at most once. */
export class DecisionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: DecisionCacheOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keeps the scores of the nodes filter found feasible for this version of the pod. */
  put(pod: Pod, feasible: readonly string[], scores: ReadonlyMap<string, number>): void {
    this.entries.delete(pod.uid);
    if (this.options.maxEntries <= 0) return;
    while (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(pod.uid, { resourceVersion: pod.resourceVersion, feasible: new Set(feasible), scores, at: this.now() });
  }

  /** Forgets the pod's decision (a new cycle filters it again). */
  forget(pod: Pod): void {
    this.entries.delete(pod.uid);
  }

  /**
   * The scores filter kept for this version of the pod when `names` are
   * exactly the nodes it found feasible and the decision is recent enough;
   * else undefined (prioritize then decides afresh). Either way the entry is
   * gone: a later cycle filters again.
   */
  take(pod: Pod, names: readonly string[]): ReadonlyMap<string, number> | undefined {
    const entry = this.entries.get(pod.uid);
    if (entry === undefined) return undefined;
    this.entries.delete(pod.uid);
    if (entry.resourceVersion !== pod.resourceVersion || this.now() - entry.at > this.options.maxAgeMs) return undefined;
    if (names.length !== entry.feasible.size) return undefined;
    for (const n of names) if (!entry.feasible.has(n)) return undefined;
    return entry.scores;
  }
}
