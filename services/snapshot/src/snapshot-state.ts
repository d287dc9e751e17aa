import type { NodeInfo } from '@schedmesh/framework';
import type { NodeInfo as NodeInfoMessage } from '@schedmesh/proto/v1/snapshot';
import { objectKey } from '@schedmesh/model';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { AdmissionPolicy, ClusterEvent, ConfigMap, Node, Pod } from '@schedmesh/proto/v1/types';
import { ClusterSnapshot, toNodeInfoMessage } from '@schedmesh/scheduling';

/** What one applied event changed, for the pool-health reconciler. */
export interface AppliedChange {
  /** True if a Node object itself (labels, conditions, taints) changed, not only its pods. */
  readonly nodeObjectChanged: boolean;
}

const noChange: AppliedChange = { nodeObjectChanged: false };
const nodeChanged: AppliedChange = { nodeObjectChanged: true };

/**
 * What the snapshot service holds: the latest state of every object on the
 * cluster stream. Nodes, pods, namespaces, disruption budgets and workload selectors live in the shared
 * ClusterSnapshot (@schedmesh/scheduling), the same aggregation every replica
 * schedules on, so GetNode/ListNodes serve exactly the NodeInfo a replica
 * computes; admission policies and config maps, which no cycle reads, in maps
 * of their own. NodeInfo messages are built on the first read after a change.
 *
 * Messages handed in and out are never mutated after they are stored: an
 * update replaces the object, so readers can hold references safely.
 */
export class SnapshotState {
  private cluster = new ClusterSnapshot();
  private readonly policyMap = new Map<string, AdmissionPolicy>();
  private readonly configMapMap = new Map<string, ConfigMap>();
  /** The last message built per node, valid while the NodeInfo's revision is unchanged. */
  private readonly messages = new Map<string, { readonly revision: number; readonly message: NodeInfoMessage }>();

  /** The generation (stream sequence) of the last applied event. */
  get generation(): number {
    return this.cluster.generation;
  }

  /** How many nodes (with a Node object) the snapshot holds. */
  get nodeSize(): number {
    return this.cluster.nodeCount;
  }

  /** How many pods the snapshot holds. */
  get podSize(): number {
    return this.cluster.podCount;
  }

  /**
   * Applies one event, in stream order. The generation becomes the event's
   * (events of a full state all carry the generation it was taken at).
   */
  apply(event: ClusterEvent): AppliedChange {
    const deleted = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    const o = event.object;
    // A delete of a node never seen changes nothing the pools report.
    const change = o?.$case === 'node' && (!deleted || this.cluster.nodeInfo(o.value.name) !== undefined) ? nodeChanged : noChange;
    this.cluster.apply(event);
    switch (o?.$case) {
      case 'node':
        if (deleted) this.messages.delete(o.value.name);
        break;
      case 'admissionPolicy': {
        const key = objectKey(o.value.namespace, o.value.name);
        if (deleted) this.policyMap.delete(key);
        else this.policyMap.set(key, o.value);
        break;
      }
      case 'configMap': {
        const key = objectKey(o.value.namespace, o.value.name);
        if (deleted) this.configMapMap.delete(key);
        else this.configMapMap.set(key, o.value);
        break;
      }
      default:
        break;
    }
    return change;
  }

  /** Drops everything (a resync from an empty state follows). */
  clear(): void {
    this.cluster = new ClusterSnapshot();
    this.policyMap.clear();
    this.configMapMap.clear();
    this.messages.clear();
  }

  /** A node's NodeInfo message, or undefined if the node is unknown. */
  nodeInfoMessage(name: string): NodeInfoMessage | undefined {
    const info = this.cluster.nodeInfo(name);
    return info === undefined ? undefined : this.messageOf(info);
  }

  /** Every known node's NodeInfo message, ordered by name. */
  nodeInfoMessages(): NodeInfoMessage[] {
    return [...this.cluster.nodeInfos()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((info) => this.messageOf(info));
  }

  /** Every known Node object (unordered). */
  nodes(): IterableIterator<Node> {
    return this.cluster.nodes();
  }

  /** A pod by uid. */
  podByUid(uid: string): Pod | undefined {
    return this.cluster.pod(uid);
  }

  /** A pod by namespace and name. */
  podByName(namespace: string, name: string): Pod | undefined {
    return this.cluster.podByName(namespace, name);
  }

  /**
   * The whole state as UPSERT events at the current generation, in an order
   * that a replica can apply directly: namespaces, nodes, pods, disruption
   * budgets, Service and controller selectors, policies, config maps.
   */
  *fullState(): IterableIterator<ClusterEvent> {
    const upsert = ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
    const generation = this.generation;
    for (const value of this.cluster.namespaces()) yield { generation, type: upsert, object: { $case: 'namespace', value } };
    for (const value of this.cluster.nodes()) yield { generation, type: upsert, object: { $case: 'node', value } };
    for (const value of this.cluster.pods()) yield { generation, type: upsert, object: { $case: 'pod', value } };
    for (const value of this.cluster.podDisruptionBudgets()) yield { generation, type: upsert, object: { $case: 'podDisruptionBudget', value } };
    for (const object of this.cluster.workloads()) yield { generation, type: upsert, object };
    for (const value of this.policyMap.values()) yield { generation, type: upsert, object: { $case: 'admissionPolicy', value } };
    for (const value of this.configMapMap.values()) yield { generation, type: upsert, object: { $case: 'configMap', value } };
  }

  private messageOf(info: NodeInfo): NodeInfoMessage {
    const cached = this.messages.get(info.name);
    if (cached !== undefined && cached.revision === info.revision) return cached.message;
    const message = toNodeInfoMessage(info);
    this.messages.set(info.name, { revision: info.revision, message });
    return message;
  }
}
