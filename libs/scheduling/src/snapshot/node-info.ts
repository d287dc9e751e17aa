/**
 * MutableNodeInfo: the one implementation of the contract's NodeInfo (upstream
 * framework.NodeInfo), a node with what is scheduled onto it aggregated.
 * Plugins read it through the readonly NodeInfo interface; only the snapshot
 * (between cycles) and simulations on their own clones (preemption, nominated
 * pods) change it.
 */
import { hasPodAffinityTerms } from '@schedmesh/framework';
import type { HostPortUsage, PodInfo, SimulatedNodeInfo } from '@schedmesh/framework';
import { addInto, subtractInto, zeroResources } from '@schedmesh/model';
import { Protocol } from '@schedmesh/proto/v1/types';
import type { HostPort, Node, Pod, Resources } from '@schedmesh/proto/v1/types';
import { newPodInfo } from './pod-info.js';

/** The address a host port binds when it names none. */
export const BIND_ALL_HOST_IP = '0.0.0.0';

function protocolKey(protocol: Protocol, port: number): string {
  return `${protocol === Protocol.PROTOCOL_UNSPECIFIED ? Protocol.PROTOCOL_TCP : protocol}/${port}`;
}

/** Mutable host-port bookkeeping. */
export class HostPortSet implements HostPortUsage {
  private readonly byIp = new Map<string, Map<string, number>>();
  private entries = 0;

  get size(): number {
    return this.entries;
  }

  add(port: HostPort): void {
    if (port.port <= 0) return;
    const ip = port.hostIp === '' ? BIND_ALL_HOST_IP : port.hostIp;
    let m = this.byIp.get(ip);
    if (m === undefined) {
      m = new Map();
      this.byIp.set(ip, m);
    }
    const key = protocolKey(port.protocol, port.port);
    const n = m.get(key) ?? 0;
    if (n === 0) this.entries++;
    m.set(key, n + 1);
  }

  remove(port: HostPort): void {
    if (port.port <= 0) return;
    const ip = port.hostIp === '' ? BIND_ALL_HOST_IP : port.hostIp;
    const m = this.byIp.get(ip);
    const key = protocolKey(port.protocol, port.port);
    const n = m?.get(key);
    if (m === undefined || n === undefined) return;
    if (n <= 1) {
      m.delete(key);
      this.entries--;
      if (m.size === 0) this.byIp.delete(ip);
    } else m.set(key, n - 1);
  }

  conflicts(port: HostPort): boolean {
    if (port.port <= 0 || this.entries === 0) return false;
    const ip = port.hostIp === '' ? BIND_ALL_HOST_IP : port.hostIp;
    const key = protocolKey(port.protocol, port.port);
    if (ip === BIND_ALL_HOST_IP) {
      for (const m of this.byIp.values()) if (m.has(key)) return true;
      return false;
    }
    return this.byIp.get(BIND_ALL_HOST_IP)?.has(key) === true || this.byIp.get(ip)?.has(key) === true;
  }

  clone(): HostPortSet {
    const copy = new HostPortSet();
    for (const [ip, m] of this.byIp) copy.byIp.set(ip, new Map(m));
    copy.entries = this.entries;
    return copy;
  }
}

const EMPTY: readonly PodInfo[] = Object.freeze([]);
// Process-local: a revision only says "changed since", never "which stream event".
let revisionCounter = 0;

function imageSizesOf(node: Node): Map<string, number> {
  const out = new Map<string, number>();
  for (const image of node.images) for (const name of image.names) out.set(name, image.sizeBytes);
  return out;
}

/** A NodeInfo that the snapshot and simulations can change. */
export class MutableNodeInfo implements SimulatedNodeInfo {
  node: Node;
  pods: PodInfo[] = [];
  podsWithAffinity: readonly PodInfo[] = EMPTY;
  podsWithRequiredAntiAffinity: readonly PodInfo[] = EMPTY;
  readonly requested: Resources = zeroResources();
  readonly nonZeroRequested: Resources = zeroResources();
  usedPorts: HostPortSet = new HostPortSet();
  imageSizes: ReadonlyMap<string, number>;
  revision = ++revisionCounter;
  /** The stream generation of the event that last changed the node; the snapshot sets it. */
  generation = 0;

  constructor(node: Node) {
    this.node = node;
    this.imageSizes = imageSizesOf(node);
  }

  get name(): string {
    return this.node.name;
  }

  get allocatable(): Readonly<Resources> {
    return this.node.allocatable ?? ZERO;
  }

  /** Replaces the Node object (labels, taints, allocatable...), keeping the pods. */
  setNode(node: Node): void {
    if (node.images !== this.node.images) this.imageSizes = imageSizesOf(node);
    this.node = node;
    this.revision = ++revisionCounter;
  }

  /** Adds a pod (its uid must not be present). */
  addPod(info: PodInfo): void {
    this.pods.push(info);
    if (hasPodAffinityTerms(info)) {
      this.podsWithAffinity = [...this.podsWithAffinity, info];
      if (info.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity, info];
    }
    const pod = info.pod;
    if (pod.requests !== undefined) addInto(this.requested, pod.requests);
    if (pod.nonZeroRequests !== undefined) addInto(this.nonZeroRequested, pod.nonZeroRequests);
    for (const port of pod.hostPorts) this.usedPorts.add(port);
    this.countPods();
    this.revision = ++revisionCounter;
  }

  /** Removes a pod by uid; false when it was not there. */
  removePod(uid: string): boolean {
    const i = this.pods.findIndex((p) => p.pod.uid === uid);
    if (i < 0) return false;
    const info = this.pods[i] as PodInfo;
    this.pods.splice(i, 1);
    if (hasPodAffinityTerms(info)) {
      this.podsWithAffinity = this.podsWithAffinity.filter((p) => p !== info);
      if (info.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p !== info);
    }
    const pod = info.pod;
    if (pod.requests !== undefined) subtractInto(this.requested, pod.requests);
    if (pod.nonZeroRequests !== undefined) subtractInto(this.nonZeroRequested, pod.nonZeroRequests);
    for (const port of pod.hostPorts) this.usedPorts.remove(port);
    this.countPods();
    this.revision = ++revisionCounter;
    return true;
  }

  // A pod always takes one pod slot, whatever its requests say.
  private countPods(): void {
    this.requested.pods = this.pods.length;
    this.nonZeroRequested.pods = this.pods.length;
  }

  /** A deep-enough copy for a simulation: pods, sums and ports are copied; pod messages are shared. */
  clone(): MutableNodeInfo {
    const copy = new MutableNodeInfo(this.node);
    copy.imageSizes = this.imageSizes;
    copy.pods = [...this.pods];
    copy.podsWithAffinity = this.podsWithAffinity;
    copy.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity;
    Object.assign(copy.requested, this.requested, { scalar: { ...this.requested.scalar } });
    Object.assign(copy.nonZeroRequested, this.nonZeroRequested, { scalar: { ...this.nonZeroRequested.scalar } });
    copy.usedPorts = this.usedPorts.clone();
    copy.revision = this.revision;
    copy.generation = this.generation;
    return copy;
  }
}

const ZERO: Resources = Object.freeze({ milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: Object.freeze({}) });

/** A NodeInfo built from a node and its pods (tests, tools). */
export function buildNodeInfo(node: Node, pods: readonly Pod[] = []): MutableNodeInfo {
  const info = new MutableNodeInfo(node);
  for (const pod of pods) info.addPod(newPodInfo(pod));
  return info;
}
