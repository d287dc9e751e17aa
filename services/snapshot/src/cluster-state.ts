import { addInto, objectKey, podKey, subtractInto, zeroResources } from '@schedmesh/model';
import { NodeInfo } from '@schedmesh/proto/v1/snapshot';
import { ClusterEventType, PodPhase } from '@schedmesh/proto/v1/types';
import type { AdmissionPolicy, ConfigMap, HostPort, Namespace, Node, Pod, Resources , ClusterEvent} from '@schedmesh/proto/v1/types';

/** What one applied event changed, for the watchers and the pool-health reconciler. */
export interface AppliedChange {
  /** Nodes whose NodeInfo changed. */
  readonly nodes: readonly string[];
  /** True if a Node object itself (labels, conditions, taints) changed, not only its pods. */
  readonly nodeObjectChanged: boolean;
}

/** The aggregate of one node: the Node object and what is scheduled onto it. */
interface NodeEntry {
  /** Undefined while only pods name the node (a pod event arrived before its node's). */
  node: Node | undefined;
  /** Assigned pods by uid. */
  readonly pods: Map<string, Pod>;
  readonly requested: Resources;
  readonly nonZeroRequested: Resources;
  /** Host ports in use, with how many pods use each. */
  readonly ports: Map<string, { port: HostPort; count: number }>;
  generation: number;
  /** The NodeInfo message, built on first read after a change. */
  cached: NodeInfo | undefined;
}

/**
 * The cluster snapshot: the latest state of every object on the cluster
 * stream, with NodeInfo aggregated incrementally as events are applied (no
 * per-event recomputation over the cluster).
 *
 * Messages handed in and out are never mutated after they are stored: an
 * update replaces the object, so readers can hold references safely.
 */
export class ClusterState {
  private gen = 0;
  private readonly nodeEntries = new Map<string, NodeEntry>();
  private readonly podsByUid = new Map<string, Pod>();
  private readonly podUidByKey = new Map<string, string>();
  private readonly namespaceMap = new Map<string, Namespace>();
  private readonly policyMap = new Map<string, AdmissionPolicy>();
  private readonly configMapMap = new Map<string, ConfigMap>();
  private nodeCount = 0;

  /** The generation (stream sequence) of the last applied event. */
  get generation(): number {
    return this.gen;
  }

  /** How many nodes (with a Node object) the snapshot holds. */
  get nodeSize(): number {
    return this.nodeCount;
  }

  /** How many pods the snapshot holds. */
  get podSize(): number {
    return this.podsByUid.size;
  }

  /**
   * Applies one event, in stream order. The generation becomes the event's
   * (events of a full state all carry the generation it was taken at).
   */
  apply(event: ClusterEvent): AppliedChange {
    if (event.generation > this.gen) this.gen = event.generation;
    const deleted = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    const o = event.object;
    switch (o?.$case) {
      case 'node':
        return deleted ? this.deleteNode(o.value.name) : this.upsertNode(o.value);
      case 'pod':
        return deleted ? this.deletePod(o.value) : this.upsertPod(o.value);
      case 'namespace':
        if (deleted) this.namespaceMap.delete(o.value.name);
        else this.namespaceMap.set(o.value.name, o.value);
        return noChange;
      case 'admissionPolicy': {
        const key = objectKey(o.value.namespace, o.value.name);
        if (deleted) this.policyMap.delete(key);
        else this.policyMap.set(key, o.value);
        return noChange;
      }
      case 'configMap': {
        const key = objectKey(o.value.namespace, o.value.name);
        if (deleted) this.configMapMap.delete(key);
        else this.configMapMap.set(key, o.value);
        return noChange;
      }
      default:
        return noChange;
    }
  }

  /** Drops everything (a resync from an empty state follows). */
  clear(): void {
    this.gen = 0;
    this.nodeEntries.clear();
    this.podsByUid.clear();
    this.podUidByKey.clear();
    this.namespaceMap.clear();
    this.policyMap.clear();
    this.configMapMap.clear();
    this.nodeCount = 0;
  }

  /** A node's NodeInfo, or undefined if the node is unknown. */
  nodeInfo(name: string): NodeInfo | undefined {
    const entry = this.nodeEntries.get(name);
    return entry?.node ? this.infoOf(entry) : undefined;
  }

  /** Every known node's NodeInfo, ordered by name. */
  nodeInfos(): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const entry of this.nodeEntries.values()) if (entry.node) out.push(this.infoOf(entry));
    return out.sort((a, b) => (a.node!.name < b.node!.name ? -1 : a.node!.name > b.node!.name ? 1 : 0));
  }

  /** Every known Node object (unordered). */
  *nodes(): IterableIterator<Node> {
    for (const entry of this.nodeEntries.values()) if (entry.node) yield entry.node;
  }

  /** A pod by uid. */
  podByUid(uid: string): Pod | undefined {
    return this.podsByUid.get(uid);
  }

  /** A pod by namespace and name. */
  podByName(namespace: string, name: string): Pod | undefined {
    const uid = this.podUidByKey.get(podKey({ namespace, name }));
    return uid === undefined ? undefined : this.podsByUid.get(uid);
  }

  /**
   * The whole state as UPSERT events at the current generation, in an order
   * that a replica can apply directly: namespaces, nodes, pods, policies,
   * config maps.
   */
  *fullState(): IterableIterator<ClusterEvent> {
    const upsert = ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
    const generation = this.gen;
    for (const value of this.namespaceMap.values()) yield { generation, type: upsert, object: { $case: 'namespace', value } };
    for (const value of this.nodes()) yield { generation, type: upsert, object: { $case: 'node', value } };
    for (const value of this.podsByUid.values()) yield { generation, type: upsert, object: { $case: 'pod', value } };
    for (const value of this.policyMap.values()) yield { generation, type: upsert, object: { $case: 'admissionPolicy', value } };
    for (const value of this.configMapMap.values()) yield { generation, type: upsert, object: { $case: 'configMap', value } };
  }

  private entry(name: string): NodeEntry {
    let entry = this.nodeEntries.get(name);
    if (!entry) {
      entry = { node: undefined, pods: new Map(), requested: zeroResources(), nonZeroRequested: zeroResources(), ports: new Map(), generation: this.gen, cached: undefined };
      this.nodeEntries.set(name, entry);
    }
    return entry;
  }

  private touch(entry: NodeEntry): void {
    entry.generation = this.gen;
    entry.cached = undefined;
  }

  private upsertNode(node: Node): AppliedChange {
    const entry = this.entry(node.name);
    if (!entry.node) this.nodeCount++;
    entry.node = node;
    this.touch(entry);
    return { nodes: [node.name], nodeObjectChanged: true };
  }

  private deleteNode(name: string): AppliedChange {
    const entry = this.nodeEntries.get(name);
    if (!entry?.node) return noChange;
    this.nodeCount--;
    // Pods still bound to a deleted node keep their entry (as upstream's cache
    // does) until they are deleted too; the node just stops being listed.
    if (entry.pods.size === 0) this.nodeEntries.delete(name);
    else {
      entry.node = undefined;
      this.touch(entry);
    }
    return { nodes: [name], nodeObjectChanged: true };
  }

  private upsertPod(pod: Pod): AppliedChange {
    const key = podKey(pod);
    const previousUid = this.podUidByKey.get(key);
    const changed = new Set<string>();
    // A pod recreated under the same name (a StatefulSet) replaces the old uid.
    if (previousUid !== undefined && previousUid !== pod.uid) {
      const old = this.podsByUid.get(previousUid);
      if (old) this.removePod(old, changed);
    }
    const previous = this.podsByUid.get(pod.uid);
    if (previous) this.unassign(previous, changed);
    this.podsByUid.set(pod.uid, pod);
    this.podUidByKey.set(key, pod.uid);
    this.assign(pod, changed);
    return { nodes: [...changed], nodeObjectChanged: false };
  }

  private deletePod(ref: Pod): AppliedChange {
    const uid = ref.uid || this.podUidByKey.get(podKey(ref));
    const pod = uid === undefined ? undefined : this.podsByUid.get(uid);
    if (!pod) return noChange;
    const changed = new Set<string>();
    this.removePod(pod, changed);
    return { nodes: [...changed], nodeObjectChanged: false };
  }

  private removePod(pod: Pod, changed: Set<string>): void {
    this.unassign(pod, changed);
    this.podsByUid.delete(pod.uid);
    const key = podKey(pod);
    if (this.podUidByKey.get(key) === pod.uid) this.podUidByKey.delete(key);
  }

  private assign(pod: Pod, changed: Set<string>): void {
    if (!usesNode(pod)) return;
    const entry = this.entry(pod.nodeName);
    entry.pods.set(pod.uid, pod);
    if (pod.requests) addInto(entry.requested, pod.requests);
    if (pod.nonZeroRequests) addInto(entry.nonZeroRequested, pod.nonZeroRequests);
    for (const port of pod.hostPorts) {
      const k = portKey(port);
      const used = entry.ports.get(k);
      if (used) used.count++;
      else entry.ports.set(k, { port, count: 1 });
    }
    this.touch(entry);
    changed.add(pod.nodeName);
  }

  private unassign(pod: Pod, changed: Set<string>): void {
    if (!usesNode(pod)) return;
    const entry = this.nodeEntries.get(pod.nodeName);
    if (!entry?.pods.delete(pod.uid)) return;
    if (pod.requests) subtractInto(entry.requested, pod.requests);
    if (pod.nonZeroRequests) subtractInto(entry.nonZeroRequested, pod.nonZeroRequests);
    for (const port of pod.hostPorts) {
      const k = portKey(port);
      const used = entry.ports.get(k);
      if (used && --used.count === 0) entry.ports.delete(k);
    }
    this.touch(entry);
    changed.add(pod.nodeName);
    if (!entry.node && entry.pods.size === 0) this.nodeEntries.delete(pod.nodeName);
  }

  private infoOf(entry: NodeEntry): NodeInfo {
    entry.cached ??= NodeInfo.fromPartial({
      node: entry.node,
      // Every assigned pod takes one of the node's pod slots (what NodeResourcesFit checks).
      requested: { ...entry.requested, pods: entry.pods.size },
      nonZeroRequested: { ...entry.nonZeroRequested, pods: entry.pods.size },
      pods: [...entry.pods.values()],
      usedPorts: [...entry.ports.values()].map((p) => p.port),
      generation: entry.generation,
    });
    return entry.cached;
  }
}

const noChange: AppliedChange = { nodes: [], nodeObjectChanged: false };

/** A pod uses its node's capacity once bound, until it terminates. */
export function usesNode(pod: Pod): boolean {
  return pod.nodeName !== '' && pod.phase !== PodPhase.POD_PHASE_SUCCEEDED && pod.phase !== PodPhase.POD_PHASE_FAILED;
}

function portKey(p: HostPort): string {
  return `${p.protocol}/${p.hostIp}/${p.port}`;
}
