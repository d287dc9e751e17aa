/**
 * What plugins read: a node with what is scheduled onto it ({@link NodeInfo}),
 * a pod with its affinity terms compiled ({@link PodInfo}), and the cluster of
 * one cycle ({@link SnapshotLister}). Interfaces only: the one implementation
 * (ClusterSnapshot, MutableNodeInfo, newPodInfo) lives in @schedmesh/scheduling,
 * and plugins never depend on it (upstream k8s.io/kube-scheduler/framework
 * keeps NodeInfo and PodInfo as interfaces the same way).
 */
import type { CompiledLabelSelector, Labels } from '@schedmesh/model';
import type { HostPort, Namespace, Node, Pod, PodAffinityTerm, PodDisruptionBudget, Resources, WorkloadSelector } from '@schedmesh/proto/v1/types';

/** A pod (anti-)affinity term, compiled. */
export interface AffinityTerm {
  /** Namespaces the selected pods must be in (merged with the namespace selector's matches where a plugin lists them). */
  readonly namespaces: ReadonlySet<string>;
  /** Which pods the term selects. */
  readonly selector: CompiledLabelSelector;
  /** The namespace selector: absent selects nothing, empty selects every namespace. */
  readonly namespaceSelector: CompiledLabelSelector;
  /** True when the namespace selector is present and not empty (a plugin may resolve it into namespaces). */
  readonly hasNamespaceSelectorTerms: boolean;
  /** The node label that defines a topology domain. */
  readonly topologyKey: string;
  /** The term as written (for resolving the namespace selector). */
  readonly source: PodAffinityTerm;
}

/** A weighted (preferred) affinity term. */
export interface WeightedAffinityTerm extends AffinityTerm {
  /** 1..100. */
  readonly weight: number;
}

/** A pod with its compiled affinity terms. */
export interface PodInfo {
  /** The pod message (never mutated). */
  readonly pod: Pod;
  /** spec.affinity.podAffinity required terms. */
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  /** spec.affinity.podAntiAffinity required terms. */
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  /** spec.affinity.podAffinity preferred terms. */
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  /** spec.affinity.podAntiAffinity preferred terms. */
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
}

/** Host ports in use on a node: which (ip, protocol, port) bindings are taken. */
export interface HostPortUsage {
  /** Whether binding (ip, protocol, port) would conflict (upstream HostPortInfo.CheckConflict). */
  conflicts(port: HostPort): boolean;
  /** Number of distinct (ip, protocol, port) entries. */
  readonly size: number;
}

/** What plugins read about a node. Never mutate it: simulate on a {@link NodeInfo.clone}. */
export interface NodeInfo {
  /** The node name. */
  readonly name: string;
  /** The node. */
  readonly node: Node;
  /** Pods that hold the node (bound and not terminal). */
  readonly pods: readonly PodInfo[];
  /** The subset of pods with any pod affinity or anti-affinity term. */
  readonly podsWithAffinity: readonly PodInfo[];
  /** The subset of pods with a required anti-affinity term. */
  readonly podsWithRequiredAntiAffinity: readonly PodInfo[];
  /** Sum of the pods' requests; `pods` is the number of pods. */
  readonly requested: Readonly<Resources>;
  /** Sum of the pods' non-zero requests (for scoring); `pods` is the number of pods. */
  readonly nonZeroRequested: Readonly<Resources>;
  /** The node's allocatable resources. */
  readonly allocatable: Readonly<Resources>;
  /** Host ports in use. */
  readonly usedPorts: HostPortUsage;
  /** Image name (every name a node reports) → size in bytes. */
  readonly imageSizes: ReadonlyMap<string, number>;
  /**
   * A process-local change counter, bumped on every change of this NodeInfo
   * or of a clone: equal revisions mean equal contents (plugins memoize on it).
   * Not the stream generation.
   */
  readonly revision: number;
  /**
   * The stream generation (sequence of the cluster event) that last changed
   * this node; 0 when the NodeInfo was built outside a stream (tests, tools).
   */
  readonly generation: number;
  /**
   * A private copy for a simulation (preemption, nominated pods): its pods,
   * sums and ports may be changed without touching this NodeInfo or the
   * snapshot. Pod messages are shared, never copied.
   */
  clone(): SimulatedNodeInfo;
}

/** A NodeInfo copy that a simulation changes (upstream NodeInfo.Snapshot() then AddPodInfo/RemovePod). */
export interface SimulatedNodeInfo extends NodeInfo {
  /** Adds a pod (its uid must not be present). */
  addPod(pod: PodInfo): void;
  /** Removes a pod by uid; false when it was not there. */
  removePod(uid: string): boolean;
}

/** What plugins read about the cluster during a cycle. It does not change while a cycle runs. */
export interface SnapshotLister {
  /** The snapshot generation (the stream sequence of the last applied event). */
  readonly generation: number;
  /** Every node, in the order cycles walk them: zones interleaved, as upstream's node tree lists them. */
  nodeInfos(): readonly NodeInfo[];
  /** One node, or undefined. */
  nodeInfo(name: string): NodeInfo | undefined;
  /** Nodes hosting at least one pod with a pod affinity or anti-affinity term. */
  havePodsWithAffinity(): readonly NodeInfo[];
  /** Nodes hosting at least one pod with a required anti-affinity term. */
  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[];
  /** The labels of a namespace, or undefined if it is unknown. */
  namespaceLabels(namespace: string): Labels | undefined;
  /** Every known namespace. */
  namespaces(): Iterable<Namespace>;
  /** How many nodes report an image under this name (ImageLocality's spread). */
  imageNodeCount(image: string): number;
  /** Pods nominated to a node by preemption and not bound yet. */
  nominatedPods(nodeName: string): readonly PodInfo[];
  /** Whether any node has a nominated pod: false lets a cycle skip the per-node {@link nominatedPods} check. */
  hasNominatedPods(): boolean;
  /** Every PodDisruptionBudget (preemption prefers victims whose budgets allow them to go). */
  podDisruptionBudgets(): readonly PodDisruptionBudget[];
  /** The Services of a namespace, as their selectors (upstream's ServiceLister; default spreading reads them). */
  services(namespace: string): readonly WorkloadSelector[];
  /** A ReplicationController, ReplicaSet or StatefulSet by namespace and name, or undefined (upstream's listers' Get). */
  controller(kind: ControllerKind, namespace: string, name: string): WorkloadSelector | undefined;
}

/** The controllers whose selectors default pod topology spreading reads, by their Kubernetes kind. */
export type ControllerKind = 'ReplicationController' | 'ReplicaSet' | 'StatefulSet';
