/**
 * The scheduler's view of the cluster, kept from the whole cluster stream:
 * node objects (the gateway's REST plugins receive them), every pod's latest
 * version and the generation it was seen at, and the cluster events that
 * move unschedulable pods back to the queue (node added or changed, a pod
 * bound or deleted, a policy changed, a PodGroup created or updated), and
 * scheduler-plugins' PodGroup objects, which the attempt resolves gangs
 * from. It decides nothing; it reports.
 */
import { PodGroupIndex, podHoldsNode } from '@schedmesh/model';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Node, Pod } from '@schedmesh/proto/v1/types';
import { nodeUpdateEvents, QueueingEventKinds } from './queue/events.js';
import type { QueueingEventKind } from './queue/events.js';

/** What one stream event means for the queue. */
export interface ViewChange {
  /** Event kinds that may make parked pods fit. */
  readonly events: readonly QueueingEventKind[];
  /** A pod that is no longer pending (bound by anyone, deleted, finished): it leaves the queue. */
  readonly settledPod?: Pod;
}

const none: ViewChange = { events: [] };

/** The latest cluster state the scheduler needs. */
export class ClusterView {
  private readonly nodes = new Map<string, Node>();
  private readonly podsByUid = new Map<string, { pod: Pod; generation: number }>();
  /** The PodGroup objects; `podGroups.get` is the attempt's lookup. */
  readonly podGroups = new PodGroupIndex();

  /** A node by name. */
  node(name: string): Node | undefined {
    return this.nodes.get(name);
  }

  /** A pod's latest version and the generation of its event. */
  pod(uid: string): { pod: Pod; generation: number } | undefined {
    return this.podsByUid.get(uid);
  }

  /** Every pod's latest version. */
  pods(): IterableIterator<{ pod: Pod; generation: number }> {
    return this.podsByUid.values();
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Forgets everything (the stream was recreated). */
  reset(): void {
    this.nodes.clear();
    this.podsByUid.clear();
    this.podGroups.clear();
  }

  /** Applies one event in stream order. */
  apply(event: ClusterEvent): ViewChange {
    const deleted = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    const o = event.object;
    switch (o?.$case) {
      case 'node': {
        const old = this.nodes.get(o.value.name);
        if (deleted) {
          this.nodes.delete(o.value.name);
          return none;
        }
        this.nodes.set(o.value.name, o.value);
        return { events: old ? nodeUpdateEvents(old, o.value) : [QueueingEventKinds.NodeAdd] };
      }
      case 'pod':
        return this.applyPod(o.value, deleted, event.generation);
      case 'admissionPolicy':
        return { events: [QueueingEventKinds.AdmissionPolicyChange] };
      case 'podGroup':
        this.podGroups.apply(o.value, deleted);
        // A group that appeared or changed may complete a gang; one deleted helps no pod.
        return deleted ? none : { events: [QueueingEventKinds.PodGroupChange] };
      default:
        return none;
    }
  }

  private applyPod(pod: Pod, deleted: boolean, generation: number): ViewChange {
    const old = this.podsByUid.get(pod.uid)?.pod;
    if (deleted) {
      this.podsByUid.delete(pod.uid);
      const freed = old !== undefined && podHoldsNode(old);
      return { events: freed ? [QueueingEventKinds.AssignedPodDelete] : [], settledPod: old ?? pod };
    }
    this.podsByUid.set(pod.uid, { pod, generation });
    const holds = podHoldsNode(pod);
    const held = old !== undefined && podHoldsNode(old);
    const events: QueueingEventKind[] = [];
    if (holds && !held) events.push(QueueingEventKinds.AssignedPodAdd);
    else if (holds && held) events.push(QueueingEventKinds.AssignedPodUpdate);
    else if (!holds && held) events.push(QueueingEventKinds.AssignedPodDelete);
    // Bound (by anyone) or finished: no longer pending.
    const settled = pod.nodeName !== '' || pod.terminating;
    return settled ? { events, settledPod: pod } : { events };
  }
}
