/**
 * ClusterSnapshot: the one aggregation of the cluster into NodeInfos (upstream
 * cache + snapshot), built incrementally from the ClusterEvents of the cluster
 * stream. It implements the contract's SnapshotLister with the indexes
 * upstream's snapshot keeps (nodes hosting pods with affinity or required
 * anti-affinity, namespace labels, image spread, nominated pods), the
 * PodDisruptionBudgets preemption reads and the Service and controller
 * selectors default spreading reads. The snapshot
 * service serves it (GetNode/ListNodes through toNodeInfoMessage) and every
 * replica (filterscore) schedules on it.
 */
import { hasPodAffinityTerms } from '@schedmesh/framework';
import type { ControllerKind, NodeInfo, PodInfo, SnapshotLister } from '@schedmesh/framework';
import { isPodTerminal, podHoldsNode } from '@schedmesh/model';
import type { Labels } from '@schedmesh/model';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Namespace, Node, Pod, PodDisruptionBudget, WorkloadSelector } from '@schedmesh/proto/v1/types';
import { MutableNodeInfo } from './node-info.js';
import { newPodInfo } from './pod-info.js';

// Nominated by preemption, not bound yet, and not over.
function isNominated(pod: Pod): boolean {
  return pod.nodeName === '' && pod.nominatedNodeName !== '' && !isPodTerminal(pod);
}

const NONE: readonly never[] = Object.freeze([]);

/** A ClusterEvent object that carries a Service's or a controller's selector. */
export type WorkloadObject = Extract<NonNullable<ClusterEvent['object']>, { $case: 'service' | 'replicaSet' | 'statefulSet' | 'replicationController' }>;

const controllerKinds: Record<Exclude<WorkloadObject['$case'], 'service'>, ControllerKind> = {
  replicaSet: 'ReplicaSet',
  statefulSet: 'StatefulSet',
  replicationController: 'ReplicationController',
};

/**
 * A snapshot built from ClusterEvents. {@link apply} must never run while a
 * cycle reads the snapshot (the service applies stream frames between
 * cycles); everything handed out is read-only to the caller.
 */
export class ClusterSnapshot implements SnapshotLister {
  private gen = 0;
  private readonly nodeMap = new Map<string, MutableNodeInfo>();
  /** Pods bound to a node the snapshot does not know (yet, or any more). */
  private readonly orphans = new Map<string, Map<string, PodInfo>>();
  private readonly podsByUid = new Map<string, PodInfo>();
  private readonly podUidByKey = new Map<string, string>();
  private readonly nominated = new Map<string, PodInfo[]>();
  private readonly namespaceMap = new Map<string, Namespace>();
  private readonly imageCounts = new Map<string, number>();
  private readonly pdbMap = new Map<string, PodDisruptionBudget>();
  private pdbList: readonly PodDisruptionBudget[] | undefined;
  /** Services by namespace, then name. */
  private readonly serviceMap = new Map<string, Map<string, WorkloadSelector>>();
  private readonly serviceLists = new Map<string, readonly WorkloadSelector[]>();
  /** Controllers by "Kind/namespace/name". */
  private readonly controllerMap = new Map<string, WorkloadObject>();
  private ordered: MutableNodeInfo[] | undefined;
  private withAffinity: MutableNodeInfo[] | undefined;
  private withRequiredAnti: MutableNodeInfo[] | undefined;

  get generation(): number {
    return this.gen;
  }

  /** How many nodes the snapshot holds. */
  get nodeCount(): number {
    return this.nodeMap.size;
  }

  /** How many pods the snapshot holds (bound or not). */
  get podCount(): number {
    return this.podsByUid.size;
  }

  nodeInfos(): readonly NodeInfo[] {
    this.ordered ??= this.buildOrder();
    return this.ordered;
  }

  nodeInfo(name: string): NodeInfo | undefined {
    return this.nodeMap.get(name);
  }

  havePodsWithAffinity(): readonly NodeInfo[] {
    this.withAffinity ??= this.nodeInfosWhere((n) => n.podsWithAffinity.length > 0);
    return this.withAffinity;
  }

  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    this.withRequiredAnti ??= this.nodeInfosWhere((n) => n.podsWithRequiredAntiAffinity.length > 0);
    return this.withRequiredAnti;
  }

  namespaceLabels(namespace: string): Labels | undefined {
    return this.namespaceMap.get(namespace)?.labels;
  }

  namespaces(): Iterable<Namespace> {
    return this.namespaceMap.values();
  }

  imageNodeCount(image: string): number {
    return this.imageCounts.get(image) ?? 0;
  }

  nominatedPods(nodeName: string): readonly PodInfo[] {
    return this.nominated.get(nodeName) ?? NONE;
  }

  hasNominatedPods(): boolean {
    return this.nominated.size > 0;
  }

  podDisruptionBudgets(): readonly PodDisruptionBudget[] {
    this.pdbList ??= [...this.pdbMap.values()];
    return this.pdbList;
  }

  services(namespace: string): readonly WorkloadSelector[] {
    let list = this.serviceLists.get(namespace);
    if (list === undefined) {
      list = [...(this.serviceMap.get(namespace)?.values() ?? [])];
      this.serviceLists.set(namespace, list);
    }
    return list;
  }

  controller(kind: ControllerKind, namespace: string, name: string): WorkloadSelector | undefined {
    return this.controllerMap.get(`${kind}/${namespace}/${name}`)?.value;
  }

  /** Every Service and controller, as the event objects they arrived in. */
  *workloads(): IterableIterator<WorkloadObject> {
    for (const byName of this.serviceMap.values()) for (const value of byName.values()) yield { $case: 'service', value };
    yield* this.controllerMap.values();
  }

  /** A pod by uid. */
  pod(uid: string): Pod | undefined {
    return this.podsByUid.get(uid)?.pod;
  }

  /** A pod by namespace and name. */
  podByName(namespace: string, name: string): Pod | undefined {
    const uid = this.podUidByKey.get(`${namespace}/${name}`);
    return uid === undefined ? undefined : this.podsByUid.get(uid)?.pod;
  }

  /** Every pod (bound or not), in the order they first arrived. */
  *pods(): IterableIterator<Pod> {
    for (const info of this.podsByUid.values()) yield info.pod;
  }

  /** Every Node object, in the order the nodes arrived (unlike nodeInfos(), not zone-interleaved). */
  *nodes(): IterableIterator<Node> {
    for (const info of this.nodeMap.values()) yield info.node;
  }

  /**
   * Applies one event, in stream order. The generation becomes the event's
   * when it is higher (the events of a full state share one generation).
   */
  apply(event: ClusterEvent): void {
    if (event.generation > this.gen) this.gen = event.generation;
    const deleted = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    const o = event.object;
    switch (o?.$case) {
      case 'node':
        if (deleted) this.deleteNode(o.value.name);
        else this.upsertNode(o.value);
        return;
      case 'pod':
        if (deleted) this.deletePod(o.value);
        else this.upsertPod(o.value);
        return;
      case 'namespace':
        if (deleted) this.namespaceMap.delete(o.value.name);
        else this.namespaceMap.set(o.value.name, o.value);
        return;
      case 'podDisruptionBudget': {
        const key = `${o.value.namespace}/${o.value.name}`;
        if (deleted) this.pdbMap.delete(key);
        else this.pdbMap.set(key, o.value);
        this.pdbList = undefined;
        return;
      }
      case 'service':
        this.applyService(o.value, deleted);
        return;
      case 'replicaSet':
      case 'statefulSet':
      case 'replicationController': {
        const key = `${controllerKinds[o.$case]}/${o.value.namespace}/${o.value.name}`;
        if (deleted) this.controllerMap.delete(key);
        else this.controllerMap.set(key, o);
        return;
      }
      default:
        return;
    }
  }

  /** Marks the snapshot as at generation (a frame without events that moves it forward). */
  advanceTo(generation: number): void {
    if (generation > this.gen) this.gen = generation;
  }

  private applyService(service: WorkloadSelector, deleted: boolean): void {
    let byName = this.serviceMap.get(service.namespace);
    if (deleted) byName?.delete(service.name);
    else {
      if (byName === undefined) {
        byName = new Map();
        this.serviceMap.set(service.namespace, byName);
      }
      byName.set(service.name, service);
    }
    if (byName?.size === 0) this.serviceMap.delete(service.namespace);
    this.serviceLists.delete(service.namespace);
  }

  private nodeInfosWhere(predicate: (n: MutableNodeInfo) => boolean): MutableNodeInfo[] {
    const out: MutableNodeInfo[] = [];
    for (const n of this.nodeInfos() as readonly MutableNodeInfo[]) if (predicate(n)) out.push(n);
    return out;
  }

  // Zones interleaved, nodes of a zone in the order they arrived (upstream nodeTree.list).
  private buildOrder(): MutableNodeInfo[] {
    const zones = new Map<string, MutableNodeInfo[]>();
    for (const info of this.nodeMap.values()) {
      const key = `${info.node.region}:\u0000:${info.node.zone}`;
      let list = zones.get(key);
      if (list === undefined) {
        list = [];
        zones.set(key, list);
      }
      list.push(info);
    }
    if (zones.size <= 1) return [...this.nodeMap.values()];
    const lists = [...zones.values()];
    const out: MutableNodeInfo[] = [];
    for (let i = 0; out.length < this.nodeMap.size; i++) {
      for (const list of lists) {
        const info = list[i];
        if (info !== undefined) out.push(info);
      }
    }
    return out;
  }

  private structureChanged(): void {
    this.ordered = undefined;
    this.affinityChanged();
  }

  private affinityChanged(): void {
    this.withAffinity = undefined;
    this.withRequiredAnti = undefined;
  }

  private countImages(node: Node, delta: number): void {
    const seen = new Set<string>();
    for (const image of node.images) {
      for (const name of image.names) {
        if (seen.has(name)) continue;
        seen.add(name);
        const n = (this.imageCounts.get(name) ?? 0) + delta;
        if (n <= 0) this.imageCounts.delete(name);
        else this.imageCounts.set(name, n);
      }
    }
  }

  private upsertNode(node: Node): void {
    const existing = this.nodeMap.get(node.name);
    if (existing !== undefined) {
      this.countImages(existing.node, -1);
      this.countImages(node, 1);
      const zoneMoved = existing.node.zone !== node.zone || existing.node.region !== node.region;
      existing.setNode(node);
      existing.generation = this.gen;
      // Labels may change which nodes count for topology keys; the lists hold the same objects.
      if (zoneMoved) this.structureChanged();
      return;
    }
    const info = new MutableNodeInfo(node);
    const waiting = this.orphans.get(node.name);
    if (waiting !== undefined) {
      for (const pod of waiting.values()) info.addPod(pod);
      this.orphans.delete(node.name);
    }
    info.generation = this.gen;
    this.nodeMap.set(node.name, info);
    this.countImages(node, 1);
    this.structureChanged();
  }

  private deleteNode(name: string): void {
    const info = this.nodeMap.get(name);
    if (info === undefined) return;
    this.countImages(info.node, -1);
    this.nodeMap.delete(name);
    // Pods still bound to a deleted node wait for their own deletion, as upstream's cache keeps them.
    if (info.pods.length > 0) this.orphans.set(name, new Map(info.pods.map((p) => [p.pod.uid, p])));
    this.structureChanged();
  }

  private upsertPod(pod: Pod): void {
    const key = `${pod.namespace}/${pod.name}`;
    const previousUid = this.podUidByKey.get(key);
    if (previousUid !== undefined && previousUid !== pod.uid) {
      const old = this.podsByUid.get(previousUid);
      if (old !== undefined) this.removePod(old);
    }
    const previous = this.podsByUid.get(pod.uid);
    if (previous !== undefined) this.unplace(previous);
    const info = newPodInfo(pod);
    this.podsByUid.set(pod.uid, info);
    this.podUidByKey.set(key, pod.uid);
    this.place(info);
  }

  private deletePod(ref: Pod): void {
    const uid = ref.uid !== '' ? ref.uid : this.podUidByKey.get(`${ref.namespace}/${ref.name}`);
    const info = uid === undefined ? undefined : this.podsByUid.get(uid);
    if (info !== undefined) this.removePod(info);
  }

  private removePod(info: PodInfo): void {
    this.unplace(info);
    this.podsByUid.delete(info.pod.uid);
    const key = `${info.pod.namespace}/${info.pod.name}`;
    if (this.podUidByKey.get(key) === info.pod.uid) this.podUidByKey.delete(key);
  }

  private place(info: PodInfo): void {
    const pod = info.pod;
    if (podHoldsNode(pod)) {
      const node = this.nodeMap.get(pod.nodeName);
      if (node !== undefined) {
        node.addPod(info);
        node.generation = this.gen;
        if (hasPodAffinityTerms(info)) this.affinityChanged();
      } else {
        let waiting = this.orphans.get(pod.nodeName);
        if (waiting === undefined) {
          waiting = new Map();
          this.orphans.set(pod.nodeName, waiting);
        }
        waiting.set(pod.uid, info);
      }
    } else if (isNominated(pod)) {
      const list = this.nominated.get(pod.nominatedNodeName);
      if (list === undefined) this.nominated.set(pod.nominatedNodeName, [info]);
      else list.push(info);
    }
  }

  private unplace(info: PodInfo): void {
    const pod = info.pod;
    if (podHoldsNode(pod)) {
      const node = this.nodeMap.get(pod.nodeName);
      if (node?.removePod(pod.uid) === true) {
        node.generation = this.gen;
        if (hasPodAffinityTerms(info)) this.affinityChanged();
        return;
      }
      const waiting = this.orphans.get(pod.nodeName);
      if (waiting?.delete(pod.uid) === true && waiting.size === 0) this.orphans.delete(pod.nodeName);
    } else if (isNominated(pod)) {
      const list = this.nominated.get(pod.nominatedNodeName);
      if (list === undefined) return;
      const rest = list.filter((p) => p.pod.uid !== pod.uid);
      if (rest.length === 0) this.nominated.delete(pod.nominatedNodeName);
      else this.nominated.set(pod.nominatedNodeName, rest);
    }
  }
}

/** A snapshot of the given nodes and pods (tests, tools, benchmarks). */
export function snapshotOf(nodes: readonly Node[], pods: readonly Pod[] = [], namespaces: readonly Namespace[] = [], pdbs: readonly PodDisruptionBudget[] = []): ClusterSnapshot {
  const snapshot = new ClusterSnapshot();
  const upsert = ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
  for (const value of namespaces) snapshot.apply({ generation: 0, type: upsert, object: { $case: 'namespace', value } });
  for (const value of nodes) snapshot.apply({ generation: 0, type: upsert, object: { $case: 'node', value } });
  for (const value of pods) snapshot.apply({ generation: 0, type: upsert, object: { $case: 'pod', value } });
  for (const value of pdbs) snapshot.apply({ generation: 0, type: upsert, object: { $case: 'podDisruptionBudget', value } });
  return snapshot;
}
