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
 * the pod (upstream's scorer(requested, allocated, allocatable)).
 */
export type ResourceScorer = (requested: readonly number[], allocatable: readonly number[], allocated: readonly number[]) => number;

/**
 * The node's allocatable amount of each resource and what would be requested
 * with the pod on it, then the scorer's verdict. A scalar resource the pod
 * does not request, or one the node lacks, counts as (0, 0): skipped.
 */
export function scoreNodeResources(
  nodeInfo: NodeInfo,
  podRequests: readonly number[],
  resources: readonly ResourceSpec[],
  useRequested: boolean,
  scorer: ResourceScorer,
): number {
  const requested = new Array<number>(resources.length).fill(0);
  const allocated = new Array<number>(resources.length).fill(0);
  const allocatable = new Array<number>(resources.length).fill(0);
  const base = useRequested ? nodeInfo.requested : nodeInfo.nonZeroRequested;
  const alloc = nodeInfo.allocatable;
  for (let i = 0; i < resources.length; i++) {
    const name = (resources[i] as ResourceSpec).name;
    const podRequest = podRequests[i] ?? 0;
    if (podRequest === 0 && isScalarResourceName(name)) continue;
    switch (name) {
      case RESOURCE_CPU:
        allocatable[i] = alloc.milliCpu;
        allocated[i] = base.milliCpu;
        break;
      case RESOURCE_MEMORY:
        allocatable[i] = alloc.memory;
        allocated[i] = base.memory;
        break;
      case RESOURCE_EPHEMERAL_STORAGE:
        allocatable[i] = alloc.ephemeralStorage;
        allocated[i] = nodeInfo.requested.ephemeralStorage;
        break;
      default: {
        const a = alloc.scalar[name];
        if (typeof a === 'number') {
          allocatable[i] = a;
          allocated[i] = nodeInfo.requested.scalar[name] ?? 0;
        }
      }
    }
    // Only a resource the node has is scored (upstream skips allocatable 0 entirely).
    if (allocatable[i] !== 0) requested[i] = (allocated[i] ?? 0) + podRequest;
  }
  return scorer(requested, allocatable, allocated);
}
