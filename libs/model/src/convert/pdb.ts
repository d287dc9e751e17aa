/**
 * The PodDisruptionBudget (policy/v1) at the edge: what preemption reads of
 * it — its selector, status.disruptionsAllowed and the names of
 * status.disruptedPods.
 */
import type { PodDisruptionBudget } from '@schedmesh/proto/v1/types';
import { optInt, optObject, sub } from '../fields.js';
import { labelSelectorOf } from './affinity.js';
import { convertAtEdge } from './edge.js';
import { namespacedIdentity, objectHead } from './metadata.js';

/**
 * Converts a PodDisruptionBudget (a client-node V1PodDisruptionBudget or the
 * API server's JSON). A budget the disruption controller has not processed
 * yet (no status) allows no disruption, as the API server's eviction check
 * treats it.
 *
 * @throws EdgeError for a malformed budget (no name, a selector that is no
 * valid label selector, a disruption count that is no non-negative int32).
 */
export function convertPodDisruptionBudget(obj: unknown): PodDisruptionBudget {
  return convertAtEdge('PodDisruptionBudget', 'namespaced', obj, pdbFrom);
}

function pdbFrom(obj: unknown): PodDisruptionBudget {
  const head = objectHead(obj);
  const spec = optObject(head.root.spec, 'spec');
  const status = optObject(head.root.status, 'status');
  const selector = sub('spec.selector', spec?.selector, labelSelectorOf);
  return {
    ...namespacedIdentity(head),
    ...(selector ? { selector } : {}),
    disruptionsAllowed: optInt(status?.disruptionsAllowed, 'status.disruptionsAllowed', 0, 2 ** 31 - 1) ?? 0,
    disruptedPods: Object.keys(optObject(status?.disruptedPods, 'status.disruptedPods') ?? {}),
  };
}
