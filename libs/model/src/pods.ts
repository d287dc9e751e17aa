/**
 * The lifecycle rules every holder of cluster state shares: when a pod is
 * over, and when it holds capacity on a node. The snapshot service, every
 * ClusterSnapshot replica and the reservation ledger must agree on these, so
 * they are written once, here.
 */
import { PodPhase } from '@schedmesh/proto/v1/types';
import type { Pod } from '@schedmesh/proto/v1/types';

/** Whether the pod has ended (Succeeded or Failed): it no longer uses any node. */
export function isPodTerminal(pod: Pick<Pod, 'phase'>): boolean {
  return pod.phase === PodPhase.POD_PHASE_SUCCEEDED || pod.phase === PodPhase.POD_PHASE_FAILED;
}

/**
 * Whether the pod holds its node's capacity: it is bound (nodeName set) and
 * not terminal. A terminating pod (deletionTimestamp set) still holds it until
 * it is deleted or reaches a terminal phase, as upstream's cache counts it.
 */
export function podHoldsNode(pod: Pick<Pod, 'nodeName' | 'phase'>): boolean {
  return pod.nodeName !== '' && !isPodTerminal(pod);
}
