/**
 * PodTopologySpread: spreads matching pods over topology domains (upstream
 * podtopologyspread.PodTopologySpread). Hard constraints (DoNotSchedule)
 * filter nodes where the pod would push the skew over maxSkew (minDomains,
 * node inclusion policies and matchLabelKeys included); soft constraints
 * (ScheduleAnyway, or the default constraints for pods that declare none)
 * score nodes by how few matching pods their domains hold. Default
 * constraints select the pods of the pod's Services and controlling
 * ReplicationController, ReplicaSet or StatefulSet.
 *
 * Mirrors kube-scheduler v1.36 pkg/scheduler/framework/plugins/
 * podtopologyspread and plugins/helper/spread.go.
 */
import { definePlugin, MAX_NODE_SCORE, PluginNames, StateKey, Status } from '@schedmesh/framework';
import type { CycleState, FilterPlugin, FrameworkHandle, NodeInfo, NodeScore, PodInfo, PreFilterExtensions, PreFilterPlugin, PreFilterResult, PreScorePlugin, ReadonlyCycleState, ScorePlugin, StateData } from '@schedmesh/framework';
import { compileLabelSelector, compileRequiredNodeAffinity, FILTER_EFFECTS, findUntoleratedTaint } from '@schedmesh/model';
import type { CompiledNodeSelector, Labels } from '@schedmesh/model';
import { NodeInclusionPolicy, UnsatisfiableConstraintAction } from '@schedmesh/proto/v1/types';
import type { LabelSelector, Node, Pod, TopologySpreadConstraint } from '@schedmesh/proto/v1/types';
import { defaultSelector } from '../helpers/spread.js';
import { podTopologySpreadArgsSchema, SYSTEM_DEFAULT_CONSTRAINTS } from './args.js';
import type { DefaultConstraint, PodTopologySpreadArgs } from './args.js';

/** The node breaks maxSkew. */
export const REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
/** The node lacks a constraint's topology key. */
export const REASON_NODE_LABEL_NOT_MATCH = `${REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;

const LABEL_HOSTNAME = 'kubernetes.io/hostname';
const INVALID_SCORE = -1;

/** A constraint with its selector compiled. */
interface Constraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  /** Whether an existing pod counts. */
  readonly selects: (pod: Pod) => boolean;
  /** Identifies what `selects` selects (for the count memo). */
  readonly selectorKey: string;
  readonly minDomains: number;
  readonly honorNodeAffinity: boolean;
  readonly honorNodeTaints: boolean;
}

function selectorWithKeys(selector: LabelSelector | undefined, matchLabelKeys: readonly string[], podLabels: Labels): LabelSelector | undefined {
  if (matchLabelKeys.length === 0 || selector === undefined) return selector;
  const extra: Record<string, string> = {};
  let any = false;
  for (const key of matchLabelKeys) {
    const v = podLabels[key];
    if (typeof v === 'string') {
      extra[key] = v;
      any = true;
    }
  }
  return any ? { matchLabels: { ...selector.matchLabels, ...extra }, matchExpressions: selector.matchExpressions } : selector;
}

function fromPod(c: TopologySpreadConstraint, podLabels: Labels): Constraint {
  const merged = selectorWithKeys(c.labelSelector, c.matchLabelKeys, podLabels);
  const selector = compileLabelSelector(merged);
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selects: (p) => selector.matches(p.labels),
    selectorKey: merged === undefined ? 'none' : `sel:${JSON.stringify(merged)}`,
    minDomains: c.minDomains ?? 1,
    honorNodeAffinity: c.nodeAffinityPolicy !== NodeInclusionPolicy.NODE_INCLUSION_POLICY_IGNORE,
    honorNodeTaints: c.nodeTaintsPolicy === NodeInclusionPolicy.NODE_INCLUSION_POLICY_HONOR,
  };
}

function isHard(c: TopologySpreadConstraint): boolean {
  return c.whenUnsatisfiable !== UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_SCHEDULE_ANYWAY;
}

function nodeHasAllKeys(labels: Labels, constraints: readonly Constraint[]): boolean {
  for (const c of constraints) if (typeof labels[c.topologyKey] !== 'string') return false;
  return true;
}

function matchesInclusionPolicies(c: Constraint, pod: Pod, node: Node, required: CompiledNodeSelector): boolean {
  if (c.honorNodeAffinity && !required.matches(node.name, node.labels)) return false;
  if (c.honorNodeTaints && findUntoleratedTaint(node.taints, pod.tolerations, FILTER_EFFECTS) !== undefined) return false;
  return true;
}

/** Matching, non-terminating pods of the namespace on the node. */
function countMatching(pods: readonly PodInfo[], c: Constraint, namespace: string): number {
  let n = 0;
  for (const p of pods) {
    if (p.pod.terminating || p.pod.namespace !== namespace) continue;
    if (c.selects(p.pod)) n++;
  }
  return n;
}

/**
 * Matching-pod counts per node, remembered across cycles while the node is
 * unchanged (its NodeInfo revision): replicas of one workload arrive with
 * the same selector, and counting every pod of every node for each of them
 * dominates the cycle on large clusters. Plugin-private; the snapshot is
 * never written. Bounded to the most recently used selectors.
 */
class MatchCountMemo {
  private readonly bySelector = new Map<string, SelectorCounts>();

  constructor(private readonly maxSelectors: number) {}

  /** The counts of one selector over the snapshot's node list (most recently used last). */
  forSelector(key: string, nodes: readonly NodeInfo[]): SelectorCounts {
    let m = this.bySelector.get(key);
    if (m !== undefined) this.bySelector.delete(key);
    else if (this.bySelector.size >= this.maxSelectors) {
      const oldest = this.bySelector.keys().next().value;
      if (oldest !== undefined) this.bySelector.delete(oldest);
    }
    // A new node list (nodes added or removed) starts the memo afresh.
    if (m === undefined || m.nodes !== nodes) m = { nodes, revisions: new Float64Array(nodes.length).fill(-1), counts: new Int32Array(nodes.length) };
    this.bySelector.set(key, m);
    return m;
  }
}

/** Counts per position of a node list, valid while the node's revision is unchanged. */
interface SelectorCounts {
  readonly nodes: readonly NodeInfo[];
  readonly revisions: Float64Array;
  readonly counts: Int32Array;
}

function memoCount(memo: SelectorCounts, index: number, info: NodeInfo, c: Constraint, namespace: string): number {
  if (memo.nodes[index] === info && memo.revisions[index] === info.revision) return memo.counts[index] ?? 0;
  const count = countMatching(info.pods, c, namespace);
  if (memo.nodes[index] === info) {
    memo.revisions[index] = info.revision;
    memo.counts[index] = count;
  }
  return count;
}

/** The two smallest match counts of a constraint (upstream criticalPaths). */
class CriticalPaths {
  v0 = '';
  n0 = Number.MAX_SAFE_INTEGER;
  v1 = '';
  n1 = Number.MAX_SAFE_INTEGER;

  update(value: string, num: number): void {
    if (value === this.v0 || value === this.v1) {
      if (value === this.v0) this.n0 = num;
      else this.n1 = num;
      if (this.n0 > this.n1) {
        [this.v0, this.n0, this.v1, this.n1] = [this.v1, this.n1, this.v0, this.n0];
      }
    } else if (num < this.n0) {
      this.v1 = this.v0;
      this.n1 = this.n0;
      this.v0 = value;
      this.n0 = num;
    } else if (num < this.n1) {
      this.v1 = value;
      this.n1 = num;
    }
  }

  clone(): CriticalPaths {
    const c = new CriticalPaths();
    c.v0 = this.v0;
    c.n0 = this.n0;
    c.v1 = this.v1;
    c.n1 = this.n1;
    return c;
  }
}

class PreFilterState implements StateData {
  constructor(
    readonly constraints: readonly Constraint[],
    readonly matchNum: Map<string, number>[],
    readonly paths: CriticalPaths[],
    readonly requiredAffinity: CompiledNodeSelector,
  ) {}

  /** The global minimum, 0 while fewer than minDomains domains exist. */
  minMatchNum(i: number): number {
    const c = this.constraints[i] as Constraint;
    if ((this.matchNum[i] as Map<string, number>).size < c.minDomains) return 0;
    return (this.paths[i] as CriticalPaths).n0;
  }

  clone(): PreFilterState {
    return new PreFilterState(
      this.constraints,
      this.matchNum.map((m) => new Map(m)),
      this.paths.map((p) => p.clone()),
      this.requiredAffinity,
    );
  }
}

class PreScoreState implements StateData {
  constructor(
    readonly constraints: readonly Constraint[],
    readonly ignoredNodes: ReadonlySet<string>,
    readonly podCounts: Map<string, number>[],
    readonly normalizingWeight: readonly number[],
  ) {}
  clone(): this {
    return this;
  }
}

const PRE_FILTER_KEY = new StateKey<PreFilterState>(`PreFilter${PluginNames.PodTopologySpread}`);
const PRE_SCORE_KEY = new StateKey<PreScoreState>(`PreScore${PluginNames.PodTopologySpread}`);

/** log(size + 2): smaller topologies' counts are not watered down by bigger ones. */
export function topologyNormalizingWeight(size: number): number {
  return Math.log(size + 2);
}

function scoreForCount(count: number, maxSkew: number, weight: number): number {
  return count * weight + (maxSkew - 1);
}

class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, PreFilterExtensions {
  readonly name = PluginNames.PodTopologySpread;
  private readonly defaults: readonly DefaultConstraint[];
  private readonly systemDefaulted: boolean;
  private readonly memo = new MatchCountMemo(32);

  constructor(
    args: PodTopologySpreadArgs,
    private readonly handle: FrameworkHandle,
  ) {
    this.systemDefaulted = args.defaultingType === 'System';
    this.defaults = this.systemDefaulted ? SYSTEM_DEFAULT_CONSTRAINTS : args.defaultConstraints;
  }

  get preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  /**
   * The pod's own constraints of the action, or (when it declares none) the
   * default ones with the selector of its Services and controller
   * (upstream buildDefaultConstraints).
   */
  private constraints(pod: Pod, hard: boolean): Constraint[] {
    if (pod.topologySpreadConstraints.length > 0) {
      return pod.topologySpreadConstraints.filter((c) => isHard(c) === hard).map((c) => fromPod(c, pod.labels));
    }
    const defaults = this.defaults.filter((c) => (c.whenUnsatisfiable === 'DoNotSchedule') === hard);
    if (defaults.length === 0) return [];
    const selector = defaultSelector(pod, this.handle.snapshot());
    if (selector === undefined) return [];
    const compiled = compileLabelSelector(selector);
    const selectorKey = `sel:${JSON.stringify(selector)}`;
    return defaults.map((c) => ({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selects: (p: Pod) => compiled.matches(p.labels),
      selectorKey,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: c.nodeAffinityPolicy !== 'Ignore',
      honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
    }));
  }

  async preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Promise<PreFilterResult> {
    const constraints = this.constraints(pod.pod, true);
    if (constraints.length === 0) return { status: Status.SKIP };
    const required = compileRequiredNodeAffinity(pod.pod);
    const matchNum = constraints.map(() => new Map<string, number>());
    const memos = constraints.map((c) => this.memo.forSelector(`${pod.pod.namespace}|${c.selectorKey}`, nodes));
    for (let n = 0; n < nodes.length; n++) {
      const info = nodes[n] as NodeInfo;
      const node = info.node;
      if (!nodeHasAllKeys(node.labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as Constraint;
        if (!matchesInclusionPolicies(c, pod.pod, node, required)) continue;
        const value = node.labels[c.topologyKey] as string;
        const m = matchNum[i] as Map<string, number>;
        m.set(value, (m.get(value) ?? 0) + memoCount(memos[i] as SelectorCounts, n, info, c, pod.pod.namespace));
      }
    }
    const paths = matchNum.map((m) => {
      const p = new CriticalPaths();
      for (const [value, n] of m) p.update(value, n);
      return p;
    });
    state.write(PRE_FILTER_KEY, new PreFilterState(constraints, matchNum, paths, required));
    return { status: Status.SUCCESS };
  }

  filter(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const s = state.read(PRE_FILTER_KEY);
    if (s === undefined) return Status.error(`reading ${PRE_FILTER_KEY.name} from the cycle state: PreFilter did not run`);
    const labels = nodeInfo.node.labels;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i] as Constraint;
      const value = labels[c.topologyKey];
      if (typeof value !== 'string') return Status.unresolvable(REASON_NODE_LABEL_NOT_MATCH);
      const selfMatch = c.selects(pod.pod) ? 1 : 0;
      const matchNum = (s.matchNum[i] as Map<string, number>).get(value) ?? 0;
      const skew = matchNum + selfMatch - s.minMatchNum(i);
      if (skew > c.maxSkew) return Status.unschedulable(REASON_CONSTRAINTS_NOT_MATCH);
    }
    return Status.SUCCESS;
  }

  addPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    this.updateWithPod(state, podToAdd.pod, podToSchedule.pod, nodeInfo.node, 1);
    return Status.SUCCESS;
  }

  removePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    this.updateWithPod(state, podToRemove.pod, podToSchedule.pod, nodeInfo.node, -1);
    return Status.SUCCESS;
  }

  private updateWithPod(state: CycleState, updated: Pod, preemptor: Pod, node: Node, delta: number): void {
    const s = state.read(PRE_FILTER_KEY);
    if (s === undefined || updated.namespace !== preemptor.namespace) return;
    if (!nodeHasAllKeys(node.labels, s.constraints)) return;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i] as Constraint;
      if (!c.selects(updated)) continue;
      if (!matchesInclusionPolicies(c, preemptor, node, s.requiredAffinity)) continue;
      const value = node.labels[c.topologyKey] as string;
      const m = s.matchNum[i] as Map<string, number>;
      const n = (m.get(value) ?? 0) + delta;
      m.set(value, n);
      (s.paths[i] as CriticalPaths).update(value, n);
    }
  }

  async preScore(state: CycleState, pod: PodInfo, filteredNodes: readonly NodeInfo[]): Promise<Status> {
    const allNodes = this.handle.snapshot().nodeInfos();
    if (allNodes.length === 0) return Status.SKIP;
    const constraints = this.constraints(pod.pod, false);
    if (constraints.length === 0) return Status.SKIP;
    // Only user-declared (or List-defaulted) constraints require every topology key on a node.
    const requireAllTopologies = pod.pod.topologySpreadConstraints.length > 0 || !this.systemDefaulted;
    const ignored = new Set<string>();
    const podCounts = constraints.map(() => new Map<string, number>());
    for (const info of filteredNodes) {
      if (requireAllTopologies && !nodeHasAllKeys(info.node.labels, constraints)) {
        ignored.add(info.name);
        continue;
      }
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as Constraint;
        if (c.topologyKey === LABEL_HOSTNAME) continue;
        const value = info.node.labels[c.topologyKey] ?? '';
        const m = podCounts[i] as Map<string, number>;
        if (!m.has(value)) m.set(value, 0);
      }
    }
    const weights = constraints.map((c, i) =>
      topologyNormalizingWeight(c.topologyKey === LABEL_HOSTNAME ? filteredNodes.length - ignored.size : (podCounts[i] as Map<string, number>).size),
    );
    const required = compileRequiredNodeAffinity(pod.pod);
    const memos = constraints.map((c) => this.memo.forSelector(`${pod.pod.namespace}|${c.selectorKey}`, allNodes));
    for (let n = 0; n < allNodes.length; n++) {
      const info = allNodes[n] as NodeInfo;
      const node = info.node;
      if (requireAllTopologies && !nodeHasAllKeys(node.labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as Constraint;
        if (c.topologyKey === LABEL_HOSTNAME) continue;
        if (!matchesInclusionPolicies(c, pod.pod, node, required)) continue;
        const value = node.labels[c.topologyKey] ?? '';
        const m = podCounts[i] as Map<string, number>;
        const current = m.get(value);
        // Domains without a candidate node do not matter.
        if (current === undefined) continue;
        m.set(value, current + memoCount(memos[i] as SelectorCounts, n, info, c, pod.pod.namespace));
      }
    }
    state.write(PRE_SCORE_KEY, new PreScoreState(constraints, ignored, podCounts, weights));
    return Status.SUCCESS;
  }

  score(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read(PRE_SCORE_KEY);
    if (s === undefined || s.ignoredNodes.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.node.labels;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i] as Constraint;
      const value = labels[c.topologyKey];
      if (typeof value !== 'string') continue;
      const count = c.topologyKey === LABEL_HOSTNAME ? countMatching(nodeInfo.pods, c, pod.pod.namespace) : ((s.podCounts[i] as Map<string, number>).get(value) ?? 0);
      score += scoreForCount(count, c.maxSkew, s.normalizingWeight[i] ?? 0);
    }
    return Math.round(score);
  }

  normalizeScore(state: ReadonlyCycleState, _pod: PodInfo, scores: NodeScore[]): void {
    const s = state.read(PRE_SCORE_KEY);
    if (s === undefined) return;
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (const sc of scores) {
      if (s.ignoredNodes.has(sc.name)) {
        sc.score = INVALID_SCORE;
        continue;
      }
      if (sc.score < min) min = sc.score;
      if (sc.score > max) max = sc.score;
    }
    for (const sc of scores) {
      if (sc.score === INVALID_SCORE) sc.score = 0;
      else if (max === 0) sc.score = MAX_NODE_SCORE;
      else sc.score = Math.trunc((MAX_NODE_SCORE * (max + min - sc.score)) / max);
    }
  }
}

/** The PodTopologySpread factory. */
export const podTopologySpreadPlugin = definePlugin<PodTopologySpreadArgs>({
  name: PluginNames.PodTopologySpread,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  defaultWeight: 2,
  args: podTopologySpreadArgsSchema,
  create: (args, handle) => new PodTopologySpread(args, handle),
});
