/**
 * NodeResourcesFit: Filter checks that the node's free resources (and pod
 * slots) cover the pod's requests, extended resources such as nvidia.com/gpu
 * included; Score rates nodes with the configured strategy —
 * LeastAllocated, MostAllocated or RequestedToCapacityRatio — over weighted
 * resources (upstream noderesources.Fit).
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/noderesources/fit.go (and
 * least_allocated.go, most_allocated.go, requested_to_capacity_ratio.go).
 */
import { definePlugin, MAX_NODE_SCORE, PluginNames, StateKey, Status, StatusCode } from '@schedmesh/framework';
import type { CycleState, FilterPlugin, NodeInfo, PodInfo, PreFilterPlugin, PreFilterResult, PreScorePlugin, ReadonlyCycleState, ScorePlugin, StateData } from '@schedmesh/framework';
import { fitsResources, insufficientResources, REASON_TOO_MANY_PODS, RESOURCE_PODS } from '@schedmesh/model';
import type { FitOptions } from '@schedmesh/model';
import type { ResourceSpec } from '../helpers/k8s-schemas.js';
import { brokenLinearFunction } from '../helpers/normalize.js';
import { NodeResourcesScoring, podRequestList } from '../helpers/resource-allocation.js';
import type { ResourceScorer } from '../helpers/resource-allocation.js';
import { MAX_CUSTOM_PRIORITY_SCORE, nodeResourcesFitArgsSchema } from './args.js';
import type { NodeResourcesFitArgs } from './args.js';

const MAX_UTILIZATION = 100;

/** ((capacity - requested) * 100) / capacity; 0 when over capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** (requested * 100) / capacity, requested capped at capacity. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return Math.trunc((Math.min(requested, capacity) * MAX_NODE_SCORE) / capacity);
}

// The weighted average of per-resource scores over the resources the node has.
function weightedAverage(resources: readonly ResourceSpec[], perResource: (requested: number, capacity: number) => number): ResourceScorer {
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      const capacity = allocatable[i] ?? 0;
      if (capacity === 0) continue;
      const weight = (resources[i] as ResourceSpec).weight;
      nodeScore += perResource(requested[i] ?? 0, capacity) * weight;
      weightSum += weight;
    }
    return weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
  };
}

/** The scorer of a strategy (upstream leastResourceScorer, mostResourceScorer, requestedToCapacityRatioScorer). */
export function strategyScorer(args: NodeResourcesFitArgs['scoringStrategy']): ResourceScorer {
  const resources = args.resources;
  switch (args.type) {
    case 'MostAllocated':
      return weightedAverage(resources, mostRequestedScore);
    case 'RequestedToCapacityRatio': {
      const scale = MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE;
      const raw = brokenLinearFunction((args.requestedToCapacityRatio?.shape ?? []).map((p) => ({ utilization: p.utilization, score: p.score * scale })));
      const resourceScore = (requested: number, capacity: number): number =>
        capacity === 0 || requested > capacity ? raw(MAX_UTILIZATION) : raw(Math.trunc((requested * MAX_UTILIZATION) / capacity));
      return (requested, allocatable) => {
        let nodeScore = 0;
        let weightSum = 0;
        for (let i = 0; i < requested.length; i++) {
          if (allocatable[i] === 0) continue;
          const weight = (resources[i] as ResourceSpec).weight;
          const s = resourceScore(requested[i] ?? 0, allocatable[i] ?? 0);
          if (s > 0) {
            nodeScore += s * weight;
            weightSum += weight;
          }
        }
        return weightSum === 0 ? 0 : Math.round(nodeScore / weightSum);
      };
    }
    default:
      return weightedAverage(resources, leastRequestedScore);
  }
}

class PreScoreState implements StateData {
  constructor(readonly scoring: NodeResourcesScoring) {}
  clone(): this {
    return this;
  }
}

const PRE_SCORE_KEY = new StateKey<PreScoreState>(`PreScore${PluginNames.NodeResourcesFit}`);

class Fit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = PluginNames.NodeResourcesFit;
  private readonly fitOptions: FitOptions;
  private readonly resources: readonly ResourceSpec[];
  private readonly scorer: ResourceScorer;

  constructor(args: NodeResourcesFitArgs) {
    this.fitOptions = { ignoredResources: new Set(args.ignoredResources), ignoredResourceGroups: new Set(args.ignoredResourceGroups) };
    this.resources = args.scoringStrategy.resources;
    this.scorer = strategyScorer(args.scoringStrategy);
  }

  // The pod's effective request arrives computed (proto Pod.requests); nothing to precompute.
  async preFilter(): Promise<PreFilterResult> {
    return { status: Status.SUCCESS };
  }

  filter(_state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const request = pod.pod.requests;
    const alloc = nodeInfo.allocatable;
    if (request === undefined) {
      return nodeInfo.requested.pods + 1 > alloc.pods ? Status.unschedulable(REASON_TOO_MANY_PODS) : Status.SUCCESS;
    }
    // Most nodes fit: the check that builds nothing first, the list of shortages only for a node that fails.
    if (fitsResources(request, alloc, nodeInfo.requested, this.fitOptions)) return Status.SUCCESS;
    const short = insufficientResources(request, alloc, nodeInfo.requested, this.fitOptions);
    // Preemption cannot help when the request exceeds what the node has at all.
    let code: StatusCode = StatusCode.Unschedulable;
    for (const s of short) if (s.resourceName !== RESOURCE_PODS && s.requested > s.capacity) code = StatusCode.UnschedulableAndUnresolvable;
    return Status.of(code, ...short.map((s) => s.reason));
  }

  async preScore(state: CycleState, pod: PodInfo): Promise<Status> {
    state.write(PRE_SCORE_KEY, new PreScoreState(this.scoring(pod)));
    return Status.SUCCESS;
  }

  score(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    return (state.read(PRE_SCORE_KEY)?.scoring ?? this.scoring(pod)).score(nodeInfo);
  }

  private scoring(pod: PodInfo): NodeResourcesScoring {
    return new NodeResourcesScoring(podRequestList(pod.pod, this.resources, false), this.resources, false, this.scorer);
  }
}

/** The NodeResourcesFit factory. */
export const nodeResourcesFitPlugin = definePlugin<NodeResourcesFitArgs>({
  name: PluginNames.NodeResourcesFit,
  points: ['preFilter', 'filter', 'preScore', 'score'],
  defaultWeight: 1,
  args: nodeResourcesFitArgsSchema,
  create: (args) => new Fit(args),
});
