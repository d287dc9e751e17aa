// Preemption cases: every node full enough that the pending pod, of a higher
// priority and with preemptionPolicy PreemptLowerPriority, fits nowhere
// without evictions, but fits on the largest nodes once lower-priority pods
// go. The bound pods of a node have distinct priorities (several levels, one
// of them as high as the preemptor's, so never a victim): upstream breaks
// equal priorities by start time, which pods without a kubelet do not have.
// Half the cases hold a PodDisruptionBudget over one app, its
// disruptionsAllowed 0 or 1 (set through the status subresource: no
// disruption controller runs here).
import type { V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { FakeNodeSpec } from '@schedmesh/testkit';
import { CASE_GATE, CASE_NAMESPACE } from './case.js';
import type { FidelityCase } from './case.js';
import type { Prng } from './prng.js';

/** The preemptor's PriorityClass (PreemptLowerPriority). */
export const PREEMPTOR_CLASS = { name: 'fidelity-preemptor', value: 1000 } as const;
/** Whether a case's pending pod may preempt (a preemption case). */
export function isPreemptionCase(c: FidelityCase): boolean {
  return c.pending.spec?.priorityClassName === PREEMPTOR_CLASS.name;
}

/** Victim levels; fidelity-high (1000, created with the others) is as high as the preemptor's and never a victim. */
export const VICTIM_CLASSES: Readonly<Record<string, number>> = { 'fidelity-victim-1': 1, 'fidelity-victim-2': 2, 'fidelity-victim-3': 3, 'fidelity-victim-4': 4 };
const LEVELS = [...Object.keys(VICTIM_CLASSES), 'fidelity-high'];
const APPS = ['web', 'db', 'cache'];
const POD_CPU_MILLIS = [250, 500, 1000];

/** The preemption case `name` (cases of 5 to at most 12 nodes: preemption is compared on small clusters). */
export function generatePreemptionCase(rng: Prng, name: string, options: { minNodes: number; maxNodes: number }): FidelityCase {
  const count = rng.int(options.minNodes, Math.max(options.minNodes, Math.min(options.maxNodes, 12)));
  const width = String(count - 1).length;
  const nodes: FakeNodeSpec[] = Array.from({ length: count }, (_, i) => ({
    name: `${name}-n${String(i).padStart(width, '0')}`,
    zone: `zone-${String.fromCharCode(97 + rng.int(0, 1))}`,
    capacity: { cpu: rng.pick(['2', '4']), memory: '8Gi', pods: '110' },
  }));
  const existing: V1Pod[] = [];
  let maxFree = 0;
  nodes.forEach((node, i) => {
    const capacity = Number(node.capacity?.cpu) * 1000;
    let used = 0;
    rng.sample(LEVELS, rng.int(1, LEVELS.length)).forEach((level, j) => {
      const cpu = Math.min(rng.pick(POD_CPU_MILLIS), capacity - used);
      if (cpu <= 0) return;
      used += cpu;
      existing.push(boundPod(`${name}-p${i}-${j}`, node.name, level, rng.pick(APPS), cpu));
    });
    maxFree = Math.max(maxFree, capacity - used);
  });
  const maxCapacity = Math.max(...nodes.map((n) => Number(n.capacity?.cpu) * 1000));
  const pendingCpu = Math.min(maxFree + rng.pick(POD_CPU_MILLIS), maxCapacity);
  const budgets = rng.chance(0.5) ? [budget(`${name}-pdb`, rng.pick(APPS), rng.int(0, 1))] : [];
  return { name, nodes, existing, pending: pendingPod(`${name}-pending`, pendingCpu), ...(budgets.length > 0 ? { budgets } : {}) };
}

function boundPod(name: string, nodeName: string, priorityClassName: string, app: string, cpuMillis: number): V1Pod {
  return {
    metadata: { name, namespace: CASE_NAMESPACE, labels: { app } },
    spec: { nodeName, priorityClassName, containers: [{ name: 'main', image: 'registry.invalid/tiny:1', resources: { requests: { cpu: `${cpuMillis}m`, memory: '64Mi' } } }] },
  };
}

function pendingPod(name: string, cpuMillis: number): V1Pod {
  return {
    metadata: { name, namespace: CASE_NAMESPACE, labels: { app: 'preemptor' } },
    spec: {
      schedulingGates: [{ name: CASE_GATE }],
      priorityClassName: PREEMPTOR_CLASS.name,
      containers: [{ name: 'main', image: 'registry.invalid/tiny:1', resources: { requests: { cpu: `${cpuMillis}m`, memory: '64Mi' } } }],
    },
  };
}

/** A budget over `app`; the runner writes `status` through the status subresource after creating it. */
function budget(name: string, app: string, disruptionsAllowed: number): V1PodDisruptionBudget {
  return {
    metadata: { name, namespace: CASE_NAMESPACE },
    spec: { maxUnavailable: 0, selector: { matchLabels: { app } } },
    status: { disruptionsAllowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  };
}
