/**
 * InterPodAffinity: required pod affinity and anti-affinity filter nodes —
 * the incoming pod's terms and the required anti-affinity of the pods
 * already running — and preferred terms (both ways, plus existing pods'
 * required affinity weighted by hardPodAffinityWeight) score topology
 * domains (upstream interpodaffinity.InterPodAffinity). Namespace selectors
 * are resolved against the snapshot's namespaces.
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/interpodaffinity/filtering.go and
 * scoring.go.
 */
import { definePlugin, MAX_NODE_SCORE, PluginNames, podMatchesAllTerms, resolveNamespaceSelector, StateKey, Status, termMatches } from '@schedmesh/framework';
import type { AffinityTerm, CycleState, FilterPlugin, FrameworkHandle, NodeInfo, NodeScore, PodInfo, PreFilterExtensions, PreFilterPlugin, PreFilterResult, PreScorePlugin, ReadonlyCycleState, ScorePlugin, StateData, WeightedAffinityTerm } from '@schedmesh/framework';
import type { Labels } from '@schedmesh/model';
import type { Node } from '@schedmesh/proto/v1/types';
import { interPodAffinityArgsSchema } from './args.js';
import type { InterPodAffinityArgs } from './args.js';

/** The node's domains hold no pod the incoming pod's required affinity asks for. */
export const REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
/** The node's domains hold a pod the incoming pod's required anti-affinity excludes. */
export const REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";
/** A pod in the node's domains excludes the incoming pod by its required anti-affinity. */
export const REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";

const EMPTY_LABELS: Labels = Object.freeze({});

function pairKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

/** Topology pair → number of matching terms. */
type Counts = Map<string, number>;

function update(m: Counts, node: Node, topologyKey: string, delta: number): void {
  const value = node.labels[topologyKey];
  if (typeof value !== 'string') return;
  const key = pairKey(topologyKey, value);
  const n = (m.get(key) ?? 0) + delta;
  if (n === 0) m.delete(key);
  else m.set(key, n);
}

// Every term's domain counts when the pod matches all the terms.
function updateWithAffinityTerms(m: Counts, terms: readonly AffinityTerm[], pod: PodInfo, node: Node, delta: number): void {
  if (!podMatchesAllTerms(terms, pod.pod)) return;
  for (const t of terms) update(m, node, t.topologyKey, delta);
}

function updateWithAntiAffinityTerms(m: Counts, terms: readonly AffinityTerm[], pod: PodInfo, nsLabels: Labels | undefined, node: Node, delta: number): void {
  for (const t of terms) if (termMatches(t, pod.pod, nsLabels)) update(m, node, t.topologyKey, delta);
}

/** The incoming pod with its namespace selectors resolved into namespaces. */
function resolvedPodInfo(pod: PodInfo, handle: FrameworkHandle, which: 'required' | 'preferred'): PodInfo {
  const resolve = <T extends AffinityTerm>(terms: readonly T[]): readonly T[] => {
    if (!terms.some((t) => t.hasNamespaceSelectorTerms)) return terms;
    const namespaces = [...handle.snapshot().namespaces()];
    return terms.map((t) => resolveNamespaceSelector(t, namespaces));
  };
  if (which === 'required') {
    return { ...pod, requiredAffinityTerms: resolve(pod.requiredAffinityTerms), requiredAntiAffinityTerms: resolve(pod.requiredAntiAffinityTerms) };
  }
  return { ...pod, preferredAffinityTerms: resolve(pod.preferredAffinityTerms), preferredAntiAffinityTerms: resolve(pod.preferredAntiAffinityTerms) };
}

class PreFilterState implements StateData {
  constructor(
    readonly podInfo: PodInfo,
    readonly namespaceLabels: Labels,
    /** Pairs where existing pods' required anti-affinity matches the incoming pod. */
    readonly existingAntiAffinityCounts: Counts,
    /** Pairs where existing pods match all of the incoming pod's required affinity terms. */
    readonly affinityCounts: Counts,
    /** Pairs where existing pods match the incoming pod's required anti-affinity terms. */
    readonly antiAffinityCounts: Counts,
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(this.podInfo, this.namespaceLabels, new Map(this.existingAntiAffinityCounts), new Map(this.affinityCounts), new Map(this.antiAffinityCounts));
  }

  updateWithPod(updated: PodInfo, node: Node, delta: number): void {
    updateWithAntiAffinityTerms(this.existingAntiAffinityCounts, updated.requiredAntiAffinityTerms, this.podInfo, this.namespaceLabels, node, delta);
    updateWithAffinityTerms(this.affinityCounts, this.podInfo.requiredAffinityTerms, updated, node, delta);
    // The incoming pod's terms have their namespace selectors resolved already.
    updateWithAntiAffinityTerms(this.antiAffinityCounts, this.podInfo.requiredAntiAffinityTerms, updated, undefined, node, delta);
  }
}

/** topologyKey → value → score. */
type ScoreMap = Map<string, Map<string, number>>;

class PreScoreState implements StateData {
  constructor(readonly topologyScore: ScoreMap) {}
  clone(): this {
    return this;
  }
}

const PRE_FILTER_KEY = new StateKey<PreFilterState>(`PreFilter${PluginNames.InterPodAffinity}`);
const PRE_SCORE_KEY = new StateKey<PreScoreState>(`PreScore${PluginNames.InterPodAffinity}`);

function processTerm(m: ScoreMap, term: AffinityTerm, weight: number, pod: PodInfo, nsLabels: Labels | undefined, node: Node, multiplier: number): void {
  if (!termMatches(term, pod.pod, nsLabels)) return;
  const value = node.labels[term.topologyKey];
  if (typeof value !== 'string') return;
  let values = m.get(term.topologyKey);
  if (values === undefined) {
    values = new Map();
    m.set(term.topologyKey, values);
  }
  values.set(value, (values.get(value) ?? 0) + weight * multiplier);
}

function processTerms(m: ScoreMap, terms: readonly WeightedAffinityTerm[], pod: PodInfo, nsLabels: Labels | undefined, node: Node, multiplier: number): void {
  for (const t of terms) processTerm(m, t, t.weight, pod, nsLabels, node, multiplier);
}

class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, PreFilterExtensions {
  readonly name = PluginNames.InterPodAffinity;

  constructor(
    private readonly args: InterPodAffinityArgs,
    private readonly handle: FrameworkHandle,
  ) {}

  get preFilterExtensions(): PreFilterExtensions {
    return this;
  }

  async preFilter(state: CycleState, incoming: PodInfo, nodes: readonly NodeInfo[]): Promise<PreFilterResult> {
    const snapshot = this.handle.snapshot();
    const pod = resolvedPodInfo(incoming, this.handle, 'required');
    const nsLabels = snapshot.namespaceLabels(pod.pod.namespace) ?? EMPTY_LABELS;

    const existingAnti: Counts = new Map();
    for (const info of snapshot.havePodsWithRequiredAntiAffinity()) {
      for (const existing of info.podsWithRequiredAntiAffinity) {
        updateWithAntiAffinityTerms(existingAnti, existing.requiredAntiAffinityTerms, pod, nsLabels, info.node, 1);
      }
    }
    const affinity: Counts = new Map();
    const anti: Counts = new Map();
    if (pod.requiredAffinityTerms.length > 0 || pod.requiredAntiAffinityTerms.length > 0) {
      for (const info of nodes) {
        for (const existing of info.pods) {
          updateWithAffinityTerms(affinity, pod.requiredAffinityTerms, existing, info.node, 1);
          updateWithAntiAffinityTerms(anti, pod.requiredAntiAffinityTerms, existing, undefined, info.node, 1);
        }
      }
    }
    if (existingAnti.size === 0 && pod.requiredAffinityTerms.length === 0 && pod.requiredAntiAffinityTerms.length === 0) return { status: Status.SKIP };
    state.write(PRE_FILTER_KEY, new PreFilterState(pod, nsLabels, existingAnti, affinity, anti));
    return { status: Status.SUCCESS };
  }

  filter(state: ReadonlyCycleState, _pod: PodInfo, nodeInfo: NodeInfo): Status {
    const s = state.read(PRE_FILTER_KEY);
    if (s === undefined) return Status.error(`reading ${PRE_FILTER_KEY.name} from the cycle state: PreFilter did not run`);
    const labels = nodeInfo.node.labels;
    if (!satisfyPodAffinity(s, labels)) return Status.unresolvable(REASON_AFFINITY_RULES_NOT_MATCH);
    if (!satisfyPodAntiAffinity(s, labels)) return Status.unschedulable(REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
    if (!satisfyExistingPodsAntiAffinity(s, labels)) return Status.unschedulable(REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);
    return Status.SUCCESS;
  }

  addPod(state: CycleState, _podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    state.read(PRE_FILTER_KEY)?.updateWithPod(podToAdd, nodeInfo.node, 1);
    return Status.SUCCESS;
  }

  removePod(state: CycleState, _podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    state.read(PRE_FILTER_KEY)?.updateWithPod(podToRemove, nodeInfo.node, -1);
    return Status.SUCCESS;
  }

  async preScore(state: CycleState, incoming: PodInfo): Promise<Status> {
    const hasConstraints = incoming.preferredAffinityTerms.length > 0 || incoming.preferredAntiAffinityTerms.length > 0;
    if (this.args.ignorePreferredTermsOfExistingPods && !hasConstraints) return Status.SKIP;
    const snapshot = this.handle.snapshot();
    // Unless the pod has preferred terms, only pods with affinity terms can score.
    const nodes = hasConstraints ? snapshot.nodeInfos() : snapshot.havePodsWithAffinity();
    const pod = resolvedPodInfo(incoming, this.handle, 'preferred');
    const nsLabels = snapshot.namespaceLabels(pod.pod.namespace) ?? EMPTY_LABELS;
    const hard = this.args.hardPodAffinityWeight;
    const m: ScoreMap = new Map();
    for (const info of nodes) {
      const node = info.node;
      if (!hasLabels(node.labels)) continue;
      for (const existing of hasConstraints ? info.pods : info.podsWithAffinity) {
        // The incoming pod's terms (namespace selectors resolved) against the existing pod.
        processTerms(m, pod.preferredAffinityTerms, existing, undefined, node, 1);
        processTerms(m, pod.preferredAntiAffinityTerms, existing, undefined, node, -1);
        // The existing pod's terms against the incoming pod (symmetry).
        if (hard > 0) for (const t of existing.requiredAffinityTerms) processTerm(m, t, hard, pod, nsLabels, node, 1);
        processTerms(m, existing.preferredAffinityTerms, pod, nsLabels, node, 1);
        processTerms(m, existing.preferredAntiAffinityTerms, pod, nsLabels, node, -1);
      }
    }
    if (m.size === 0) return Status.SKIP;
    state.write(PRE_SCORE_KEY, new PreScoreState(m));
    return Status.SUCCESS;
  }

  score(state: ReadonlyCycleState, _pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read(PRE_SCORE_KEY);
    if (s === undefined) return 0;
    const labels = nodeInfo.node.labels;
    let score = 0;
    for (const [key, values] of s.topologyScore) {
      const value = labels[key];
      if (typeof value === 'string') score += values.get(value) ?? 0;
    }
    return score;
  }

  normalizeScore(state: ReadonlyCycleState, _pod: PodInfo, scores: NodeScore[]): void {
    const s = state.read(PRE_SCORE_KEY);
    if (s === undefined || s.topologyScore.size === 0) return;
    let min = Number.MAX_SAFE_INTEGER;
    let max = Number.MIN_SAFE_INTEGER;
    for (const sc of scores) {
      if (sc.score > max) max = sc.score;
      if (sc.score < min) min = sc.score;
    }
    const diff = max - min;
    for (const sc of scores) sc.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((sc.score - min) / diff)) : 0;
  }
}

function hasLabels(labels: Labels): boolean {
  for (const _ in labels) return true;
  return false;
}

function satisfyPodAffinity(s: PreFilterState, labels: Labels): boolean {
  let podsExist = true;
  for (const term of s.podInfo.requiredAffinityTerms) {
    const value = labels[term.topologyKey];
    // Every topology label must exist on the node.
    if (typeof value !== 'string') return false;
    if ((s.affinityCounts.get(pairKey(term.topologyKey, value)) ?? 0) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group that has affinity to itself may go anywhere its terms' topologies exist.
  return s.affinityCounts.size === 0 && podMatchesAllTerms(s.podInfo.requiredAffinityTerms, s.podInfo.pod);
}

function satisfyPodAntiAffinity(s: PreFilterState, labels: Labels): boolean {
  if (s.antiAffinityCounts.size === 0) return true;
  for (const term of s.podInfo.requiredAntiAffinityTerms) {
    const value = labels[term.topologyKey];
    if (typeof value === 'string' && (s.antiAffinityCounts.get(pairKey(term.topologyKey, value)) ?? 0) > 0) return false;
  }
  return true;
}

function satisfyExistingPodsAntiAffinity(s: PreFilterState, labels: Labels): boolean {
  if (s.existingAntiAffinityCounts.size === 0) return true;
  for (const key in labels) {
    if ((s.existingAntiAffinityCounts.get(pairKey(key, labels[key] as string)) ?? 0) > 0) return false;
  }
  return true;
}

/** The InterPodAffinity factory. */
export const interPodAffinityPlugin = definePlugin<InterPodAffinityArgs>({
  name: PluginNames.InterPodAffinity,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  defaultWeight: 2,
  args: interPodAffinityArgsSchema,
  create: (args, handle) => new InterPodAffinity(args, handle),
});
