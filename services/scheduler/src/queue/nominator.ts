/**
 * The nominated pods: pods that preemption nominated to a node, where they
 * wait for their victims to go (upstream backend/queue/nominator.go). A later
 * attempt for another pod counts them on their node, so that the room
 * preemption made is not taken by a pod of lower priority.
 *
 * The scheduler's own nomination is kept here before the API server sees it:
 * an update of the pod that does not carry a nomination yet keeps it.
 */
import type { Pod } from '@schedmesh/proto/v1/types';

/** Who is nominated where. */
export class Nominator {
  /** uid → the pod (latest version seen) and its node. */
  private readonly byUid = new Map<string, { pod: Pod; nodeName: string }>();
  /** node → the uids nominated to it, in nomination order. */
  private readonly byNode = new Map<string, Set<string>>();

  /**
   * Records the pod's nomination: nodeName when given, else the pod's own
   * nominatedNodeName. An empty node clears the nomination.
   */
  add(pod: Pod, nodeName: string = pod.nominatedNodeName): void {
    this.delete(pod.uid);
    if (nodeName === '') return;
    this.byUid.set(pod.uid, { pod, nodeName });
    let uids = this.byNode.get(nodeName);
    if (uids === undefined) this.byNode.set(nodeName, (uids = new Set()));
    uids.add(pod.uid);
  }

  /**
   * A new version of the pod. If neither version carries a nomination, the
   * one the scheduler made stays (the API server has not caught up yet);
   * otherwise the new version's nomination holds.
   */
  update(oldPod: Pod | undefined, newPod: Pod): void {
    const kept = this.byUid.get(newPod.uid)?.nodeName;
    const keep = (oldPod?.nominatedNodeName ?? '') === '' && newPod.nominatedNodeName === '' && kept !== undefined;
    this.add(newPod, keep ? kept : newPod.nominatedNodeName);
  }

  /** Forgets the pod's nomination. */
  delete(uid: string): void {
    const current = this.byUid.get(uid);
    if (current === undefined) return;
    this.byUid.delete(uid);
    const uids = this.byNode.get(current.nodeName);
    uids?.delete(uid);
    if (uids?.size === 0) this.byNode.delete(current.nodeName);
  }

  /** The node the pod is nominated to. */
  nodeOf(uid: string): string | undefined {
    return this.byUid.get(uid)?.nodeName;
  }

  /** The pods nominated to the node, in nomination order. */
  podsFor(nodeName: string): Pod[] {
    return [...(this.byNode.get(nodeName) ?? [])].map((uid) => this.byUid.get(uid)!.pod);
  }
}
