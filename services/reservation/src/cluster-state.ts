/**
 * What the service remembers of the cluster stream: every node's allocatable
 * and every pod that holds capacity on a node. It is enough to rebuild the
 * bound-capacity side of the ledger in Redis from scratch (after Redis lost
 * its data) and to turn each stream event into ledger changes. Pure: no I/O.
 */
import { groupKey, isPodTerminal, LABEL_POD_GROUP, PodGroupIndex, podHoldsNode, podKey } from '@schedmesh/model';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Pod, PodGroupObject } from '@schedmesh/proto/v1/types';
import type { BoundPod } from './ledger.js';
import { nodeCapacity, podDemand } from './quantities.js';
import type { Quantities } from './quantities.js';

/** A change the ledger in Redis must follow. */
export type LedgerChange =
  /** The node appeared or its allocatable changed: rebuild it from memory. */
  | { readonly kind: 'node'; readonly node: string }
  /** The node was deleted. */
  | { readonly kind: 'node-deleted'; readonly node: string }
  /** The pod holds capacity on the node (bound, not terminal). */
  | { readonly kind: 'pod-bound'; readonly node: string; readonly pod: BoundPod }
  /** The pod stopped holding capacity (deleted or terminal); node undefined if it was never bound. */
  | { readonly kind: 'pod-released'; readonly node: string | undefined; readonly pod: BoundPod };

interface PodEntry {
  readonly pod: BoundPod;
  /** The node it is bound to, while it holds capacity; "" otherwise. */
  readonly node: string;
  /** The gang ("namespace/name") or "". */
  readonly group: string;
  /** What the pod's own pod-group annotations say of its gang; undefined outside a gang. */
  readonly annotated: GangAnnotations | undefined;
}

/** A gang member's own minMember and schedule timeout, from its annotations. */
export interface GangAnnotations {
  readonly minMember: number;
  readonly scheduleTimeoutSeconds: number;
}

function sameDemand(a: Quantities, b: Quantities): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** The cluster as the stream describes it, reduced to what the ledger needs. */
export class ClusterState {
  /** The generation (stream sequence) of the last event applied. */
  generation = 0;
  private readonly nodes = new Map<string, Quantities>();
  private readonly deletedNodes = new Set<string>();
  /** By "namespace/name", the key of the stream subject. */
  private readonly pods = new Map<string, PodEntry>();
  private readonly boundByNode = new Map<string, Map<string, BoundPod>>();
  private readonly boundNodeByUid = new Map<string, string>();
  private readonly boundByGroup = new Map<string, Set<string>>();
  private readonly podGroups = new PodGroupIndex();

  /** Forgets everything (the stream was recreated and is replayed). */
  clear(): void {
    this.generation = 0;
    this.nodes.clear();
    this.deletedNodes.clear();
    this.pods.clear();
    this.boundByNode.clear();
    this.boundNodeByUid.clear();
    this.boundByGroup.clear();
    this.podGroups.clear();
  }

  /** Applies one event and returns the ledger changes it implies, in order. */
  apply(event: ClusterEvent): LedgerChange[] {
    if (event.generation > this.generation) this.generation = event.generation;
    const object = event.object;
    const deleted = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    if (object?.$case === 'node') return this.applyNode(object.value.name, deleted ? undefined : nodeCapacity(object.value.allocatable));
    if (object?.$case === 'pod') return deleted ? this.deletePod(object.value) : this.upsertPod(object.value);
    if (object?.$case === 'podGroup') this.podGroups.apply(object.value, deleted);
    return [];
  }

  private applyNode(name: string, capacity: Quantities | undefined): LedgerChange[] {
    if (name === '') return [];
    if (capacity === undefined) {
      if (!this.nodes.delete(name) && this.deletedNodes.has(name)) return [];
      this.deletedNodes.add(name);
      return [{ kind: 'node-deleted', node: name }];
    }
    const before = this.nodes.get(name);
    this.nodes.set(name, capacity);
    this.deletedNodes.delete(name);
    if (before !== undefined && sameDemand(before, capacity)) return [];
    return [{ kind: 'node', node: name }];
  }

  private upsertPod(p: Pod): LedgerChange[] {
    const key = podKey(p);
    const changes: LedgerChange[] = [];
    const prev = this.pods.get(key);
    if (prev !== undefined && prev.pod.uid !== p.uid) changes.push(...this.forget(key, prev));
    const pod: BoundPod = { uid: p.uid, namespace: p.namespace, name: p.name, demand: podDemand(p.requests) };
    const group = groupKey(p.namespace, p.podGroup?.name);
    const annotated = p.podGroup ? { minMember: p.podGroup.minMember, scheduleTimeoutSeconds: p.podGroup.scheduleTimeoutSeconds } : undefined;
    const current = this.pods.get(key);
    if (podHoldsNode(p)) {
      if (current !== undefined && current.node === p.nodeName && sameDemand(current.pod.demand, pod.demand)) {
        this.pods.set(key, { pod, node: p.nodeName, group, annotated });
        return changes;
      }
      if (current !== undefined && current.node !== '' && current.node !== p.nodeName) this.unbind(current);
      this.pods.set(key, { pod, node: p.nodeName, group, annotated });
      this.bind(pod, p.nodeName, group);
      changes.push({ kind: 'pod-bound', node: p.nodeName, pod });
      return changes;
    }
    if (current !== undefined && current.node !== '') {
      this.unbind(current);
      changes.push({ kind: 'pod-released', node: current.node, pod: current.pod });
    } else if (isPodTerminal(p)) {
      // A pod that ended before it was bound gives back any lease it holds.
      changes.push({ kind: 'pod-released', node: undefined, pod });
    }
    this.pods.set(key, { pod, node: '', group, annotated });
    return changes;
  }

  private deletePod(p: Pod): LedgerChange[] {
    const key = podKey(p);
    const prev = this.pods.get(key);
    if (prev !== undefined) return this.forget(key, prev);
    // A delete of a pod never seen (the event may carry only its key): release by uid if it has one.
    if (p.uid === '') return [];
    return [{ kind: 'pod-released', node: undefined, pod: { uid: p.uid, namespace: p.namespace, name: p.name, demand: podDemand(p.requests) } }];
  }

  private forget(key: string, prev: PodEntry): LedgerChange[] {
    this.pods.delete(key);
    if (prev.node !== '') this.unbind(prev);
    return [{ kind: 'pod-released', node: prev.node === '' ? undefined : prev.node, pod: prev.pod }];
  }

  private bind(pod: BoundPod, node: string, group: string): void {
    let onNode = this.boundByNode.get(node);
    if (onNode === undefined) this.boundByNode.set(node, (onNode = new Map<string, BoundPod>()));
    onNode.set(pod.uid, pod);
    this.boundNodeByUid.set(pod.uid, node);
    if (group !== '') {
      let members = this.boundByGroup.get(group);
      if (members === undefined) this.boundByGroup.set(group, (members = new Set<string>()));
      members.add(pod.uid);
    }
  }

  private unbind(entry: PodEntry): void {
    const onNode = this.boundByNode.get(entry.node);
    onNode?.delete(entry.pod.uid);
    if (onNode?.size === 0) this.boundByNode.delete(entry.node);
    if (this.boundNodeByUid.get(entry.pod.uid) === entry.node) this.boundNodeByUid.delete(entry.pod.uid);
    if (entry.group !== '') {
      const members = this.boundByGroup.get(entry.group);
      members?.delete(entry.pod.uid);
      if (members?.size === 0) this.boundByGroup.delete(entry.group);
    }
  }

  /** Whether the stream says the node exists. */
  hasNode(name: string): boolean {
    return this.nodes.has(name);
  }

  /** Nodes that exist. */
  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  /** Nodes the stream says were deleted (and not re-created). */
  deletedNodeNames(): string[] {
    return [...this.deletedNodes];
  }

  /** How many nodes exist. */
  get nodeCount(): number {
    return this.nodes.size;
  }

  /** A node's allocatable as ledger quantities. */
  capacity(name: string): Quantities | undefined {
    return this.nodes.get(name);
  }

  /** Pods holding capacity on the node. */
  boundPods(node: string): BoundPod[] {
    return [...(this.boundByNode.get(node)?.values() ?? [])];
  }

  /** The node a pod is bound to (and holds capacity on), if any. */
  boundNodeOf(uid: string): string | undefined {
    return this.boundNodeByUid.get(uid);
  }

  /**
   * Why the stream does not show pod `namespace/name` with this uid as a
   * member of `group` ("namespace/name" of the gang); undefined when it does.
   * Gang membership comes from real pods, never from a Reserve's word alone.
   */
  gangMemberProblem(uid: string, namespace: string, name: string, group: string): string | undefined {
    const key = podKey({ namespace, name });
    const entry = this.pods.get(key);
    if (entry === undefined) return `the cluster stream knows no pod ${key}`;
    if (entry.pod.uid !== uid) return `pod ${key} on the cluster stream has uid ${entry.pod.uid}, not ${uid}`;
    if (entry.group === '') return `pod ${key} carries no ${LABEL_POD_GROUP} label`;
    if (entry.group !== group) return `pod ${key} belongs to gang ${entry.group}`;
    return undefined;
  }

  /** What pod `namespace/name` with this uid says of its gang on the stream; undefined if the stream does not show it in one. */
  gangAnnotations(uid: string, namespace: string, name: string): GangAnnotations | undefined {
    const entry = this.pods.get(podKey({ namespace, name }));
    return entry?.pod.uid === uid ? entry.annotated : undefined;
  }

  /** The PodGroup object `namespace/name`, if the stream holds one. */
  podGroup(namespace: string, name: string): PodGroupObject | undefined {
    return this.podGroups.get(namespace, name);
  }

  /** Uids of a gang's pods bound to nodes. */
  boundGroupMembers(group: string): ReadonlySet<string> {
    return this.boundByGroup.get(group) ?? new Set();
  }
}
