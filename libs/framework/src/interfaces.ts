/**
 * The extension points: one small interface each, and a plugin implements
 * exactly the points it serves (upstream k8s.io/kube-scheduler/framework).
 *
 * Filter, Score and NormalizeScore are synchronous CPU work on the local
 * snapshot (they run once per node, thousands of times per cycle). The other
 * points may be served remotely (admission, reservations, gateway plugins)
 * and are asynchronous, with the caller's AbortSignal. Remote filtering and
 * scoring take part in a cycle as an Extender (extender.ts): one batched call
 * for all the nodes, never a call per node.
 *
 * Every point's contract on status codes: a rejection is a returned Status
 * (Unschedulable when preemption could help, UnschedulableAndUnresolvable
 * when it cannot), never an exception; Error means the plugin itself failed
 * (I/O, a bug) and fails the cycle. A plugin never fills in Status.plugin:
 * the runner does.
 */
import type { Pod } from '@schedmesh/proto/v1/types';
import type { CycleState, ReadonlyCycleState } from './cycle-state.js';
import type { Status } from './status.js';
import type { NodeInfo, PodInfo, SnapshotLister } from './types.js';

/** The extension points, in cycle order. */
export const EXTENSION_POINTS = [
  'queueSort',
  'preFilter',
  'filter',
  'postFilter',
  'preScore',
  'score',
  'reserve',
  'permit',
  'preBind',
  'bind',
  'postBind',
] as const;

/** An extension point, as KubeSchedulerConfiguration's `plugins.<point>` names it. */
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

/** Every plugin has a name: the constant registered in names.ts. */
export interface Plugin {
  readonly name: string;
}

/** Scores are integers in [MIN_NODE_SCORE, MAX_NODE_SCORE] after normalization, before weights. */
export const MAX_NODE_SCORE = 100;
/** The lowest score. */
export const MIN_NODE_SCORE = 0;

// ---------------------------------------------------------------------------
// QueueSort

/** A pod waiting in the scheduling queue. */
export interface QueuedPodInfo {
  /** The pod. */
  readonly pod: Pod;
  /** When the pod was added to the queue (ms since the epoch). */
  readonly timestamp: number;
  /** Scheduling attempts so far. */
  readonly attempts: number;
}

/**
 * QueueSort orders the scheduling queue. Exactly one QueueSort plugin is
 * enabled per scheduler (every profile must name the same one).
 *
 * less must be a strict weak ordering, pure and cheap: the queue calls it on
 * every push and pop.
 */
export interface QueueSortPlugin extends Plugin {
  /** Whether a is scheduled before b. */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

// ---------------------------------------------------------------------------
// PreFilter

/** A PreFilter's outcome: its status, and optionally the only nodes worth filtering. */
export interface PreFilterResult {
  /**
   * Success (go on), Skip (this plugin's Filter is not needed for this pod),
   * a rejection (no node can host the pod: every node gets this status), or
   * Error.
   */
  readonly status: Status;
  /**
   * The only nodes that can pass this plugin's Filter; absent means every
   * node. The runner intersects the sets of every PreFilter; a node outside
   * the intersection is rejected as UnschedulableAndUnresolvable without
   * being filtered.
   */
  readonly nodeNames?: ReadonlySet<string>;
}

/**
 * The PreFilter extensions: keep the state a PreFilter computed correct when
 * a simulation adds or removes a pod on a node (preemption dry runs,
 * nominated pods). They are called on a clone of the cycle state and of the
 * NodeInfo, synchronously; they must only change that state.
 */
export interface PreFilterExtensions {
  /** The simulation added podToAdd to nodeInfo. */
  addPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  /** The simulation removed podToRemove from nodeInfo. */
  removePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

/**
 * PreFilter runs once per cycle before filtering: it checks pod-level
 * conditions and computes what its Filter reads per node. It may be remote
 * (admission), hence asynchronous; a local PreFilter must not yield to I/O.
 */
export interface PreFilterPlugin extends Plugin {
  /**
   * nodes are every node of the snapshot (read-only). Write computed data into
   * state under the plugin's own key.
   */
  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], signal: AbortSignal): Promise<PreFilterResult>;
  /** Present when the plugin's PreFilter state depends on the pods of a node. */
  readonly preFilterExtensions?: PreFilterExtensions;
}

// ---------------------------------------------------------------------------
// Filter

/**
 * Filter decides whether the pod can run on one node. It runs once per node
 * examined, so it is synchronous and must be cheap.
 *
 * Contract: pure with respect to the snapshot and the cycle state (read only;
 * no mutation of anything it is given), deterministic, and independent of
 * the order nodes are examined in. Return Status.SUCCESS, a rejection (with
 * the plugin's reason constants), or an Error status.
 */
export interface FilterPlugin extends Plugin {
  filter(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): Status;
}

// ---------------------------------------------------------------------------
// PostFilter

/** A preemption candidate: a node and the pods to evict there. */
export interface PreemptionCandidate {
  /** The node. */
  readonly nodeName: string;
  /** The pods to evict, most important first. */
  readonly victims: readonly Pod[];
  /** How many of the victims a PodDisruptionBudget does not allow to go now. */
  readonly numPdbViolations: number;
  /**
   * Pods of lower priority nominated to the node, whose nominations the
   * preemptor's takes over: the caller clears them (upstream
   * getLowerPriorityNominatedPods). Filled in by the runner, not by plugins.
   */
  readonly lowerPriorityNominated?: readonly Pod[];
}

/** A PostFilter's outcome. */
export interface PostFilterResult {
  /**
   * Success (the pod may fit after the plugin's action, e.g. preemption),
   * Unschedulable (the plugin cannot help; its reasons explain why), or Error.
   */
  readonly status: Status;
  /**
   * The node nominated for the pod (Success); '' with a rejection when the
   * search ran and found no candidate, so a nomination the pod holds is
   * stale and is cleared (upstream NewPostFilterResultWithNominatedNode("")).
   * Absent when nothing is to change (e.g. the pod may not preempt now).
   */
  readonly nominatedNodeName?: string;
  /** The candidates the plugin found, best first (a dry run lists them without acting). */
  readonly candidates?: readonly PreemptionCandidate[];
}

/** The filter statuses of a failed cycle, for PostFilter. */
export interface NodeToStatus {
  /** A node's filter status; nodes never filtered get the absent-node status. */
  get(nodeName: string): Status;
  /** The nodes the cycle considered (every node, or the caller's list). */
  nodes(): readonly NodeInfo[];
}

/**
 * PostFilter runs when no node passed the filters (typically preemption).
 * It receives every node's filter status. Plugins run in order until one
 * returns Success; a dry run (FindPreemptionCandidates) must not act, only
 * report candidates.
 */
export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: PodInfo, statuses: NodeToStatus, options: PostFilterOptions, signal: AbortSignal): Promise<PostFilterResult>;
}

/** Options of one PostFilter call. */
export interface PostFilterOptions {
  /** Report candidates without evicting or nominating anything. */
  readonly dryRun: boolean;
  /** Report at most this many candidates (0: the plugin's own number). */
  readonly maxCandidates: number;
}

// ---------------------------------------------------------------------------
// PreScore / Score

/**
 * PreScore runs once per cycle before scoring, over the feasible nodes. It
 * computes what its Score reads per node. Skip means the plugin's Score is
 * not needed for this pod.
 */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], signal: AbortSignal): Promise<Status>;
}

/** One node's score from one plugin. */
export interface NodeScore {
  readonly name: string;
  score: number;
}

/**
 * Score rates one feasible node for the pod. Like Filter it runs per node:
 * synchronous, pure, cheap, order-independent. It returns an integer; a
 * plugin without normalizeScore must return one in [0, 100].
 *
 * normalizeScore, when present, rewrites the scores of every scored node in
 * place into [0, 100] (integers) once all nodes are scored. The runner then
 * multiplies by the plugin's weight. A score outside [0, 100] after
 * normalization fails the cycle with an Error.
 */
export interface ScorePlugin extends Plugin {
  score(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number;
  normalizeScore?(state: ReadonlyCycleState, pod: PodInfo, scores: NodeScore[]): void;
}

// ---------------------------------------------------------------------------
// Reserve, Permit, PreBind, Bind, PostBind (the binding cycle)

/**
 * Reserve claims resources on the chosen node before binding (a lease).
 * Unreserve releases them when a later point fails.
 *
 * Contract: Unreserve must be idempotent and may be called even when this
 * plugin's Reserve was never called or failed; it must not fail (it logs and
 * cleans up as it can). Reserve plugins run in order; when one fails,
 * Unreserve runs for all of them in reverse order.
 */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<Status>;
  unreserve(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<void>;
}

/** A Permit's outcome. */
export interface PermitResult {
  /** Success (bind now), Wait (hold the pod up to timeoutMs), or a rejection. */
  readonly status: Status;
  /** How long to wait when status is Wait; capped by the runner (15 minutes, as upstream). */
  readonly timeoutMs?: number;
}

/**
 * Permit approves, rejects or delays the binding (gang scheduling). A
 * rejection or a Wait that times out unreserves the pod.
 */
export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<PermitResult>;
}

/** PreBind prepares the binding (volumes, mutations of the pod). A failure unreserves the pod. */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<Status>;
}

/**
 * Bind binds the pod. Bind plugins run in order until one does not return
 * Skip; Skip means "not mine, ask the next binder".
 */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<Status>;
}

/** PostBind is informational, after a successful binding; it cannot fail the pod. */
export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------------------
// What plugins get from the framework

/** The services the framework offers plugins (upstream framework.Handle). */
export interface FrameworkHandle {
  /** The profile (schedulerName) the plugin serves. */
  readonly profileName: string;
  /** The snapshot of the current cycle. */
  snapshot(): SnapshotLister;
  /**
   * Runs every Filter plugin of the profile on nodeInfo with the nominated pods
   * of higher or equal priority taken into account (for preemption).
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status;
  /** Runs the AddPod extension of every PreFilter plugin (for simulations). */
  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status;
  /** Runs the RemovePod extension of every PreFilter plugin (for simulations). */
  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status;
}

/** Which extension points an instance serves (checked against what the config enables). */
export function implementedPoints(plugin: Plugin): ExtensionPoint[] {
  const out: ExtensionPoint[] = [];
  const has = (method: string): boolean => typeof (plugin as unknown as Record<string, unknown>)[method] === 'function';
  if (has('less')) out.push('queueSort');
  if (has('preFilter')) out.push('preFilter');
  if (has('filter')) out.push('filter');
  if (has('postFilter')) out.push('postFilter');
  if (has('preScore')) out.push('preScore');
  if (has('score')) out.push('score');
  if (has('reserve') && has('unreserve')) out.push('reserve');
  if (has('permit')) out.push('permit');
  if (has('preBind')) out.push('preBind');
  if (has('bind')) out.push('bind');
  if (has('postBind')) out.push('postBind');
  return out;
}
