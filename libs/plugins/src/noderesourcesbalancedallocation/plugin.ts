/**
 * NodeResourcesBalancedAllocation: prefers nodes whose resource utilizations
 * become closer to each other with the pod: the balance (100 × (1 − the
 * standard deviation of the utilizations)) with the pod against without it,
 * mapped to 50..100 (75: unchanged). Best-effort pods are skipped.
 *
 * Mirrors kube-scheduler v1.36 pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go.
 */
import { definePlugin, MAX_NODE_SCORE, PluginNames, StateKey, Status } from '@schedmesh/framework';
import type { CycleState, NodeInfo, PodInfo, PreScorePlugin, ReadonlyCycleState, ScorePlugin, StateData } from '@schedmesh/framework';
import type { ResourceSpec } from '../helpers/k8s-schemas.js';
import { NodeResourcesScoring, podRequestList } from '../helpers/resource-allocation.js';
import { nodeResourcesBalancedAllocationArgsSchema } from './args.js';
import type { NodeResourcesBalancedAllocationArgs } from './args.js';

/**
 * How much placing the pod improves the node's balance: 50 + (50 + with − without) / 2,
 * in 50..100 (upstream balancedResourceScorer).
 */
export function balancedResourceScorer(requested: ArrayLike<number>, allocatable: ArrayLike<number>, allocated: ArrayLike<number>): number {
  const withPod = balanceScore(requested, allocatable);
  const withoutPod = balanceScore(allocated, allocatable);
  return MAX_NODE_SCORE / 2 + Math.trunc((MAX_NODE_SCORE / 2 + withPod - withoutPod) / 2);
}

// Resource i's utilization fraction, capped at 1 (the node has the resource).
function fraction(requested: ArrayLike<number>, allocatable: ArrayLike<number>, i: number): number {
  return Math.min((requested[i] ?? 0) / (allocatable[i] as number), 1);
}

/** 100 × (1 − std) of the utilization fractions (each capped at 1) of the resources the node has. */
function balanceScore(requested: ArrayLike<number>, allocatable: ArrayLike<number>): number {
  // Called twice per node scored: the fractions are recomputed for the spread rather than kept in an array.
  let n = 0;
  let total = 0;
  let first = 0;
  let second = 0;
  for (let i = 0; i < requested.length; i++) {
    if ((allocatable[i] ?? 0) === 0) continue;
    const f = fraction(requested, allocatable, i);
    if (n === 0) first = f;
    else if (n === 1) second = f;
    total += f;
    n++;
  }
  let std = 0;
  if (n === 2) {
    std = Math.abs((first - second) / 2);
  } else if (n > 2) {
    const mean = total / n;
    let sum = 0;
    for (let i = 0; i < requested.length; i++) {
      if ((allocatable[i] ?? 0) === 0) continue;
      const d = fraction(requested, allocatable, i) - mean;
      sum += d * d;
    }
    std = Math.sqrt(sum / n);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

class PreScoreState implements StateData {
  constructor(readonly scoring: NodeResourcesScoring) {}
  clone(): this {
    return this;
  }
}

const PRE_SCORE_KEY = new StateKey<PreScoreState>(`PreScore${PluginNames.NodeResourcesBalancedAllocation}`);

class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = PluginNames.NodeResourcesBalancedAllocation;
  private readonly resources: readonly ResourceSpec[];

  constructor(args: NodeResourcesBalancedAllocationArgs) {
    this.resources = args.resources;
  }

  async preScore(state: CycleState, pod: PodInfo): Promise<Status> {
    const scoring = this.scoring(pod);
    // Best-effort pods would all pile onto the same node (kubernetes#129138).
    if (scoring === undefined) return Status.SKIP;
    state.write(PRE_SCORE_KEY, new PreScoreState(scoring));
    return Status.SUCCESS;
  }

  score(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    return (state.read(PRE_SCORE_KEY)?.scoring ?? this.scoring(pod))?.score(nodeInfo) ?? 0;
  }

  /** The pod's scoring; undefined for a best-effort pod (it requests none of the resources). */
  private scoring(pod: PodInfo): NodeResourcesScoring | undefined {
    const requests = podRequestList(pod.pod, this.resources, true);
    return requests.every((r) => r === 0) ? undefined : new NodeResourcesScoring(requests, this.resources, true, balancedResourceScorer);
  }
}

/** The NodeResourcesBalancedAllocation factory. */
export const nodeResourcesBalancedAllocationPlugin = definePlugin<NodeResourcesBalancedAllocationArgs>({
  name: PluginNames.NodeResourcesBalancedAllocation,
  points: ['preScore', 'score'],
  defaultWeight: 1,
  args: nodeResourcesBalancedAllocationArgsSchema,
  create: (args) => new BalancedAllocation(args),
});
