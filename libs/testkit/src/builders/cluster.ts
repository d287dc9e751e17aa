/**
 * Builders of proto Pods and Nodes for every test, in the spirit of
 * upstream's st.MakePod()/st.MakeNode(). One builder per kind, two ways in:
 * - `pod()`/`node()`: bare, as upstream's plugin tests build them. A pod has
 *   no containers until `req()` adds one (so it requests nothing, not even the
 *   non-zero defaults); a node has room for 110 pods and nothing else, and no
 *   labels. `pod('p').label('foo', '').spread(...)`.
 * - `makePod()`/`makeNode()`: a plausible object as the informer publishes it:
 *   resourceVersion "1", a pod with one container without requests, a node
 *   with 4 CPUs, 16Gi, 110 pods, its hostname label and a Ready condition.
 *   `makePod('web-0').requests('500m', '1Gi').on('n1')`,
 *   `makeNode('n1').capacity('4', '8Gi').zone('a')`.
 */
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, milliValue, value } from '@schedmesh/model';
import {
  ClusterEvent,
  ClusterEventType,
  Namespace,
  Node,
  NodeInclusionPolicy,
  Pod,
  PodPhase,
  PreemptionPolicy,
  Protocol,
  TaintEffect,
  TolerationOperator,
  UnsatisfiableConstraintAction,
} from '@schedmesh/proto/v1/types';
import type { LabelSelector, NodeSelectorTerm, PodAffinityTerm, Resources } from '@schedmesh/proto/v1/types';

/** A container's requests: cpu/memory as quantity strings, others as counts. */
export interface ContainerRequests {
  readonly cpu?: string;
  readonly memory?: string;
  readonly [scalar: string]: string | number | undefined;
}

/** A node's resources: cpu and memory as quantity strings ("4", "8Gi"), pods and scalar resources as counts. */
export interface NodeResources {
  readonly cpu?: string;
  readonly memory?: string;
  readonly pods?: number;
  readonly [scalar: string]: string | number | undefined;
}

/** A taint effect by its Kubernetes name. */
export type TaintEffectName = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

function zero(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
}

function effectOf(effect: TaintEffectName | undefined): TaintEffect {
  switch (effect) {
    case 'NoSchedule':
      return TaintEffect.TAINT_EFFECT_NO_SCHEDULE;
    case 'PreferNoSchedule':
      return TaintEffect.TAINT_EFFECT_PREFER_NO_SCHEDULE;
    case 'NoExecute':
      return TaintEffect.TAINT_EFFECT_NO_EXECUTE;
    default:
      return TaintEffect.TAINT_EFFECT_UNSPECIFIED;
  }
}

/** Builds a proto Pod (start with {@link pod} or {@link makePod}). */
export class PodBuilder {
  private readonly p: Pod;
  private containers = 0;

  constructor(name: string, namespace = 'default') {
    this.p = Pod.fromPartial({
      uid: `uid-${namespace}-${name}`,
      name,
      namespace,
      phase: PodPhase.POD_PHASE_PENDING,
      requests: zero(),
      nonZeroRequests: zero(),
      creationTime: new Date(0),
    });
  }

  uid(uid: string): this {
    this.p.uid = uid;
    return this;
  }
  version(resourceVersion: string): this {
    this.p.resourceVersion = resourceVersion;
    return this;
  }
  label(key: string, v: string): this {
    this.p.labels[key] = v;
    return this;
  }
  annotation(key: string, v: string): this {
    this.p.annotations[key] = v;
    return this;
  }
  /** Bound to a node (phase Running). */
  node(name: string): this {
    this.p.nodeName = name;
    this.p.phase = PodPhase.POD_PHASE_RUNNING;
    return this;
  }
  /** Bound to a node (phase Running): the same as {@link node}. */
  on(nodeName: string): this {
    return this.node(nodeName);
  }
  nominated(name: string): this {
    this.p.nominatedNodeName = name;
    return this;
  }
  phase(phase: PodPhase): this {
    this.p.phase = phase;
    return this;
  }
  priority(priority: number): this {
    this.p.priority = priority;
    return this;
  }
  preemptNever(): this {
    this.p.preemptionPolicy = PreemptionPolicy.PREEMPTION_POLICY_NEVER;
    return this;
  }
  terminating(): this {
    this.p.terminating = true;
    return this;
  }
  created(ms: number): this {
    this.p.creationTime = new Date(ms);
    return this;
  }
  schedulerName(name: string): this {
    this.p.schedulerName = name;
    return this;
  }
  /** Adds a container with these requests (non-zero defaults apply to a missing cpu or memory). */
  req(requests: ContainerRequests): this {
    this.containers++;
    const r = this.p.requests as Resources;
    const nz = this.p.nonZeroRequests as Resources;
    for (const [name, q] of Object.entries(requests)) {
      if (q === undefined) continue;
      if (name === 'cpu') r.milliCpu += milliValue(String(q));
      else if (name === 'memory') r.memory += value(String(q));
      else if (name === 'ephemeral-storage') r.ephemeralStorage += value(String(q));
      else r.scalar[name] = (r.scalar[name] ?? 0) + (typeof q === 'number' ? q : value(q));
    }
    nz.milliCpu += requests.cpu === undefined ? DEFAULT_MILLI_CPU_REQUEST : milliValue(requests.cpu);
    nz.memory += requests.memory === undefined ? DEFAULT_MEMORY_REQUEST : value(requests.memory);
    nz.ephemeralStorage = r.ephemeralStorage;
    nz.scalar = { ...r.scalar };
    return this;
  }
  /**
   * The pod's requests as those of its only container, replacing any added
   * before; a cpu or memory of "0" counts as unset, so the non-zero default
   * applies to it.
   */
  requests(cpu: string, memory: string, scalar: Record<string, number> = {}): this {
    this.containers = 0;
    this.p.requests = zero();
    this.p.nonZeroRequests = zero();
    return this.req({ ...scalar, cpu: cpu === '0' ? undefined : cpu, memory: memory === '0' ? undefined : memory });
  }
  nodeSelector(key: string, v: string): this {
    this.p.nodeSelector[key] = v;
    return this;
  }
  /** Adds a required node affinity term (terms are ORed). */
  requiredNodeTerm(term: Partial<NodeSelectorTerm>): this {
    const affinity = (this.p.affinity ??= {});
    const na = (affinity.nodeAffinity ??= { preferred: [] });
    (na.required ??= { terms: [] }).terms.push({ matchExpressions: term.matchExpressions ?? [], matchFields: term.matchFields ?? [] });
    return this;
  }
  preferredNodeTerm(weight: number, term: Partial<NodeSelectorTerm>): this {
    const affinity = (this.p.affinity ??= {});
    const na = (affinity.nodeAffinity ??= { preferred: [] });
    na.preferred.push({ weight, preference: { matchExpressions: term.matchExpressions ?? [], matchFields: term.matchFields ?? [] } });
    return this;
  }
  podAffinity(kind: 'required', term: PodAffinityTerm): this;
  podAffinity(kind: 'preferred', term: PodAffinityTerm, weight: number): this;
  podAffinity(kind: 'required' | 'preferred', term: PodAffinityTerm, weight = 1): this {
    const affinity = (this.p.affinity ??= {});
    const pa = (affinity.podAffinity ??= { required: [], preferred: [] });
    if (kind === 'required') pa.required.push(term);
    else pa.preferred.push({ weight, term });
    return this;
  }
  podAntiAffinity(kind: 'required', term: PodAffinityTerm): this;
  podAntiAffinity(kind: 'preferred', term: PodAffinityTerm, weight: number): this;
  podAntiAffinity(kind: 'required' | 'preferred', term: PodAffinityTerm, weight = 1): this {
    const affinity = (this.p.affinity ??= {});
    const paa = (affinity.podAntiAffinity ??= { required: [], preferred: [] });
    if (kind === 'required') paa.required.push(term);
    else paa.preferred.push({ weight, term });
    return this;
  }
  toleration(key: string, operator: 'Equal' | 'Exists', v: string, effect?: TaintEffectName): this {
    this.p.tolerations.push({
      key,
      operator: operator === 'Exists' ? TolerationOperator.TOLERATION_OPERATOR_EXISTS : TolerationOperator.TOLERATION_OPERATOR_EQUAL,
      value: v,
      effect: effectOf(effect),
    });
    return this;
  }
  hostPort(port: number, protocol: 'TCP' | 'UDP' = 'TCP', hostIp = ''): this {
    this.p.hostPorts.push({ port, protocol: protocol === 'UDP' ? Protocol.PROTOCOL_UDP : Protocol.PROTOCOL_TCP, hostIp });
    return this;
  }
  image(...names: string[]): this {
    this.p.images.push(...names);
    return this;
  }
  spread(
    maxSkew: number,
    topologyKey: string,
    when: 'DoNotSchedule' | 'ScheduleAnyway',
    labelSelector: LabelSelector | undefined,
    options: { minDomains?: number; nodeAffinityPolicy?: 'Honor' | 'Ignore'; nodeTaintsPolicy?: 'Honor' | 'Ignore'; matchLabelKeys?: string[] } = {},
  ): this {
    const policy = (p: 'Honor' | 'Ignore' | undefined): NodeInclusionPolicy =>
      p === undefined ? NodeInclusionPolicy.NODE_INCLUSION_POLICY_UNSPECIFIED : p === 'Honor' ? NodeInclusionPolicy.NODE_INCLUSION_POLICY_HONOR : NodeInclusionPolicy.NODE_INCLUSION_POLICY_IGNORE;
    this.p.topologySpreadConstraints.push({
      maxSkew,
      topologyKey,
      whenUnsatisfiable:
        when === 'DoNotSchedule' ? UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_DO_NOT_SCHEDULE : UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_SCHEDULE_ANYWAY,
      labelSelector,
      minDomains: options.minDomains,
      nodeAffinityPolicy: policy(options.nodeAffinityPolicy),
      nodeTaintsPolicy: policy(options.nodeTaintsPolicy),
      matchLabelKeys: options.matchLabelKeys ?? [],
    });
    return this;
  }
  owner(owner: string): this {
    this.p.owner = owner;
    return this;
  }
  /** Upstream test pods have no containers unless they get requests. */
  get containerCount(): number {
    return this.containers;
  }
  build(): Pod {
    return Pod.fromPartial(this.p);
  }
}

/** Builds a proto Node (start with {@link node} or {@link makeNode}). */
export class NodeBuilder {
  private readonly n: Node;

  /** Capacity 0 (as upstream's st.MakeNode) except 110 pods. */
  constructor(name: string) {
    this.n = Node.fromPartial({ name, uid: `uid-${name}`, ready: true, allocatable: { ...zero(), pods: 110 }, capacity: { ...zero(), pods: 110 } });
  }

  version(resourceVersion: string): this {
    this.n.resourceVersion = resourceVersion;
    return this;
  }
  /** A label; the zone and region labels also set the node's zone and region. */
  label(key: string, v: string): this {
    this.n.labels[key] = v;
    if (key === 'topology.kubernetes.io/zone') this.n.zone = v;
    if (key === 'topology.kubernetes.io/region') this.n.region = v;
    return this;
  }
  zone(zone: string): this {
    this.n.zone = zone;
    this.n.labels['topology.kubernetes.io/zone'] = zone;
    return this;
  }
  rack(rack: string): this {
    this.n.rack = rack;
    this.n.labels['schedmesh.io/rack'] = rack;
    return this;
  }
  pool(pool: string): this {
    this.n.pool = pool;
    this.n.labels['schedmesh.io/node-pool'] = pool;
    return this;
  }
  /** Allocatable (and capacity): `capacity('4', '8Gi', 110, { 'nvidia.com/gpu': 2 })` or `capacity({ cpu: '4', memory: '8Gi' })`; pods default to 110. */
  capacity(cpu: string, memory: string, pods?: number, scalar?: Record<string, number>): this;
  capacity(resources: NodeResources): this;
  capacity(resources: NodeResources | string, memory?: string, pods = 110, scalar: Record<string, number> = {}): this {
    const spec: NodeResources = typeof resources === 'string' ? { ...scalar, cpu: resources, memory, pods } : resources;
    const r: Resources = { ...zero(), pods: 110 };
    for (const [name, q] of Object.entries(spec)) {
      if (q === undefined) continue;
      if (name === 'cpu') r.milliCpu = milliValue(String(q));
      else if (name === 'memory') r.memory = value(String(q));
      else if (name === 'pods') r.pods = Number(q);
      else if (name === 'ephemeral-storage') r.ephemeralStorage = value(String(q));
      else r.scalar[name] = typeof q === 'number' ? q : value(q);
    }
    this.n.allocatable = r;
    this.n.capacity = { ...r, scalar: { ...r.scalar } };
    return this;
  }
  taint(key: string, v: string, effect: TaintEffect | TaintEffectName = TaintEffect.TAINT_EFFECT_NO_SCHEDULE): this {
    this.n.taints.push({ key, value: v, effect: typeof effect === 'string' ? effectOf(effect) : effect });
    return this;
  }
  /** Ready, with the kubelet's Ready condition. */
  ready(): this {
    this.n.ready = true;
    this.n.conditions = [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }];
    return this;
  }
  notReady(): this {
    this.n.ready = false;
    this.n.conditions = [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }];
    return this;
  }
  unschedulable(): this {
    this.n.unschedulable = true;
    return this;
  }
  /** Cordoned: the same as {@link unschedulable}. */
  cordoned(): this {
    return this.unschedulable();
  }
  image(sizeBytes: number, ...names: string[]): this {
    this.n.images.push({ names, sizeBytes });
    return this;
  }
  build(): Node {
    return Node.fromPartial(this.n);
  }
}

/** A bare pod, as upstream's plugin tests start one. */
export function pod(name: string, namespace = 'default'): PodBuilder {
  return new PodBuilder(name, namespace);
}

/** A bare node, as upstream's plugin tests start one. */
export function node(name: string): NodeBuilder {
  return new NodeBuilder(name);
}

/** A pod as the informer publishes it: resourceVersion "1", one container without requests. */
export function makePod(name: string, namespace = 'default'): PodBuilder {
  return new PodBuilder(name, namespace).version('1').req({});
}

/** A node as the informer publishes it: resourceVersion "1", 4 CPUs, 16Gi, 110 pods, its hostname label, Ready. */
export function makeNode(name: string): NodeBuilder {
  return new NodeBuilder(name).version('1').capacity('4', '16Gi').label('kubernetes.io/hostname', name).ready();
}

/** A namespace. */
export function namespace(name: string, labels: Record<string, string> = {}): Namespace {
  return Namespace.fromPartial({ name, labels });
}

/** An UPSERT (or DELETE) event for a node or a pod. */
export function clusterEvent(object: Node | Pod, type: 'upsert' | 'delete' = 'upsert', generation = 0): ClusterEvent {
  const t = type === 'delete' ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
  return 'namespace' in object
    ? ClusterEvent.fromPartial({ generation, type: t, object: { $case: 'pod', value: object } })
    : ClusterEvent.fromPartial({ generation, type: t, object: { $case: 'node', value: object } });
}
