/**
 * Extender: filtering and scoring done elsewhere, in one batched call for all
 * the nodes of a cycle (upstream framework.Extender, the shape of
 * kube-scheduler's HTTP extenders). The gateway's REST plugins and the
 * filterscore service's Evaluate take part in a cycle through it; a
 * FilterPlugin or ScorePlugin, synchronous and called once per node, cannot
 * host them.
 *
 * When the runner calls it:
 * - filter: after the Filter plugins, on the nodes they found feasible (only
 *   as many as numFeasibleNodesToFind let through), extender after extender in
 *   configuration order; each sees only the nodes the previous ones kept. Not
 *   called when no node is left.
 * - prioritize: after the Score plugins, on the feasible nodes; every
 *   prioritizing extender at once. Its scores, in [0, MAX_EXTENDER_PRIORITY],
 *   are scaled to the plugins' range (× MAX_NODE_SCORE / MAX_EXTENDER_PRIORITY)
 *   and weighted, then added to each node's total.
 * Neither is called for a pod the extender is not interested in.
 *
 * Contract:
 * - Batching: one call carries every node; never a remote call per node.
 * - A rejected node is a value: it goes in `failed` (preemption might help)
 *   or `failedAndUnresolvable` (it cannot), with a reason phrase. A rejected
 *   promise (an exception) means the extender itself failed: I/O, a timeout,
 *   a bug, a malformed reply; never "the pod does not fit".
 * - Cancellation: `signal` is the cycle's; when it aborts, the call rejects
 *   promptly and the cycle fails whatever `ignorable` says.
 * - Ignorable: when a filter call fails on its own (the signal did not
 *   abort), an ignorable extender is skipped for this cycle (its nodes pass on
 *   unchanged); any other fails the cycle. A failed prioritize call never
 *   fails the cycle: the extender just gives no score (as upstream).
 * - Purity: neither call may change the nodes or the pod it is given.
 */
import type { Pod } from '@schedmesh/proto/v1/types';
import type { NodeInfo, PodInfo } from './types.js';

/** The highest score an extender gives (upstream extenderv1.MaxExtenderPriority). */
export const MAX_EXTENDER_PRIORITY = 10;

/**
 * The name the runner records among a failed cycle's unschedulable plugins
 * when extenders rejected nodes (upstream framework.ExtenderName).
 */
export const EXTENDER_PLUGIN_NAME = 'Extender';

/** What {@link Extender.filter} returns. Node names throughout. */
export interface ExtenderFilterResult {
  /**
   * The nodes that passed: a subset of the nodes given (a name that was not
   * given makes the whole call a failure). Order does not matter; the runner
   * keeps the order it found the nodes in.
   */
  readonly feasible: readonly string[];
  /** Rejected nodes where preemption might help: node → reason. */
  readonly failed: ReadonlyMap<string, string>;
  /**
   * Rejected nodes where preemption cannot help: node → reason. Takes
   * precedence over `failed` and `feasible` for a node listed twice. A node
   * given and listed nowhere counts as failed and unresolvable too.
   */
  readonly failedAndUnresolvable: ReadonlyMap<string, string>;
}

/** What {@link Extender.prioritize} returns. */
export interface ExtenderPriorities {
  /** Node → integer score in [0, MAX_EXTENDER_PRIORITY]; only nodes that were given. Nodes absent score nothing. */
  readonly scores: ReadonlyMap<string, number>;
  /** The extender's weight, a non-negative integer (its configured weight). */
  readonly weight: number;
}

/** A batched, asynchronous filter and/or prioritizer (upstream framework.Extender). */
export interface Extender {
  /** A name for statuses, errors and explanations (the extender's, not a plugin's). */
  readonly name: string;
  /** Whether a failing filter call skips this extender for the cycle instead of failing it (see the module contract). */
  readonly ignorable: boolean;
  /** Whether the extender takes part in this pod's cycle (upstream IsInterested); cheap and synchronous. */
  isInterested(pod: Pod): boolean;
  /** Present when the extender filters. Called once per cycle with every node still feasible. */
  filter?(pod: PodInfo, nodes: readonly NodeInfo[], signal: AbortSignal): Promise<ExtenderFilterResult>;
  /** Present when the extender scores. Called once per cycle with every feasible node. */
  prioritize?(pod: PodInfo, nodes: readonly NodeInfo[], signal: AbortSignal): Promise<ExtenderPriorities>;
}
