/**
 * NodeAffinity: Filter enforces spec.nodeSelector, the required node affinity
 * and the profile's addedAffinity; PreFilter narrows the nodes to those a
 * metadata.name requirement names; Score sums the weights of the preferred
 * terms a node matches (upstream nodeaffinity.NodeAffinity).
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go.
 */
import { definePlugin, PluginNames, StateKey, Status } from '@schedmesh/framework';
import type { CycleState, FilterPlugin, NodeInfo, NodeScore, PodInfo, PreFilterPlugin, PreFilterResult, PreScorePlugin, ReadonlyCycleState, ScorePlugin, StateData } from '@schedmesh/framework';
import { compileNodeSelector, compileNodeSelectorTerm, compileRequiredNodeAffinity, NODE_FIELD_METADATA_NAME } from '@schedmesh/model';
import type { CompiledNodeSelector } from '@schedmesh/model';
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import type { Pod, PreferredSchedulingTerm } from '@schedmesh/proto/v1/types';
import { defaultNormalizeScore } from '../helpers/normalize.js';
import { nodeAffinityArgsSchema } from './args.js';
import type { NodeAffinityArgs } from './args.js';

/** The node does not match the pod's nodeSelector or required node affinity. */
export const REASON_POD = "node(s) didn't match Pod's node affinity/selector";
/** The node does not match the profile's addedAffinity. */
export const REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
/** Every term names nodes by metadata.name and no name is common to a term's requirements. */
export const REASON_CONFLICT = 'pod affinity terms conflict';

interface WeightedTerm {
  readonly weight: number;
  readonly selector: CompiledNodeSelector;
}

function compilePreferred(terms: readonly PreferredSchedulingTerm[]): WeightedTerm[] {
  const out: WeightedTerm[] = [];
  for (const t of terms) {
    if (t.weight === 0 || t.preference === undefined) continue;
    out.push({ weight: t.weight, selector: compileNodeSelectorTerm(t.preference) });
  }
  return out;
}

function preferredScore(terms: readonly WeightedTerm[], nodeInfo: NodeInfo): number {
  let sum = 0;
  for (const t of terms) if (t.selector.matches(nodeInfo.name, nodeInfo.node.labels)) sum += t.weight;
  return sum;
}

class PreFilterState implements StateData {
  constructor(readonly required: CompiledNodeSelector) {}
  clone(): this {
    return this;
  }
}

class PreScoreState implements StateData {
  constructor(readonly preferred: readonly WeightedTerm[]) {}
  clone(): this {
    return this;
  }
}

const PRE_FILTER_KEY = new StateKey<PreFilterState>(`PreFilter${PluginNames.NodeAffinity}`);
const PRE_SCORE_KEY = new StateKey<PreScoreState>(`PreScore${PluginNames.NodeAffinity}`);

function hasNodeSelector(pod: Pod): boolean {
  for (const _ in pod.nodeSelector) return true;
  return false;
}

class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = PluginNames.NodeAffinity;
  private readonly addedRequired: CompiledNodeSelector | undefined;
  private readonly addedPreferred: readonly WeightedTerm[];

  constructor(args: NodeAffinityArgs) {
    const required = args.addedAffinity?.required;
    this.addedRequired = required === undefined ? undefined : compileNodeSelector(required);
    this.addedPreferred = compilePreferred(args.addedAffinity?.preferred ?? []);
  }

  async preFilter(state: CycleState, pod: PodInfo): Promise<PreFilterResult> {
    const required = pod.pod.affinity?.nodeAffinity?.required;
    if (required === undefined && this.addedRequired === undefined && !hasNodeSelector(pod.pod)) return { status: Status.SKIP };
    state.write(PRE_FILTER_KEY, new PreFilterState(compileRequiredNodeAffinity(pod.pod)));
    if (required === undefined || required.terms.length === 0) return { status: Status.SUCCESS };

    // Terms are ORed: the node set is the union of what each term allows, and
    // a term without a metadata.name requirement allows every node.
    let names: Set<string> | undefined;
    for (const term of required.terms) {
      let termNames: Set<string> | undefined;
      for (const r of term.matchFields) {
        if (r.key !== NODE_FIELD_METADATA_NAME || r.operator !== SelectorOperator.SELECTOR_OPERATOR_IN) continue;
        const s = new Set(r.values);
        if (termNames === undefined) termNames = s;
        else for (const n of termNames) if (!s.has(n)) termNames.delete(n);
      }
      if (termNames === undefined) return { status: Status.SUCCESS };
      names ??= new Set();
      for (const n of termNames) names.add(n);
    }
    if (names !== undefined && names.size === 0) return { status: Status.unresolvable(REASON_CONFLICT) };
    return names === undefined ? { status: Status.SUCCESS } : { status: Status.SUCCESS, nodeNames: names };
  }

  filter(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const node = nodeInfo.node;
    if (this.addedRequired !== undefined && !this.addedRequired.matches(node.name, node.labels)) return Status.unresolvable(REASON_ENFORCED);
    const required = state.read(PRE_FILTER_KEY)?.required ?? compileRequiredNodeAffinity(pod.pod);
    if (!required.matches(node.name, node.labels)) return Status.unresolvable(REASON_POD);
    return Status.SUCCESS;
  }

  async preScore(state: CycleState, pod: PodInfo): Promise<Status> {
    const preferred = pod.pod.affinity?.nodeAffinity?.preferred ?? [];
    if (preferred.length === 0 && this.addedPreferred.length === 0) return Status.SKIP;
    state.write(PRE_SCORE_KEY, new PreScoreState(compilePreferred(preferred)));
    return Status.SUCCESS;
  }

  score(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    let count = this.addedPreferred.length > 0 ? preferredScore(this.addedPreferred, nodeInfo) : 0;
    const preferred = state.read(PRE_SCORE_KEY)?.preferred ?? compilePreferred(pod.pod.affinity?.nodeAffinity?.preferred ?? []);
    if (preferred.length > 0) count += preferredScore(preferred, nodeInfo);
    return count;
  }

  normalizeScore(_state: ReadonlyCycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(scores, false);
  }
}

/** The NodeAffinity factory. */
export const nodeAffinityPlugin = definePlugin<NodeAffinityArgs>({
  name: PluginNames.NodeAffinity,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  defaultWeight: 2,
  args: nodeAffinityArgsSchema,
  create: (args) => new NodeAffinity(args),
});
