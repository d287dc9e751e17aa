// The seeded case generator: clusters with zone/rack/hostname labels, taints,
// allocatable cpu/memory/pods and an extended resource, images, bound pods
// with requests, ports, labels and (anti-)affinity; and one pending pod with
// requests, nodeSelector, node affinity, tolerations, topology spread, pod
// (anti-)affinity, host ports, images and a priority. Some cases cannot be
// placed on purpose (too large, selectors nothing matches, taints). The same
// seed and index give the same case.
import type { V1Affinity, V1Container, V1LabelSelector, V1NodeSelectorRequirement, V1Pod, V1PodAffinityTerm, V1Taint, V1Toleration, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import type { FakeNodeImage, FakeNodeSpec } from '@schedmesh/testkit';
import { CASE_GATE, CASE_NAMESPACE, FOREIGN_SCHEDULER } from './case.js';
import type { FidelityCase } from './case.js';
import { generatePreemptionCase } from './preemption-generator.js';
import { Prng } from './prng.js';

/** The extended resource some nodes offer. */
export const GPU = 'example.com/gpu';
export const ZONE_KEY = 'topology.kubernetes.io/zone';
export const RACK_KEY = 'schedmesh.io/rack';
export const HOST_KEY = 'kubernetes.io/hostname';
/** PriorityClasses the runner creates; all with preemptionPolicy Never, so a refusal reads the same whatever preemption would do. */
export const PRIORITY_CLASSES: Readonly<Record<string, number>> = { 'fidelity-low': 10, 'fidelity-mid': 100, 'fidelity-high': 1000 };

/** The share of cases that are preemption cases (preemption-generator.ts). */
const PREEMPTION_SHARE = 0.2;
const PREEMPTION_STREAM = 0x5bd1e995;

/** How big the clusters get. */
export interface GeneratorOptions {
  readonly minNodes: number;
  readonly maxNodes: number;
}

const IMAGES: readonly FakeNodeImage[] = [
  { names: ['registry.invalid/web:1'], sizeBytes: 180 * 1024 ** 2 },
  { names: ['registry.invalid/db:2'], sizeBytes: 900 * 1024 ** 2 },
  { names: ['registry.invalid/ml:3'], sizeBytes: 1_600 * 1024 ** 2 },
  { names: ['registry.invalid/tiny:1'], sizeBytes: 12 * 1024 ** 2 },
  { names: ['registry.invalid/batch:4'], sizeBytes: 450 * 1024 ** 2 },
];
const APPS = ['web', 'db', 'cache', 'batch'];
const TAINT_KEYS = ['dedicated', 'gpu', 'maintenance'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const CPU = ['100m', '250m', '500m', '1', '2'];
const MEMORY = ['64Mi', '256Mi', '512Mi', '1Gi', '2Gi'];
const TOPOLOGY_KEYS = [ZONE_KEY, RACK_KEY, HOST_KEY];

/** The case `index` of `seed`. */
export function generateCase(seed: number, index: number, options: GeneratorOptions): FidelityCase {
  // One stream per case, so a case does not depend on the ones before it.
  const stream = (Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  const name = `s${seed}-c${String(index).padStart(4, '0')}`;
  // The case's kind from a stream of its own, so the other cases of a seed stay what they were before preemption cases.
  if (new Prng(stream ^ PREEMPTION_STREAM).chance(PREEMPTION_SHARE)) return generatePreemptionCase(new Prng(stream), name, options);
  const rng = new Prng(stream);
  const nodes = generateNodes(rng, name, options);
  const existing = nodes.flatMap((node, i) => generateBoundPods(rng, `${name}-p${i}`, node));
  const pending = generatePendingPod(rng, `${name}-pending`, nodes);
  // Drawn last, so that the rest of a case is the same with or without them.
  const nominated = rng.chance(0.2) ? generateNominatedPods(rng, `${name}-nom`, nodes) : [];
  return { name, nodes, existing, pending, ...(nominated.length > 0 ? { nominated } : {}) };
}

// Pods another scheduler's preemption placed: unbound, nominated to a node, of the highest priority.
function generateNominatedPods(rng: Prng, prefix: string, nodes: readonly FakeNodeSpec[]): V1Pod[] {
  return Array.from({ length: rng.int(1, 2) }, (_, j) => ({
    metadata: { name: `${prefix}-${j}`, namespace: CASE_NAMESPACE, labels: { app: rng.pick(APPS) } },
    spec: {
      schedulerName: FOREIGN_SCHEDULER,
      priorityClassName: 'fidelity-high',
      containers: [container(rng, { cpu: rng.pick(['1', '2', '4']), memory: rng.pick(['1Gi', '4Gi', '8Gi']) })],
    },
    status: { nominatedNodeName: rng.pick(nodes).name },
  }));
}

/** `count` cases of `seed`, from index 0. */
export function generateCases(seed: number, count: number, options: GeneratorOptions): FidelityCase[] {
  return Array.from({ length: count }, (_, i) => generateCase(seed, i, options));
}

function generateNodes(rng: Prng, caseName: string, options: GeneratorOptions): FakeNodeSpec[] {
  const count = rng.int(options.minNodes, options.maxNodes);
  const zones = rng.int(1, 4);
  const racks = rng.int(1, 3);
  const width = String(count - 1).length;
  return Array.from({ length: count }, (_, i) => {
    const zone = `zone-${String.fromCharCode(97 + rng.int(0, zones - 1))}`;
    const gpus = rng.chance(0.2) ? rng.int(1, 8) : 0;
    const capacity: Record<string, string> = {
      cpu: rng.pick(['2', '4', '8', '16']),
      memory: rng.pick(['4Gi', '8Gi', '16Gi', '32Gi']),
      pods: rng.pick(['4', '16', '110']),
      ...(gpus > 0 ? { [GPU]: String(gpus) } : {}),
    };
    const taints: V1Taint[] = rng.chance(0.25) ? [{ key: rng.pick(TAINT_KEYS), value: rng.pick(['a', 'b']), effect: rng.pick(TAINT_EFFECTS) }] : [];
    return {
      name: `${caseName}-n${String(i).padStart(width, '0')}`,
      zone,
      rack: `${zone}-rack-${rng.int(0, racks - 1)}`,
      capacity,
      labels: { disktype: rng.pick(['ssd', 'hdd']), gen: String(rng.int(1, 5)) },
      taints,
      ...(rng.chance(0.05) ? { unschedulable: true } : {}),
      images: rng.sample(IMAGES, rng.int(0, 3)),
    };
  });
}

function selectorOf(app: string): V1LabelSelector {
  return { matchLabels: { app } };
}

function container(rng: Prng, opts: { cpu: string; memory: string; gpu?: number; hostPort?: number }): V1Container {
  const requests: Record<string, string> = { cpu: opts.cpu, memory: opts.memory, ...(opts.gpu ? { [GPU]: String(opts.gpu) } : {}) };
  return {
    name: 'main',
    image: rng.pick(IMAGES).names[0],
    // An extended resource must be requested and limited alike.
    resources: { requests, ...(opts.gpu ? { limits: { [GPU]: String(opts.gpu) } } : {}) },
    ...(opts.hostPort ? { ports: [{ containerPort: opts.hostPort, hostPort: opts.hostPort, protocol: 'TCP' }] } : {}),
  };
}

function generateBoundPods(rng: Prng, prefix: string, node: FakeNodeSpec): V1Pod[] {
  const gpus = Number(node.capacity?.[GPU] ?? 0);
  return Array.from({ length: rng.int(0, 4) }, (_, j) => {
    const app = rng.pick(APPS);
    const affinity: V1Affinity | undefined = rng.chance(0.1)
      ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: selectorOf(rng.pick(APPS)), topologyKey: rng.pick(TOPOLOGY_KEYS) }] } }
      : rng.chance(0.1)
        ? { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: rng.int(1, 100), podAffinityTerm: { labelSelector: selectorOf(rng.pick(APPS)), topologyKey: rng.pick(TOPOLOGY_KEYS) } }] } }
        : undefined;
    return {
      metadata: { name: `${prefix}-${j}`, namespace: CASE_NAMESPACE, labels: { app } },
      spec: {
        nodeName: node.name,
        priorityClassName: rng.pick(Object.keys(PRIORITY_CLASSES)),
        containers: [container(rng, { cpu: rng.pick(CPU), memory: rng.pick(MEMORY), gpu: gpus > 0 && rng.chance(0.4) ? 1 : 0, hostPort: rng.chance(0.1) ? rng.pick([8080, 9090]) : 0 })],
        ...(affinity ? { affinity } : {}),
      },
    };
  });
}

function nodeRequirement(rng: Prng, nodes: readonly FakeNodeSpec[]): V1NodeSelectorRequirement {
  const zones = [...new Set(nodes.map((n) => n.zone ?? ''))];
  switch (rng.int(0, 5)) {
    case 0:
      return { key: ZONE_KEY, operator: 'In', values: rng.sample(zones, rng.int(1, 2)) };
    case 1:
      return { key: ZONE_KEY, operator: 'NotIn', values: rng.sample(zones, 1) };
    case 2:
      return { key: 'disktype', operator: rng.pick(['Exists', 'DoesNotExist']) };
    case 3:
      return { key: 'gen', operator: rng.pick(['Gt', 'Lt']), values: [String(rng.int(1, 5))] };
    case 4:
      return { key: 'disktype', operator: 'In', values: [rng.pick(['ssd', 'hdd', 'nvme'])] };
    default:
      return { key: RACK_KEY, operator: 'In', values: [rng.pick(nodes).rack ?? ''] };
  }
}

function toleration(rng: Prng): V1Toleration {
  const key = rng.pick(TAINT_KEYS);
  if (rng.chance(0.3)) return { key, operator: 'Exists', ...(rng.chance(0.5) ? { effect: rng.pick(TAINT_EFFECTS) } : {}) };
  return { key, operator: 'Equal', value: rng.pick(['a', 'b']), ...(rng.chance(0.7) ? { effect: rng.pick(TAINT_EFFECTS) } : {}) };
}

function spreadConstraint(rng: Prng, app: string): V1TopologySpreadConstraint {
  const hard = rng.chance(0.5);
  return {
    maxSkew: rng.int(1, 2),
    topologyKey: rng.pick(TOPOLOGY_KEYS),
    whenUnsatisfiable: hard ? 'DoNotSchedule' : 'ScheduleAnyway',
    labelSelector: selectorOf(rng.chance(0.7) ? app : rng.pick(APPS)),
    ...(hard && rng.chance(0.3) ? { minDomains: rng.int(1, 5) } : {}),
    ...(rng.chance(0.3) ? { nodeAffinityPolicy: rng.pick(['Honor', 'Ignore']) } : {}),
    ...(rng.chance(0.3) ? { nodeTaintsPolicy: rng.pick(['Honor', 'Ignore']) } : {}),
  };
}

function podTerm(rng: Prng): V1PodAffinityTerm {
  return { labelSelector: selectorOf(rng.pick(APPS)), topologyKey: rng.pick(TOPOLOGY_KEYS) };
}

function pendingAffinity(rng: Prng, nodes: readonly FakeNodeSpec[]): V1Affinity | undefined {
  const affinity: V1Affinity = {};
  if (rng.chance(0.2) || rng.chance(0.3)) {
    affinity.nodeAffinity = {
      ...(rng.chance(0.5) ? { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: Array.from({ length: rng.int(1, 2) }, () => ({ matchExpressions: [nodeRequirement(rng, nodes)] })) } } : {}),
      ...(rng.chance(0.6) ? { preferredDuringSchedulingIgnoredDuringExecution: Array.from({ length: rng.int(1, 2) }, () => ({ weight: rng.int(1, 100), preference: { matchExpressions: [nodeRequirement(rng, nodes)] } })) } : {}),
    };
  }
  if (rng.chance(0.3)) {
    affinity.podAffinity = {
      ...(rng.chance(0.5) ? { requiredDuringSchedulingIgnoredDuringExecution: [podTerm(rng)] } : {}),
      ...(rng.chance(0.7) ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: rng.int(1, 100), podAffinityTerm: podTerm(rng) }] } : {}),
    };
  }
  if (rng.chance(0.3)) {
    affinity.podAntiAffinity = {
      ...(rng.chance(0.5) ? { requiredDuringSchedulingIgnoredDuringExecution: [podTerm(rng)] } : {}),
      ...(rng.chance(0.7) ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: rng.int(1, 100), podAffinityTerm: podTerm(rng) }] } : {}),
    };
  }
  return Object.keys(affinity).length > 0 ? affinity : undefined;
}

function generatePendingPod(rng: Prng, name: string, nodes: readonly FakeNodeSpec[]): V1Pod {
  const app = rng.pick(APPS);
  // About one case in six asks for more than most nodes have.
  const big = rng.chance(0.15);
  const main = container(rng, {
    cpu: big ? rng.pick(['6', '12', '20']) : rng.pick(CPU),
    memory: big ? rng.pick(['12Gi', '24Gi', '40Gi']) : rng.pick(MEMORY),
    gpu: rng.chance(0.15) ? rng.int(1, 4) : 0,
    hostPort: rng.chance(0.15) ? rng.pick([8080, 9090]) : 0,
  });
  const sidecars = rng.chance(0.3) ? [{ ...container(rng, { cpu: rng.pick(CPU), memory: rng.pick(MEMORY) }), name: 'sidecar' }] : [];
  const affinity = pendingAffinity(rng, nodes);
  const tolerations = rng.chance(0.35) ? Array.from({ length: rng.int(1, 2) }, () => toleration(rng)) : [];
  const spread = rng.chance(0.3) ? Array.from({ length: rng.int(1, 2) }, () => spreadConstraint(rng, app)) : [];
  return {
    metadata: { name, namespace: CASE_NAMESPACE, labels: { app } },
    spec: {
      schedulingGates: [{ name: CASE_GATE }],
      priorityClassName: rng.pick(Object.keys(PRIORITY_CLASSES)),
      containers: [main, ...sidecars],
      ...(rng.chance(0.2) ? { nodeSelector: rng.chance(0.5) ? { disktype: rng.pick(['ssd', 'hdd']) } : { [ZONE_KEY]: rng.pick(nodes).zone ?? '' } } : {}),
      ...(affinity ? { affinity } : {}),
      ...(tolerations.length > 0 ? { tolerations } : {}),
      ...(spread.length > 0 ? { topologySpreadConstraints: uniqueSpread(spread) } : {}),
    },
  };
}

// The API server refuses two constraints with the same topologyKey and whenUnsatisfiable.
function uniqueSpread(constraints: readonly V1TopologySpreadConstraint[]): V1TopologySpreadConstraint[] {
  const seen = new Set<string>();
  return constraints.filter((c) => {
    const key = `${c.topologyKey}/${c.whenUnsatisfiable}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
