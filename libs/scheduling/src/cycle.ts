/**
 * The filter/score cycle for one pod (upstream schedule_one.go):
 * PreFilter → Filter: the pod's nominated node first, alone, then (if it
 * fails) the node list, starting where the last cycle stopped and stopping
 * once enough feasible nodes are found
 * (numFeasibleNodesToFind) → the filtering Extenders → PreScore → Score →
 * NormalizeScore → weights, plus the prioritizing Extenders' scaled scores →
 * ranking; PostFilter (preemption, as a dry run) when nothing is feasible;
 * and the aggregate explanation kube-scheduler's event carries.
 *
 * A cycle reads one snapshot that must not change while it runs: the caller
 * holds it stable from the start of {@link findNodesThatFitPod} to the end
 * of the cycle. Nothing here mutates the snapshot or shared state, except
 * the profile's rotation index, updated once per cycle after filtering.
 */
import { CycleState, EXTENDER_PLUGIN_NAME, PluginError, Status, StatusCode } from '@schedmesh/framework';
import type { NodeInfo, NodeToStatus, PodInfo, PostFilterResult, PreemptionCandidate } from '@schedmesh/framework';
import { runExtenderFilters, runExtenderPrioritizers } from './extenders.js';
import type { Framework, NodePluginScores, PluginScoreSummary, ScoredNodes } from './framework.js';

/** Below this many nodes every node is filtered; also the least number of feasible nodes looked for. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The adaptive percentage never goes below this. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
/** The adaptive percentage's base: 50 - nodes/125. */
export const BASE_PERCENTAGE_OF_NODES_TO_SCORE = 50;

/** The reason given for a node a caller named that the snapshot does not hold. */
export const REASON_NODE_NOT_FOUND = 'node(s) were not found in the scheduler snapshot';
/** The explanation when the cluster has no node at all (upstream ErrNoNodesAvailable). */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

/**
 * How many feasible nodes to find before the search stops (upstream
 * numFeasibleNodesToFind): every node below 100 nodes; otherwise the
 * configured percentage, or the adaptive one (50 - nodes/125, at least 5%)
 * when it is 0, and never fewer than 100.
 */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage === 0) {
    percentage = BASE_PERCENTAGE_OF_NODES_TO_SCORE - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const numNodes = Math.trunc((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}

/** Why the pod failed on each node (upstream Diagnosis with its NodeToStatus). */
export class Diagnosis implements NodeToStatus {
  /** Nodes that were filtered (or named and unknown) and failed, by name, in evaluation order. */
  readonly statuses = new Map<string, Status>();
  /** The status of every node not in `statuses` (PreFilter rejections and exclusions); undefined = none. */
  absentStatus: Status | undefined;
  /** The PreFilter rejection message, when PreFilter rejected the pod. */
  preFilterMessage = '';
  /** The PostFilter message ("preemption: ..."), when PostFilter ran and did not help. */
  postFilterMessage = '';
  /** Plugins that rejected the pod on some node. */
  readonly unschedulablePlugins = new Set<string>();
  /** The nodes the cycle considered. */
  universe: readonly NodeInfo[] = [];

  nodes(): readonly NodeInfo[] {
    return this.universe;
  }

  get(nodeName: string): Status {
    return this.statuses.get(nodeName) ?? this.absentStatus ?? Status.SUCCESS;
  }

  /** Records a node's failure. */
  set(nodeName: string, status: Status): void {
    this.statuses.set(nodeName, status);
    if (status.plugin !== '' && status.isRejected()) this.unschedulablePlugins.add(status.plugin);
  }
}

/** One reason of the aggregate explanation. */
export interface ReasonCount {
  readonly reason: string;
  /** On how many nodes. */
  readonly count: number;
  /** True when preemption could resolve it on at least one of those nodes (an Unschedulable, not UnschedulableAndUnresolvable, status). */
  readonly resolvable: boolean;
}

/** The reasons of the filter statuses with their node counts, sorted as the message lists them. */
export function aggregateReasons(diagnosis: Diagnosis, numAllNodes: number): ReasonCount[] {
  const counts = new Map<string, { count: number; resolvable: boolean }>();
  const add = (status: Status, times: number): void => {
    const resolvable = status.code === StatusCode.Unschedulable;
    for (const reason of status.reasons) {
      const entry = counts.get(reason);
      if (entry === undefined) counts.set(reason, { count: times, resolvable });
      else {
        entry.count += times;
        entry.resolvable ||= resolvable;
      }
    }
  };
  for (const status of diagnosis.statuses.values()) add(status, 1);
  if (diagnosis.absentStatus !== undefined && diagnosis.statuses.size < numAllNodes) {
    add(diagnosis.absentStatus, numAllNodes - diagnosis.statuses.size);
  }
  return [...counts.entries()]
    .map(([reason, e]) => ({ reason, count: e.count, resolvable: e.resolvable }))
    .sort((a, b) => {
      const x = `${a.count} ${a.reason}`;
      const y = `${b.count} ${b.reason}`;
      return x < y ? -1 : x > y ? 1 : 0;
    });
}

/**
 * The explanation kube-scheduler's FailedScheduling event carries (upstream
 * FitError.Error): "0/5 nodes are available: 3 Insufficient cpu, 2 node(s)
 * had untolerated taint(s). preemption: 0/5 nodes are available:
 * ...". The histogram is sorted as strings, as upstream sorts it.
 */
export function fitErrorMessage(numAllNodes: number, diagnosis: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (diagnosis.preFilterMessage !== '') {
    msg += ` ${diagnosis.preFilterMessage}.`;
  } else {
    const parts = aggregateReasons(diagnosis, numAllNodes).map((r) => `${r.count} ${r.reason}`);
    if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  }
  if (diagnosis.postFilterMessage !== '') msg += ` ${diagnosis.postFilterMessage}`;
  return msg;
}

/** What a cycle is asked to do. */
export interface CycleRequest {
  /** The pod (its compiled terms). */
  readonly pod: PodInfo;
  /** Consider only these nodes (an extender's list); absent or empty = every node. */
  readonly nodeNames?: readonly string[];
  /** Filter every node instead of stopping once enough are feasible. */
  readonly exhaustive?: boolean;
  /** Cancels the remote extension points. */
  readonly signal: AbortSignal;
}

/** A node that failed, with why. */
export interface NodeRejection {
  readonly nodeName: string;
  readonly status: Status;
}

/** The outcome of PreFilter + Filter. */
export interface FilterResult {
  /** The cycle state (PreScore and Score continue with it). */
  readonly state: CycleState;
  /** The feasible nodes, in the order they were found. */
  readonly feasible: readonly NodeInfo[];
  /** Failures by node, and the PreFilter outcome. */
  readonly diagnosis: Diagnosis;
  /** One entry per node that failed a filter or that the caller named and the snapshot lacks (plus, for a caller's list, the nodes a PreFilter excluded). */
  readonly rejected: readonly NodeRejection[];
  /** How many nodes were filtered. */
  readonly nodesEvaluated: number;
  /** The number of nodes considered (the snapshot's, or the caller's list). */
  readonly numAllNodes: number;
  /** A PreFilter rejection that made every node infeasible. */
  readonly preFilterStatus: Status | undefined;
}

/**
 * PreFilter, then Filter over the nodes, then the filtering extenders on the
 * nodes found feasible (upstream findNodesThatFitPod, findNodesThatPassFilters
 * and findNodesThatPassExtenders).
 *
 * @throws PluginError when a plugin fails; ExtenderError when a non-ignorable extender fails.
 */
export async function findNodesThatFitPod(fwk: Framework, request: CycleRequest): Promise<FilterResult> {
  const snapshot = fwk.snapshot();
  const state = new CycleState();
  const diagnosis = new Diagnosis();
  const rejected: NodeRejection[] = [];
  const pod = request.pod;

  // The universe: every node, or the caller's list (unknown names fail here).
  let universe: readonly NodeInfo[] = snapshot.nodeInfos();
  const named = request.nodeNames !== undefined && request.nodeNames.length > 0;
  if (named) {
    const list: NodeInfo[] = [];
    const seen = new Set<string>();
    for (const name of request.nodeNames ?? []) {
      if (seen.has(name)) continue;
      seen.add(name);
      const info = snapshot.nodeInfo(name);
      if (info !== undefined) list.push(info);
      else {
        const status = Status.unresolvable(REASON_NODE_NOT_FOUND);
        diagnosis.set(name, status);
        rejected.push({ nodeName: name, status });
      }
    }
    universe = list;
  }
  const numAllNodes = universe.length + rejected.length;
  diagnosis.universe = universe;

  const pre = await fwk.runPreFilterPlugins(state, pod, request.signal);
  if (!pre.status.isSuccess()) {
    diagnosis.absentStatus = pre.status;
    diagnosis.preFilterMessage = pre.status.message();
    if (pre.status.plugin !== '') diagnosis.unschedulablePlugins.add(pre.status.plugin);
    return { state, feasible: [], diagnosis, rejected, nodesEvaluated: 0, numAllNodes, preFilterStatus: pre.status };
  }

  let nodes = universe;
  if (pre.nodeNames !== undefined) {
    const allowed = pre.nodeNames;
    const excluded = Status.unresolvable(`node(s) didn't satisfy plugin(s) [${[...pre.narrowingPlugins].sort().join(' ')}]`);
    diagnosis.absentStatus = excluded;
    for (const p of pre.narrowingPlugins) diagnosis.unschedulablePlugins.add(p);
    nodes = universe.filter((n) => allowed.has(n.name));
    // A caller that named nodes gets an answer for each of them.
    if (named) for (const n of universe) if (!allowed.has(n.name)) rejected.push({ nodeName: n.name, status: excluded });
  }

  // The node preemption nominated is likely the only one that fits: it goes first, alone, and wins if it passes (upstream evaluateNominatedNode).
  const nominated = request.exhaustive === true ? undefined : nominatedNodeFits(fwk, state, pod, nodes);
  if (nominated !== undefined) {
    const passed = fwk.extenders.length > 0 ? (await runExtenderFilters(fwk.extenders, pod, [nominated], request.signal, fwk.onExtenderError)).feasible : [nominated];
    if (passed.length > 0) return { state, feasible: [...passed], diagnosis, rejected, nodesEvaluated: 1, numAllNodes, preFilterStatus: undefined };
  }

  const total = nodes.length;
  let numNodesToFind = request.exhaustive === true ? total : numFeasibleNodesToFind(fwk.percentageOfNodesToScore, total);
  // Nothing ranks the nodes and no extender narrows them: the first feasible node will do (upstream hasScoring, hasExtenderFilters).
  const scoring = fwk.hasScorePlugins || fwk.extenders.some((e) => e.prioritize !== undefined);
  const extenderFilters = fwk.extenders.some((e) => e.filter !== undefined);
  if (!scoring && !extenderFilters && request.exhaustive !== true) numNodesToFind = Math.min(1, total);

  let feasible: NodeInfo[] = [];
  let processed = 0;
  // Nominated pods are rare (preemption made them): without any, no node needs the look-up.
  const withNominated = snapshot.hasNominatedPods();
  if (total > 0) {
    const start = fwk.nextStartNodeIndex % total;
    for (let i = 0; i < total && feasible.length < numNodesToFind; i++) {
      const info = nodes[(start + i) % total] as NodeInfo;
      processed++;
      if (!fwk.hasFilterPlugins) {
        feasible.push(info);
        continue;
      }
      const status = withNominated ? fwk.runFilterPluginsWithNominatedPods(state, pod, info) : fwk.runFilterPlugins(state, pod, info);
      if (status.isSuccess()) feasible.push(info);
      else if (status.isError()) throw PluginError.fromStatus(status, 'Filter');
      else {
        diagnosis.set(info.name, status);
        rejected.push({ nodeName: info.name, status });
      }
    }
    // Every node gets its turn across cycles (upstream nextStartNodeIndex).
    const all = Math.max(universe.length, 1);
    fwk.nextStartNodeIndex = (fwk.nextStartNodeIndex + processed) % all;
  }
  if (fwk.extenders.length > 0 && feasible.length > 0) {
    const passed = await runExtenderFilters(fwk.extenders, pod, feasible, request.signal, fwk.onExtenderError);
    for (const r of passed.rejected) {
      // Not diagnosis.set: as upstream, the unschedulable plugins name "Extender", not each extender.
      diagnosis.statuses.set(r.nodeName, r.status);
      rejected.push(r);
    }
    if (passed.feasible.length !== feasible.length) diagnosis.unschedulablePlugins.add(EXTENDER_PLUGIN_NAME);
    feasible = [...passed.feasible];
  }
  return { state, feasible, diagnosis, rejected, nodesEvaluated: processed, numAllNodes, preFilterStatus: undefined };
}

/** The pod's nominated node when it is among the nodes and passes the filters (with its nominated peers); else undefined. */
function nominatedNodeFits(fwk: Framework, state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): NodeInfo | undefined {
  const name = pod.pod.nominatedNodeName;
  if (name === '') return undefined;
  const info = nodes.find((n) => n.name === name);
  if (info === undefined) return undefined;
  if (!fwk.hasFilterPlugins) return info;
  // A failure here, even an error, only means the full pass decides (as upstream, which logs it).
  return fwk.runFilterPluginsWithNominatedPods(state, pod, info).isSuccess() ? info : undefined;
}

/**
 * PreScore and Score over the feasible nodes, then the prioritizing
 * extenders, whose scores (0..MAX_EXTENDER_PRIORITY) are scaled to
 * 0..MAX_NODE_SCORE, weighted and added to each node's total (upstream
 * prioritizeNodes). Without Score plugins and extenders every node scores 1.
 *
 * @throws PluginError when a plugin fails; ExtenderError when the signal aborts an extender call.
 */
export async function prioritizeNodes(fwk: Framework, state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], signal: AbortSignal): Promise<ScoredNodes> {
  if (!fwk.hasScorePlugins && fwk.extenders.length === 0) return { nodes: nodes.map((n) => ({ name: n.name, total: 1, scores: [] })), summary: [] };
  await fwk.runPreScorePlugins(state, pod, nodes, signal);
  const scored = fwk.runScorePlugins(state, pod, nodes);
  if (fwk.extenders.length === 0) return scored;
  const byExtenders = await runExtenderPrioritizers(fwk.extenders, pod, nodes, signal, fwk.onExtenderError);
  if (byExtenders.size === 0) return scored;
  const merged = scored.nodes.map((s) => {
    const parts = byExtenders.get(s.name);
    if (parts === undefined) return s;
    let total = s.total;
    for (const p of parts) total += p.score * p.weight;
    return { name: s.name, total, scores: [...s.scores, ...parts] };
  });
  const extenderParts = [...byExtenders].map(([name, parts]) => ({ name, total: 0, scores: parts }));
  return { nodes: merged, summary: [...scored.summary, ...summarizeScores(extenderParts)] };
}

/** Above this many ranked nodes wanted, {@link rankNodes} sorts them all rather than selecting the best. */
const MAX_SELECTED = 64;

/**
 * Best first, at most `limit` nodes. Equal totals come in a random order, as
 * upstream's selectHost picks uniformly among the top-scored nodes: callers
 * take the first (and filterscore cuts the list at maxRanked), so a fixed tie
 * order would send every attempt running on the same snapshot to the same
 * node. `random` makes the order reproducible in tests.
 */
export function rankNodes(scores: readonly NodePluginScores[], random: () => number = Math.random, limit = scores.length): NodePluginScores[] {
  // One tie-breaking key per node, by position: no wrapper object per node.
  const keys = new Float64Array(scores.length);
  for (let i = 0; i < keys.length; i++) keys[i] = random();
  const bestFirst = (a: number, b: number): number => (scores[b] as NodePluginScores).total - (scores[a] as NodePluginScores).total || (keys[a] as number) - (keys[b] as number);
  if (limit <= 0 || limit >= scores.length || limit > MAX_SELECTED) {
    const order = Array.from(keys, (_, i) => i).sort(bestFirst);
    return order.slice(0, Math.max(0, limit)).map((i) => scores[i] as NodePluginScores);
  }
  // The few nodes a scheduler falls back along, out of hundreds scored: one pass keeping the best in order, no sort of them all.
  const best: number[] = [];
  for (let x = 0; x < scores.length; x++) {
    if (best.length === limit && bestFirst(x, best[limit - 1] as number) >= 0) continue;
    if (best.length === limit) best.pop();
    let i = best.length;
    while (i > 0 && bestFirst(x, best[i - 1] as number) < 0) i--;
    best.splice(i, 0, x);
  }
  return best.map((i) => scores[i] as NodePluginScores);
}

/** What {@link evaluatePod} returns. */
export interface EvaluateResult extends FilterResult {
  /** The scored feasible nodes, best first (truncated to maxRanked). */
  readonly ranked: readonly NodePluginScores[];
  /** Each Score plugin's scores over every node scored (before the truncation); empty when nothing was scored. */
  readonly scoreSummary: readonly PluginScoreSummary[];
  /** The explanation when nothing is feasible; empty otherwise. */
  readonly summary: string;
}

/**
 * The whole filter/score cycle for one pod. When nothing is feasible, the
 * PostFilter plugins run as a dry run to explain whether preemption could
 * help; when exactly one node is feasible it is returned unscored, as
 * upstream does, and so are all of them with `skipScore`.
 *
 * @throws PluginError when a plugin fails.
 */
export async function evaluatePod(fwk: Framework, request: CycleRequest & { readonly maxRanked?: number; readonly skipScore?: boolean }): Promise<EvaluateResult> {
  const filtered = await findNodesThatFitPod(fwk, request);
  if (filtered.feasible.length === 0) {
    const summary = await explainFailure(fwk, filtered, request);
    return { ...filtered, ranked: [], scoreSummary: [], summary };
  }
  // Unscored: a single feasible node (as upstream), or a caller that asks only which nodes fit.
  if (filtered.feasible.length === 1 || request.skipScore === true) {
    return { ...filtered, ranked: filtered.feasible.map((n) => ({ name: n.name, total: 0, scores: [] })), scoreSummary: [], summary: '' };
  }
  const { nodes: scores, summary: scoreSummary } = await prioritizeNodes(fwk, filtered.state, request.pod, filtered.feasible, request.signal);
  const ranked = rankNodes(scores, Math.random, request.maxRanked !== undefined && request.maxRanked > 0 ? request.maxRanked : scores.length);
  return { ...filtered, ranked, scoreSummary, summary: '' };
}

/** Each plugin's score range over the nodes, in the order the plugins ran: a bounded view of a cycle's scores. */
export function summarizeScores(scores: readonly NodePluginScores[]): PluginScoreSummary[] {
  const byPlugin = new Map<string, { weight: number; nodes: number; min: number; max: number; sum: number }>();
  for (const node of scores) {
    for (const s of node.scores) {
      const acc = byPlugin.get(s.plugin);
      if (acc === undefined) byPlugin.set(s.plugin, { weight: s.weight, nodes: 1, min: s.score, max: s.score, sum: s.score });
      else {
        acc.nodes += 1;
        acc.min = Math.min(acc.min, s.score);
        acc.max = Math.max(acc.max, s.score);
        acc.sum += s.score;
      }
    }
  }
  return [...byPlugin].map(([plugin, a]) => ({ plugin, weight: a.weight, nodes: a.nodes, min: a.min, max: a.max, mean: a.sum / a.nodes }));
}

async function explainFailure(fwk: Framework, filtered: FilterResult, request: CycleRequest): Promise<string> {
  if (filtered.numAllNodes === 0) return NO_NODES_AVAILABLE;
  if (fwk.postFilterPlugins.length > 0) {
    const post = await fwk.runPostFilterPlugins(filtered.state, request.pod, filtered.diagnosis, { dryRun: true, maxCandidates: 1 }, request.signal);
    if (!post.status.isSuccess()) filtered.diagnosis.postFilterMessage = post.status.message();
  }
  return fitErrorMessage(filtered.numAllNodes, filtered.diagnosis);
}

/** What {@link findPreemptionCandidates} returns. */
export interface PreemptionSearchResult {
  /** Candidates, best first. */
  readonly candidates: readonly PreemptionCandidate[];
  /** Why there is none, when there is none. */
  readonly summary: string;
  /** The search ran and found no candidate: a nomination the pod holds is stale. */
  readonly clearNomination: boolean;
  /** The filter outcome the search started from. */
  readonly filtered: FilterResult;
}

/**
 * The PostFilter search as a dry run: every node is filtered (the search
 * needs every node's status), then the PostFilter plugins report their
 * candidates without acting.
 *
 * @throws PluginError when a plugin fails.
 */
export async function findPreemptionCandidates(fwk: Framework, request: CycleRequest & { readonly maxCandidates: number }): Promise<PreemptionSearchResult> {
  const filtered = await findNodesThatFitPod(fwk, { ...request, exhaustive: true });
  const none = { candidates: [], clearNomination: false, filtered };
  if (filtered.feasible.length > 0) {
    return { ...none, summary: `the pod fits on ${filtered.feasible.length} node(s) without preemption` };
  }
  if (filtered.numAllNodes === 0) return { ...none, summary: NO_NODES_AVAILABLE };
  if (fwk.postFilterPlugins.length === 0) return { ...none, summary: `profile ${fwk.profileName} has no PostFilter plugin` };
  const post: PostFilterResult = await fwk.runPostFilterPlugins(
    filtered.state,
    request.pod,
    filtered.diagnosis,
    { dryRun: true, maxCandidates: request.maxCandidates },
    request.signal,
  );
  const candidates = post.candidates ?? [];
  if (candidates.length > 0) {
    const snapshot = fwk.snapshot();
    const priority = request.pod.pod.priority;
    const withNominated = candidates.map((c) => {
      const lower = snapshot.nominatedPods(c.nodeName).filter((p) => p.pod.priority < priority && p.pod.uid !== request.pod.pod.uid);
      return lower.length === 0 ? c : { ...c, lowerPriorityNominated: lower.map((p) => p.pod) };
    });
    return { candidates: withNominated, summary: '', clearNomination: false, filtered };
  }
  filtered.diagnosis.postFilterMessage = post.status.message();
  return { ...none, summary: fitErrorMessage(filtered.numAllNodes, filtered.diagnosis), clearNomination: post.nominatedNodeName === '' };
}

/**
 * PreScore and Score on nodes a caller found feasible (the Score RPC). The
 * cycle starts fresh: no PreFilter state is carried over.
 *
 * @throws PluginError when a plugin fails.
 */
export async function scoreNodes(fwk: Framework, pod: PodInfo, nodes: readonly NodeInfo[], signal: AbortSignal): Promise<NodePluginScores[]> {
  const state = new CycleState();
  return rankNodes((await prioritizeNodes(fwk, state, pod, nodes, signal)).nodes);
}
