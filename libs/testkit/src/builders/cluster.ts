import { milliValue, value } from '@schedmesh/model';
import { ClusterEvent, ClusterEventType, Node, Pod, PodPhase, TaintEffect } from '@schedmesh/proto/v1/types';
import type { HostPort, Resources } from '@schedmesh/proto/v1/types';

function resources(cpu: string, memory: string, pods = 0, scalar: Record<string, number> = {}): Resources {
  return { milliCpu: milliValue(cpu), memory: value(memory), ephemeralStorage: 0, pods, scalar };
}

/** Builds a proto Node: `makeNode('n1').capacity('4', '8Gi').zone('a').build()`. */
export class NodeBuilder {
  private readonly node: Node;
  constructor(name: string) {
    this.node = Node.fromPartial({
      name,
      uid: `uid-${name}`,
      resourceVersion: '1',
      ready: true,
      allocatable: resources('4', '16Gi', 110),
      capacity: resources('4', '16Gi', 110),
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      labels: { 'kubernetes.io/hostname': name },
    });
  }
  /** Allocatable (and capacity) CPU, memory, pod count and extended resources. */
  capacity(cpu: string, memory: string, pods = 110, scalar: Record<string, number> = {}): this {
    this.node.allocatable = resources(cpu, memory, pods, scalar);
    this.node.capacity = resources(cpu, memory, pods, scalar);
    return this;
  }
  zone(zone: string): this {
    this.node.zone = zone;
    this.node.labels['topology.kubernetes.io/zone'] = zone;
    return this;
  }
  rack(rack: string): this {
    this.node.rack = rack;
    this.node.labels['schedmesh.io/rack'] = rack;
    return this;
  }
  pool(pool: string): this {
    this.node.pool = pool;
    this.node.labels['schedmesh.io/node-pool'] = pool;
    return this;
  }
  label(key: string, value: string): this {
    this.node.labels[key] = value;
    return this;
  }
  taint(key: string, value: string, effect: TaintEffect = TaintEffect.TAINT_EFFECT_NO_SCHEDULE): this {
    this.node.taints.push({ key, value, effect });
    return this;
  }
  notReady(): this {
    this.node.ready = false;
    this.node.conditions = [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }];
    return this;
  }
  cordoned(): this {
    this.node.unschedulable = true;
    return this;
  }
  version(resourceVersion: string): this {
    this.node.resourceVersion = resourceVersion;
    return this;
  }
  build(): Node {
    return Node.fromPartial(this.node);
  }
}

/** Builds a proto Pod: `makePod('web-0').requests('500m', '1Gi').on('n1').build()`. */
export class PodBuilder {
  private readonly pod: Pod;
  constructor(name: string, namespace = 'default') {
    this.pod = Pod.fromPartial({
      uid: `uid-${namespace}-${name}`,
      namespace,
      name,
      resourceVersion: '1',
      creationTime: new Date(0),
      phase: PodPhase.POD_PHASE_PENDING,
      requests: resources('0', '0'),
      nonZeroRequests: resources('100m', '200Mi'),
    });
  }
  /** The effective request (and the non-zero request for scoring). */
  requests(cpu: string, memory: string, scalar: Record<string, number> = {}): this {
    this.pod.requests = resources(cpu, memory, 0, scalar);
    this.pod.nonZeroRequests = resources(cpu === '0' ? '100m' : cpu, memory === '0' ? '200Mi' : memory, 0, scalar);
    return this;
  }
  /** Binds the pod to a node (phase Running). */
  on(nodeName: string): this {
    this.pod.nodeName = nodeName;
    this.pod.phase = PodPhase.POD_PHASE_RUNNING;
    return this;
  }
  phase(phase: PodPhase): this {
    this.pod.phase = phase;
    return this;
  }
  uid(uid: string): this {
    this.pod.uid = uid;
    return this;
  }
  label(key: string, value: string): this {
    this.pod.labels[key] = value;
    return this;
  }
  priority(priority: number): this {
    this.pod.priority = priority;
    return this;
  }
  hostPort(port: number, hostIp = ''): this {
    this.pod.hostPorts.push({ port, protocol: 1, hostIp } satisfies HostPort);
    return this;
  }
  schedulerName(name: string): this {
    this.pod.schedulerName = name;
    return this;
  }
  version(resourceVersion: string): this {
    this.pod.resourceVersion = resourceVersion;
    return this;
  }
  build(): Pod {
    return Pod.fromPartial(this.pod);
  }
}

/** Starts a node builder. */
export function makeNode(name: string): NodeBuilder {
  return new NodeBuilder(name);
}

/** Starts a pod builder. */
export function makePod(name: string, namespace = 'default'): PodBuilder {
  return new PodBuilder(name, namespace);
}

/** An UPSERT (or DELETE) event for a node or a pod. */
export function clusterEvent(object: Node | Pod, type: 'upsert' | 'delete' = 'upsert', generation = 0): ClusterEvent {
  const t = type === 'delete' ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
  return 'namespace' in object
    ? ClusterEvent.fromPartial({ generation, type: t, object: { $case: 'pod', value: object } })
    : ClusterEvent.fromPartial({ generation, type: t, object: { $case: 'node', value: object } });
}
