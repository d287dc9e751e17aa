// The workloads, in the style of upstream scheduler_perf
// (test/integration/scheduler_perf/config/performance-config.yaml): each says
// which pods a phase creates and what must be in place before them. A phase
// is one workload in one mode; its pods carry the label bench-phase=<phase>.
import type { V1Pod } from '@kubernetes/client-node';

export const WORKLOAD_NAMES = ['SchedulingBasic', 'TopologySpreadAntiAffinity', 'Unschedulable', 'Preemption', 'Gangs'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export const NAMESPACE = 'default';
export const PHASE_LABEL = 'bench-phase';
export const LOW_PRIORITY = 'bench-low';
export const HIGH_PRIORITY = 'bench-high';
/** Node allocatable CPU of the fake nodes (testkit DEFAULT_NODE_CAPACITY), milli-CPU. */
const NODE_MILLI_CPU = 4_000;
/** scheduler_perf's pod-default.yaml requests. */
const BASIC_REQUESTS = { cpu: '100m', memory: '500Mi' };
const GANG_SIZE = 10;
const ANTI_AFFINITY_GROUP = 10;

/** What a phase creates. */
export interface PhasePods {
  /** Bound to their nodes before the measured pods are created (spec.nodeName set: no scheduler involved). */
  readonly prebound: V1Pod[];
  /** Pods that fit nowhere, created before the measured ones; they must stay pending. */
  readonly unfit: V1Pod[];
  /** The pods whose scheduling is timed; each fits. */
  readonly measured: V1Pod[];
}

/** What a workload is given to build a phase. */
export interface PhaseContext {
  readonly phase: string;
  readonly schedulerName: string;
  readonly pods: number;
  readonly nodeNames: readonly string[];
  /** Pods of the initial set on each node (they take BASIC_REQUESTS each). */
  readonly initialPerNode: (node: string) => number;
  /** False where the scheduler has no gangs (kube-scheduler): gang members are then plain pods. */
  readonly gangs: boolean;
}

/** A workload of the benchmark. */
export interface Workload {
  readonly name: WorkloadName;
  /** One line on what it measures. */
  readonly summary: string;
  build(ctx: PhaseContext): PhasePods;
}

interface PodShape {
  readonly cpu?: string;
  readonly memory?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly spec?: Partial<NonNullable<V1Pod['spec']>>;
}

/** A pod of the phase; no kubelet runs, so the image is never pulled and deletion needs no grace. */
export function benchPod(name: string, ctx: Pick<PhaseContext, 'phase' | 'schedulerName'>, shape: PodShape = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'scheduling-bench', [PHASE_LABEL]: ctx.phase, ...shape.labels }, ...(shape.annotations ? { annotations: shape.annotations } : {}) },
    spec: {
      schedulerName: ctx.schedulerName,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: shape.cpu ?? BASIC_REQUESTS.cpu, memory: shape.memory ?? BASIC_REQUESTS.memory } } }],
      ...shape.spec,
    },
  };
}

const names = (ctx: PhaseContext, kind: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${ctx.phase}-${kind}-${i}`);
const basic = (ctx: PhaseContext): V1Pod[] => names(ctx, 'm', ctx.pods).map((n) => benchPod(n, ctx));
const none: V1Pod[] = [];

const schedulingBasic: Workload = {
  name: 'SchedulingBasic',
  summary: 'plain pods (100m, 500Mi) onto nodes with room',
  build: (ctx) => ({ prebound: none, unfit: none, measured: basic(ctx) }),
};

const topologySpreadAntiAffinity: Workload = {
  name: 'TopologySpreadAntiAffinity',
  summary: 'half the pods spread over zones (maxSkew 1, DoNotSchedule), half with required hostname anti-affinity in groups of 10',
  build: (ctx) => ({
    prebound: none,
    unfit: none,
    measured: names(ctx, 'm', ctx.pods).map((n, i) => {
      if (i % 2 === 0) {
        const labels = { 'bench-spread': ctx.phase };
        return benchPod(n, ctx, {
          labels,
          spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }] },
        });
      }
      const labels = { 'bench-anti': `${ctx.phase}-${Math.floor(i / (2 * ANTI_AFFINITY_GROUP))}` };
      return benchPod(n, ctx, {
        labels,
        spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: labels } }] } } },
      });
    }),
  }),
};

const unschedulable: Workload = {
  name: 'Unschedulable',
  summary: 'a tenth as many pods that fit nowhere (64 CPU) created first, then the measured pods that fit',
  build: (ctx) => ({
    prebound: none,
    unfit: names(ctx, 'u', Math.max(1, Math.round(ctx.pods / 10))).map((n) => benchPod(n, ctx, { cpu: '64' })),
    measured: basic(ctx),
  }),
};

/**
 * Every node full of one low-priority pod; each measured pod is as big, so it
 * binds only after evicting one (upstream's PreemptionBasic shape). At most
 * one measured pod per node.
 */
const preemption: Workload = {
  name: 'Preemption',
  summary: 'each node full of one low-priority pod; each measured high-priority pod evicts one (at most one per node)',
  build: (ctx) => {
    const size = (node: string): number => NODE_MILLI_CPU - 100 * ctx.initialPerNode(node) - 50;
    const smallest = Math.min(...ctx.nodeNames.map(size));
    const prebound = ctx.nodeNames.map((node, i) =>
      benchPod(`${ctx.phase}-low-${i}`, ctx, { cpu: `${size(node)}m`, memory: '64Mi', spec: { nodeName: node, priorityClassName: LOW_PRIORITY } }),
    );
    const measured = names(ctx, 'm', Math.min(ctx.pods, ctx.nodeNames.length)).map((n) =>
      benchPod(n, ctx, { cpu: `${smallest}m`, memory: '64Mi', spec: { priorityClassName: HIGH_PRIORITY } }),
    );
    return { prebound, unfit: none, measured };
  },
};

const gangs: Workload = {
  name: 'Gangs',
  summary: `gangs of ${GANG_SIZE} (scheduling.x-k8s.io/pod-group label, schedmesh.io/pod-group-min-member ${GANG_SIZE}); kube-scheduler has no gangs: its rows run the same pods as plain pods`,
  build: (ctx) => ({
    prebound: none,
    unfit: none,
    measured: names(ctx, 'm', ctx.pods).map((n, i) =>
      ctx.gangs
        ? benchPod(n, ctx, {
            labels: { 'scheduling.x-k8s.io/pod-group': `${ctx.phase}-g${Math.floor(i / GANG_SIZE)}` },
            annotations: { 'schedmesh.io/pod-group-min-member': String(Math.min(GANG_SIZE, ctx.pods - GANG_SIZE * Math.floor(i / GANG_SIZE))) },
          })
        : benchPod(n, ctx),
    ),
  }),
};

export const WORKLOADS: Readonly<Record<WorkloadName, Workload>> = {
  SchedulingBasic: schedulingBasic,
  TopologySpreadAntiAffinity: topologySpreadAntiAffinity,
  Unschedulable: unschedulable,
  Preemption: preemption,
  Gangs: gangs,
};
