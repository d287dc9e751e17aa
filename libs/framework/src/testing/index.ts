/**
 * Fixture builders for plugin and runner tests, in the spirit of upstream's
 * st.MakePod()/st.MakeNode(): `pod('p').label('foo', '').spread(...)`.
 * Test support only (not exported from the package index).
 */
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, milliValue, value } from '@schedmesh/model';
import {
  Namespace,
  Node,
  NodeInclusionPolicy,
  Pod,
  PodPhase,
  PreemptionPolicy,
  Protocol,
  SelectorOperator,
  TaintEffect,
  TolerationOperator,
  UnsatisfiableConstraintAction,
} from '@schedmesh/proto/v1/types';
import type { LabelSelector, NodeSelectorTerm, PodAffinityTerm, Resources, SelectorRequirement } from '@schedmesh/proto/v1/types';
import { resolveSchedulerConfig } from '../config.js';
import type { ResolvedProfile } from '../config.js';
import { CycleState } from '../cycle-state.js';
import { Framework } from '../framework.js';
import { PluginNames } from '../names.js';
import type { NodeInfo } from '../node-info.js';
import { newPodInfo } from '../pod-info.js';
import { inTreeRegistry } from '../plugins/registry.js';
import type { SnapshotLister } from '../snapshot.js';
import type { Status } from '../status.js';

/** A container's requests: cpu/memory as quantity strings, others as counts. */
export interface ContainerRequests {
  readonly cpu?: string;
  readonly memory?: string;
  readonly [scalar: string]: string | number | undefined;
}

function zero(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
}

/** `In` requirement. */
export function inReq(key: string, ...values: string[]): SelectorRequirement {
  return { key, operator: SelectorOperator.SELECTOR_OPERATOR_IN, values };
}
/** `NotIn` requirement. */
export function notInReq(key: string, ...values: string[]): SelectorRequirement {
  return { key, operator: SelectorOperator.SELECTOR_OPERATOR_NOT_IN, values };
}
/** `Exists` requirement. */
export function existsReq(key: string): SelectorRequirement {
  return { key, operator: SelectorOperator.SELECTOR_OPERATOR_EXISTS, values: [] };
}
/** `DoesNotExist` requirement. */
export function doesNotExistReq(key: string): SelectorRequirement {
  return { key, operator: SelectorOperator.SELECTOR_OPERATOR_DOES_NOT_EXIST, values: [] };
}
/** A label selector. */
export function selector(matchLabels: Record<string, string> = {}, ...matchExpressions: SelectorRequirement[]): LabelSelector {
  return { matchLabels, matchExpressions };
}
/** A pod affinity term. */
export function affinityTerm(topologyKey: string, labelSelector: LabelSelector | undefined, options: { namespaces?: string[]; namespaceSelector?: LabelSelector } = {}): PodAffinityTerm {
  return { topologyKey, labelSelector, namespaces: options.namespaces ?? [], namespaceSelector: options.namespaceSelector };
}

/** Builds a proto Pod. */
export class PodBuilder {
  private readonly p: Pod;
  private containers = 0;

  constructor(name: string, namespace: string) {
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
  toleration(key: string, operator: 'Equal' | 'Exists', v: string, effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'): this {
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

function effectOf(effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | undefined): TaintEffect {
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

/** Builds a proto Node. Capacity defaults to 0 (as upstream's st.MakeNode) except 110 pods. */
export class NodeBuilder {
  private readonly n: Node;
  constructor(name: string) {
    this.n = Node.fromPartial({ name, uid: `uid-${name}`, ready: true, allocatable: { ...zero(), pods: 110 }, capacity: { ...zero(), pods: 110 } });
  }
  label(key: string, v: string): this {
    this.n.labels[key] = v;
    if (key === 'topology.kubernetes.io/zone') this.n.zone = v;
    if (key === 'topology.kubernetes.io/region') this.n.region = v;
    return this;
  }
  /** cpu and memory as quantity strings ("4", "8Gi"), scalar resources as counts. */
  capacity(resources: { cpu?: string; memory?: string; pods?: number; [scalar: string]: string | number | undefined }): this {
    const r: Resources = { ...zero(), pods: 110 };
    for (const [name, q] of Object.entries(resources)) {
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
  taint(key: string, v: string, effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'): this {
    this.n.taints.push({ key, value: v, effect: effectOf(effect) });
    return this;
  }
  unschedulable(): this {
    this.n.unschedulable = true;
    return this;
  }
  image(sizeBytes: number, ...names: string[]): this {
    this.n.images.push({ names, sizeBytes });
    return this;
  }
  build(): Node {
    return Node.fromPartial(this.n);
  }
}

/** Starts a pod builder. */
export function pod(name: string, namespace = 'default'): PodBuilder {
  return new PodBuilder(name, namespace);
}

/** Starts a node builder. */
export function node(name: string): NodeBuilder {
  return new NodeBuilder(name);
}

/** A namespace. */
export function namespace(name: string, labels: Record<string, string> = {}): Namespace {
  return Namespace.fromPartial({ name, labels });
}

// ---------------------------------------------------------------------------
// Running one plugin the way upstream's plugin tests do.

/** A framework whose profile enables only `plugin` (and PrioritySort), with its args. */
export function singlePluginFramework(plugin: string, snapshot: SnapshotLister, args?: unknown): Framework {
  return frameworkWith([plugin], snapshot, args === undefined ? {} : { [plugin]: args });
}

/** A framework whose profile enables only these plugins (and PrioritySort), in this order, with their args. */
export function frameworkWith(plugins: readonly string[], snapshot: SnapshotLister, args: Readonly<Record<string, unknown>> = {}): Framework {
  const config = resolveSchedulerConfig(
    {
      profiles: [
        {
          plugins: { multiPoint: { enabled: [...new Set([PluginNames.PrioritySort, ...plugins])].map((name) => ({ name })), disabled: [{ name: '*' }] } },
          pluginConfig: Object.entries(args).map(([name, a]) => ({ name, args: a })),
        },
      ],
    },
    inTreeRegistry(),
  );
  return new Framework({ profile: config.profiles[0] as ResolvedProfile, registry: inTreeRegistry(), snapshot: () => snapshot });
}

const NEVER = new AbortController().signal;

/** PreFilter, then Filter on every node: each node's status (PreFilter's status for all when it rejects; Success for nodes a PreFilter result excludes is not used). */
export async function filterEach(fwk: Framework, p: Pod): Promise<{ preFilter: Status; statuses: Map<string, Status>; nodeNames: ReadonlySet<string> | undefined }> {
  const state = new CycleState();
  const info = newPodInfo(p);
  const pre = await fwk.runPreFilterPlugins(state, info, NEVER);
  const statuses = new Map<string, Status>();
  for (const n of fwk.snapshot().nodeInfos()) statuses.set(n.name, pre.status.isSuccess() ? fwk.runFilterPlugins(state, info, n) : pre.status);
  return { preFilter: pre.status, statuses, nodeNames: pre.nodeNames };
}

/** PreScore, Score and NormalizeScore over the named nodes (all by default): normalized scores before weights, in node order. */
export async function scoreEach(fwk: Framework, p: Pod, nodeNames?: readonly string[]): Promise<{ name: string; score: number }[]> {
  const state = new CycleState();
  const info = newPodInfo(p);
  const snapshot = fwk.snapshot();
  const nodes = nodeNames === undefined ? [...snapshot.nodeInfos()] : nodeNames.map((n) => snapshot.nodeInfo(n) as NodeInfo);
  await fwk.runPreScorePlugins(state, info, nodes, NEVER);
  return fwk.runScorePlugins(state, info, nodes).map((s) => ({ name: s.name, score: s.scores[0]?.score ?? 0 }));
}

/** Whether PreScore skipped the plugin for the pod. */
export async function preScoreSkips(fwk: Framework, p: Pod): Promise<boolean> {
  const state = new CycleState();
  await fwk.runPreScorePlugins(state, newPodInfo(p), fwk.snapshot().nodeInfos(), NEVER);
  return state.skipScorePlugins.size > 0;
}
