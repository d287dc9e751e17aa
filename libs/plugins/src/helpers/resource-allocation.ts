/**
 * The per-resource scoring shared by NodeResourcesFit and
 * NodeResourcesBalancedAllocation (upstream noderesources.resourceAllocationScorer).
 */
import type { NodeInfo } from '@schedmesh/framework';
import { getResource, RESOURCE_CPU, RESOURCE_EPHEMERAL_STORAGE, RESOURCE_MEMORY, RESOURCE_PODS } from '@schedmesh/model';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { ResourceSpec } from './k8s-schemas.js';

/** cpu:1, memory:1 (upstream defaultResourceSpec). */
export const DEFAULT_RESOURCES: readonly ResourceSpec[] = Object.freeze([
  { name: RESOURCE_CPU, weight: 1 },
  { name: RESOURCE_MEMORY, weight: 1 },
]);

/** Every resource but cpu, memory, ephemeral-storage and pods is a scalar (extended, hugepages, attachable volumes). */
export function isScalarResourceName(name: string): boolean {
  return name !== RESOURCE_CPU && name !== RESOURCE_MEMORY && name !== RESOURCE_EPHEMERAL_STORAGE && name !== RESOURCE_PODS;
}

/**
 * A pod's request of each resource. useRequested = false takes cpu and
 * memory from the non-zero requests (100m / 200Mi for containers that ask
 * for none), as upstream's scoring does.
 */
export function podRequestList(pod: Pod, resources: readonly ResourceSpec[], useRequested: boolean): number[] {
  const requests = pod.requests;
  const nonZero = pod.nonZeroRequests;
  return resources.map((r) => {
    if (!useRequested && (r.name === RESOURCE_CPU || r.name === RESOURCE_MEMORY)) return nonZero === undefined ? 0 : getResource(nonZero, r.name);
    return requests === undefined ? 0 : getResource(requests, r.name);
  });
}

/**
 * Scores requested (with the pod) vs allocatable amounts, resource by
 * resource, into 0..100; `allocated` is what the node's pods request without
 * the pod (upstream's scorer(requested, allocated, allocatable)). A scorer
 * reads the arrays during the call and keeps none of them.
 */
export type ResourceScorer = (requested: ArrayLike<number>, allocatable: ArrayLike<number>, allocated: ArrayLike<number>) => number;

// Where a resource's amounts live in a NodeInfo, decided once per pod rather than per node.
const Source = {
  /** A scalar resource the pod does not request: (0, 0), skipped. */
  Skipped: 0,
  Cpu: 1,
  Memory: 2,
  EphemeralStorage: 3,
  Scalar: 4,
} as const;
type Source = (typeof Source)[keyof typeof Source];

function sourceOf(name: string, podRequest: number): Source {
  switch (name) {
    case RESOURCE_CPU:
      return Source.Cpu;
    case RESOURCE_MEMORY:
      return Source.Memory;
    case RESOURCE_EPHEMERAL_STORAGE:
      return Source.EphemeralStorage;
    default:
      return podRequest === 0 && isScalarResourceName(name) ? Source.Skipped : Source.Scalar;
  }
}

/**
 * One pod's resource scoring over many nodes (upstream
 * resourceAllocationScorer.score): per node, its allocatable amount of each
 * resource and what would be requested with the pod on it, then the
 * scorer's verdict. A scalar resource the pod does not request, or one the
 * node lacks, counts as (0, 0): skipped. Built once per cycle (PreScore);
 * its three buffers are reused node after node, so scoring allocates nothing.
 */
export class NodeResourcesScoring {
  private readonly names: readonly string[];
  private readonly sources: readonly Source[];
  private readonly requested: Float64Array;
  private readonly allocatable: Float64Array;
  private readonly allocated: Float64Array;

  constructor(
    private readonly podRequests: readonly number[],
    resources: readonly ResourceSpec[],
    private readonly useRequested: boolean,
    private readonly scorer: ResourceScorer,
  ) {
    this.names = resources.map((r) => r.name);
    this.sources = resources.map((r, i) => sourceOf(r.name, podRequests[i] ?? 0));
    this.requested = new Float64Array(resources.length);
    this.allocatable = new Float64Array(resources.length);
    this.allocated = new Float64Array(resources.length);
  }

  score(nodeInfo: NodeInfo): number {
    const { requested, allocatable, allocated } = this;
    const base = this.useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
    const alloc = nodeInfo.allocatable;
    for (let i = 0; i < this.sources.length; i++) {
      let a = 0;
      let used = 0;
      switch (this.sources[i]) {
        case Source.Cpu:
          a = alloc.milliCpu;
          used = base.milliCpu;
          break;
        case Source.Memory:
          a = alloc.memory;
          used = base.memory;
          break;
        case Source.EphemeralStorage:
          a = alloc.ephemeralStorage;
          used = nodeInfo.requested.ephemeralStorage;
          break;
        case Source.Scalar: {
          const name = this.names[i] as string;
          const s = alloc.scalar[name];
          if (typeof s === 'number') {
            a = s;
            used = nodeInfo.requested.scalar[name] ?? 0;
          }
          break;
        }
        default:
      }
      allocatable[i] = a;
      allocated[i] = used;
      // Only a resource the node has is scored (upstream skips allocatable 0 entirely).
      requested[i] = a !== 0 ? used + (this.podRequests[i] ?? 0) : 0;
    }
    return this.scorer(requested, allocatable, allocated);
  }
}
