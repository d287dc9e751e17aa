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
import { podRequestList, scoreNodeResources } from '../helpers/resource-allocation.js';
import { nodeResourcesBalancedAllocationArgsSchema } from './args.js';
import type { NodeResourcesBalancedAllocationArgs } from './args.js';

/**
 * How much placing the pod improves the node's balance: 50 + (50 + with − without) / 2,
 * in 50..100 (upstream balancedResourceScorer).
 */
export function balancedResourceScorer(requested: readonly number[], allocatable: readonly number[], allocated: readonly number[]): number {
  const withPod = balanceScore(requested, allocatable);
  const withoutPod = balanceScore(allocated, allocatable);
  return MAX_NODE_SCORE / 2 + Math.trunc((MAX_NODE_SCORE / 2 + withPod - withoutPod) / 2);
}

/** 100 × (1 − std) of the utilization fractions (each capped at 1) of the resources the node has. */
function balanceScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const a = allocatable[i] ?? 0;
    if (a === 0) continue;
    const f = Math.min((requested[i] ?? 0) / a, 1);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs(((fractions[0] ?? 0) - (fractions[1] ?? 0)) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

class PreScoreState implements StateData {
  constructor(readonly podRequests: readonly number[]) {}
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
    const requests = podRequestList(pod.pod, this.resources, true);
    // Best-effort pods would all pile onto the same node (kubernetes#129138).
    if (requests.every((r) => r === 0)) return Status.SKIP;
    state.write(PRE_SCORE_KEY, new PreScoreState(requests));
    return Status.SUCCESS;
  }

  score(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    let requests = state.read(PRE_SCORE_KEY)?.podRequests;
    if (requests === undefined) {
      requests = podRequestList(pod.pod, this.resources, true);
      if (requests.every((r) => r === 0)) return 0;
    }
    return scoreNodeResources(nodeInfo, requests, this.resources, true, balancedResourceScorer);
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
