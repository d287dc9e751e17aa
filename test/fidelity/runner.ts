// The side-by-side runner. One real control plane (etcd + kube-apiserver), the
// stock kube-scheduler at -v=10 with the profile of profile.ts, and schedmesh's
// mesh in process (informer → NATS → snapshot → filterscore) with the same
// profile from its profiles ConfigMap. Per case: create the nodes, the bound
// pods and the pending pod (held by a scheduling gate), wait until both
// schedulers' caches hold exactly the case, ask filterscore's Evaluate (every
// node, per-plugin scores), lift the gate, read kube-scheduler's decision and
// score lines, and clear the case away again (on both sides).
import { ApiException, CoreV1Api, PolicyV1Api, SchedulingV1Api } from '@kubernetes/client-node';
import type { V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import type { EvaluateResponse, FindPreemptionCandidatesResponse } from '@schedmesh/proto/v1/filterscore';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import { createFakeNodes, deleteFakeNodes, fakeNodeObject, httpGet, pollUntil, startKubeScheduler } from '@schedmesh/testkit';
import type { ControlPlane, KubeScheduler } from '@schedmesh/testkit';
import { stringify } from 'yaml';
import { startE2eControlPlane, startE2eMesh } from '../e2e/mesh.js';
import type { E2eMesh } from '../e2e/mesh.js';
import { CASE_GATE, CASE_NAMESPACE } from './case.js';
import type { FidelityCase } from './case.js';
import { PRIORITY_CLASSES } from './generator.js';
import { LogFollower, parseScoreLines, preemptionFinished } from './kube-log.js';
import type { LoggedScores } from './kube-log.js';
import { isPreemptionCase, PREEMPTOR_CLASS, VICTIM_CLASSES } from './preemption-generator.js';
import { kubeSchedulerProfile, schedmeshProfile } from './profile.js';

/** The API server refused an object of a case: a generator bug, never skipped. */
export class CaseRefusedError extends Error {
  override readonly name = 'CaseRefusedError';
  constructor(
    readonly caseName: string,
    readonly object: unknown,
    readonly apiMessage: string,
  ) {
    super(`case ${caseName}: the API server refused an object (a generator bug): ${apiMessage}\n${stringify(object)}`);
  }
}

/** kube-scheduler's decision on a case's pod. */
export interface KubeOutcome {
  /** The node it bound the pod to; undefined if it refused. */
  readonly node: string | undefined;
  /** The PodScheduled=False message when it refused. */
  readonly message: string | undefined;
  readonly scores: LoggedScores;
}

/** What kube-scheduler's preemption did for a case's pod. */
export interface KubePreemption {
  /** The pod's status.nominatedNodeName; undefined when it found no candidate. */
  readonly nominatedNode: string | undefined;
  /** The case's bound pods it deleted (deletionTimestamp set, or gone), sorted. */
  readonly victims: readonly string[];
}

/** Both sides' preemption of a preemption case's pod. */
export interface PreemptionSideBySide {
  readonly kube: KubePreemption;
  /** filterscore's candidate search (FindPreemptionCandidates, every candidate), as the scheduler runs it. */
  readonly mesh: FindPreemptionCandidatesResponse;
}

/** Both schedulers on one case. */
export interface SideBySide {
  readonly fidelityCase: FidelityCase;
  readonly kube: KubeOutcome;
  readonly mesh: EvaluateResponse;
  /** Set for preemption cases (the pending pod's class is PREEMPTOR_CLASS). */
  readonly preemption?: PreemptionSideBySide;
}


/** How long one wait of a case may take on a loaded machine. */
const WAIT_MS = 120_000;

/** The running pair of schedulers over one control plane. */
export class SideBySideRunner {
  private readonly core: CoreV1Api;
  private readonly policy: PolicyV1Api;
  private readonly log: LogFollower;
  private readonly client;

  private constructor(
    private readonly cp: ControlPlane,
    private readonly mesh: E2eMesh,
    private readonly kube: KubeScheduler,
  ) {
    this.core = cp.kubeConfig.makeApiClient(CoreV1Api);
    this.policy = cp.kubeConfig.makeApiClient(PolicyV1Api);
    this.log = new LogFollower(kube.process.logPath);
    this.client = createServiceClient(FilterScoreServiceDefinition, connectChannel(`127.0.0.1:${mesh.filterscore.grpcPort}`), { defaultDeadlineMs: 60_000 });
  }

  /** Starts the control plane, the mesh (with the profile's ConfigMap) and kube-scheduler. */
  static async start(): Promise<SideBySideRunner> {
    const cp = await startE2eControlPlane([CASE_NAMESPACE]);
    let mesh: E2eMesh | undefined;
    try {
      const scheduling = cp.kubeConfig.makeApiClient(SchedulingV1Api);
      for (const [name, value] of Object.entries({ ...PRIORITY_CLASSES, ...VICTIM_CLASSES })) {
        await scheduling.createPriorityClass({ body: { metadata: { name }, value, preemptionPolicy: 'Never' } });
      }
      await scheduling.createPriorityClass({ body: { metadata: { name: PREEMPTOR_CLASS.name }, value: PREEMPTOR_CLASS.value, preemptionPolicy: 'PreemptLowerPriority' } });
      await cp.core.createNamespacedConfigMap({
        namespace: 'schedmesh-system',
        body: { metadata: { name: 'schedmesh-profiles' }, data: { 'config.yaml': stringify(schedmeshProfile()) } },
      });
      mesh = await startE2eMesh(cp, { name: 'fidelity', nodes: 0 });
      const fs = mesh.filterscore;
      await pollUntil(async () => (fs.profilesGate?.synced && !fs.engine.framework('').scorePlugins.some((p) => p.plugin.name === 'TopologyAware') ? true : undefined), {
        what: "filterscore running the fidelity profile from the profiles ConfigMap",
        timeoutMs: WAIT_MS,
      });
      const kube = await startKubeScheduler(cp, { config: kubeSchedulerProfile(), verbosity: 10 });
      return new SideBySideRunner(cp, mesh, kube);
    } catch (err) {
      await mesh?.stop();
      await cp.stop();
      throw err;
    }
  }

  /** Runs one case on both schedulers and removes it again (also when the API server refused part of it). */
  async run(fidelityCase: FidelityCase): Promise<SideBySide> {
    try {
      await this.create(fidelityCase);
      const podName = fidelityCase.pending.metadata?.name ?? '';
      await this.waitUntilBothHold(fidelityCase);
      const mesh = await this.evaluate(podName);
      if (isPreemptionCase(fidelityCase)) {
        const meshPreemption = await this.findPreemptionCandidates(podName, fidelityCase.nodes.length);
        const { outcome, preemption } = await this.kubePreemption(podName, fidelityCase);
        return { fidelityCase, kube: outcome, mesh, preemption: { kube: preemption, mesh: meshPreemption } };
      }
      const kube = await this.kubeDecision(podName, mesh);
      return { fidelityCase, kube, mesh };
    } finally {
      await this.clear();
    }
  }

  async stop(): Promise<void> {
    await this.kube.stop();
    await this.mesh.stop();
    await this.cp.stop();
  }

  private async create(c: FidelityCase): Promise<void> {
    for (const budget of c.budgets ?? []) await this.createBudget(c.name, budget);
    await Promise.all(chunks(c.nodes, CREATE_CONCURRENCY).map(async (nodes) => {
      for (const node of nodes) await refusedAs(c.name, fakeNodeObject(node), () => createFakeNodes(this.cp.kubeConfig, [node]));
    }));
    await Promise.all(chunks(c.existing, CREATE_CONCURRENCY).map(async (pods) => {
      for (const pod of pods) await refusedAs(c.name, pod, () => this.core.createNamespacedPod({ namespace: CASE_NAMESPACE, body: pod }));
    }));
    for (const pod of c.nominated ?? []) await this.createNominated(c.name, pod);
    await refusedAs(c.name, c.pending, () => this.core.createNamespacedPod({ namespace: CASE_NAMESPACE, body: c.pending }));
  }

  // A pod's status is not taken on create: the nomination is written through the status subresource.
  private async createNominated(caseName: string, pod: V1Pod): Promise<void> {
    const { status, ...spec } = pod;
    const created = await refusedAs(caseName, pod, () => this.core.createNamespacedPod({ namespace: CASE_NAMESPACE, body: spec }));
    const body = { ...created, status: { ...created.status, nominatedNodeName: status?.nominatedNodeName } };
    await refusedAs(caseName, pod, () => this.core.replaceNamespacedPodStatus({ namespace: CASE_NAMESPACE, name: created.metadata?.name ?? '', body }));
  }

  // A budget's status is not taken on create either, and no disruption controller runs here to write it.
  private async createBudget(caseName: string, budget: V1PodDisruptionBudget): Promise<void> {
    const { status, ...spec } = budget;
    const created = await refusedAs(caseName, budget, () => this.policy.createNamespacedPodDisruptionBudget({ namespace: CASE_NAMESPACE, body: spec }));
    if (!status) return;
    const body = { ...created, status };
    await refusedAs(caseName, budget, () => this.policy.replaceNamespacedPodDisruptionBudgetStatus({ namespace: CASE_NAMESPACE, name: created.metadata?.name ?? '', body }));
  }

  /** Both caches hold exactly the case: kube-scheduler's (its cache_size metric) and filterscore's replica. */
  private async waitUntilBothHold(c: FidelityCase): Promise<void> {
    const podName = c.pending.metadata?.name ?? '';
    await pollUntil(async () => {
      const size = await this.kubeCacheSize();
      return size.nodes === c.nodes.length && size.pods === c.existing.length ? true : undefined;
    }, { what: `kube-scheduler's cache holding case ${c.name}`, timeoutMs: WAIT_MS, intervalMs: 100 });
    const replica = this.mesh.filterscore.replica;
    await pollUntil(async () => {
      const s = replica.current;
      const nominated = c.nominated ?? [];
      const budgetsSeen = s.podDisruptionBudgets().length === (c.budgets ?? []).length;
      const exact = budgetsSeen && s.nodeCount === c.nodes.length && s.podCount === c.existing.length + nominated.length + 1;
      const nominationsSeen = nominated.every((p) => s.podByName(CASE_NAMESPACE, p.metadata?.name ?? '')?.nominatedNodeName === p.status?.nominatedNodeName);
      return exact && nominationsSeen && s.podByName(CASE_NAMESPACE, podName) && c.nodes.every((n) => s.nodeInfo(n.name)) ? true : undefined;
    }, { what: `filterscore's replica holding case ${c.name}`, timeoutMs: WAIT_MS, intervalMs: 50 });
  }

  private async kubeCacheSize(): Promise<{ nodes: number; pods: number }> {
    const res = await httpGet(`${this.kube.url}/metrics`, { timeoutMs: 10_000 });
    const value = (type: string): number => Number(new RegExp(`^scheduler_cache_size\\{type="${type}"\\} (\\d+)`, 'm').exec(res.body)?.[1] ?? NaN);
    return { nodes: value('nodes'), pods: value('pods') };
  }

  /** filterscore's Evaluate over every node, as the pod will be once its gate is lifted. */
  private async evaluate(podName: string): Promise<EvaluateResponse> {
    const replica = this.mesh.filterscore.replica;
    const pod = replica.current.podByName(CASE_NAMESPACE, podName);
    if (!pod) throw new Error(`${podName} left filterscore's replica`);
    return this.client.evaluate({ pod: { ...pod, schedulingGates: [] }, options: { profile: '', minGeneration: replica.generation, nodeNames: [] }, exhaustive: true });
  }

  /** filterscore's candidate search for the pod (as the scheduler's attempt asks it), up to `max` candidates. */
  private async findPreemptionCandidates(podName: string, max: number): Promise<FindPreemptionCandidatesResponse> {
    const replica = this.mesh.filterscore.replica;
    const pod = replica.current.podByName(CASE_NAMESPACE, podName);
    if (!pod) throw new Error(`${podName} left filterscore's replica`);
    return this.client.findPreemptionCandidates({ pod: { ...pod, schedulingGates: [] }, options: { profile: '', minGeneration: replica.generation, nodeNames: [] }, maxCandidates: max });
  }

  private async liftGate(podName: string): Promise<void> {
    const pod = await this.core.readNamespacedPod({ namespace: CASE_NAMESPACE, name: podName });
    pod.spec = { ...pod.spec!, schedulingGates: (pod.spec?.schedulingGates ?? []).filter((g) => g.name !== CASE_GATE) };
    await this.core.replaceNamespacedPod({ namespace: CASE_NAMESPACE, name: podName, body: pod });
  }

  /**
   * kube-scheduler's preemption for the pod: its nomination, and the victims
   * once its asynchronous preemption has finished deleting them (its log says
   * so), read before the case is cleared. A refusal without a nomination is
   * final (the condition and the nomination are written in one update).
   */
  private async kubePreemption(podName: string, c: FidelityCase): Promise<{ outcome: KubeOutcome; preemption: KubePreemption }> {
    await this.liftGate(podName);
    const key = `${CASE_NAMESPACE}/${podName}`;
    let text = '';
    const { pod, decided } = await pollUntil(async () => {
      text += this.log.readNew();
      const pod = await this.core.readNamespacedPod({ namespace: CASE_NAMESPACE, name: podName });
      const decided = decisionOf(pod);
      if (decided === undefined) return undefined;
      const nominated = pod.status?.nominatedNodeName;
      return decided.node !== undefined || !nominated || preemptionFinished(text, key) ? { pod, decided } : undefined;
    }, { what: `kube-scheduler's preemption for ${key}`, timeoutMs: WAIT_MS, intervalMs: 100 });
    const left = new Map((await this.core.listNamespacedPod({ namespace: CASE_NAMESPACE })).items.map((p) => [p.metadata?.name ?? '', p]));
    const victims = c.existing.map((p) => p.metadata?.name ?? '').filter((name) => !left.has(name) || left.get(name)?.metadata?.deletionTimestamp).sort();
    return { outcome: { ...decided, scores: parseScoreLines(text, key) }, preemption: { nominatedNode: pod.status?.nominatedNodeName || undefined, victims } };
  }

  private async kubeDecision(podName: string, mesh: EvaluateResponse): Promise<KubeOutcome> {
    await this.liftGate(podName);
    const decided = await pollUntil(async () => decisionOf(await this.core.readNamespacedPod({ namespace: CASE_NAMESPACE, name: podName })), {
      what: `kube-scheduler's decision on ${podName}`,
      timeoutMs: WAIT_MS,
      intervalMs: 100,
    });
    let text = this.log.readNew();
    // kube-scheduler scores only when more than one node is feasible; then wait for its lines (written before the bind, read after it).
    if (decided.node !== undefined && mesh.ranked.length > 1) {
      const key = `${CASE_NAMESPACE}/${podName}`;
      await pollUntil(async () => {
        text += this.log.readNew();
        return parseScoreLines(text, key).totals.has(decided.node ?? '') ? true : undefined;
      }, { what: `kube-scheduler's score lines for ${key}`, timeoutMs: 30_000, intervalMs: 100 }).catch(() => undefined);
    }
    return { ...decided, scores: parseScoreLines(text, `${CASE_NAMESPACE}/${podName}`) };
  }

  /**
   * Deletes the case's pods and nodes. Both schedulers see the deletions
   * before the next case's objects (one watch per kind delivers in
   * resourceVersion order), so the next waitUntilBothHold, which wants
   * exactly the next case, also waits for this one to be gone.
   */
  private async clear(): Promise<void> {
    await this.core.deleteCollectionNamespacedPod({ namespace: CASE_NAMESPACE, gracePeriodSeconds: 0 });
    await this.policy.deleteCollectionNamespacedPodDisruptionBudget({ namespace: CASE_NAMESPACE });
    await deleteFakeNodes(this.cp.kubeConfig);
    await pollUntil(async () => {
      const [pods, nodes, budgets] = await Promise.all([this.core.listNamespacedPod({ namespace: CASE_NAMESPACE }), this.core.listNode(), this.policy.listNamespacedPodDisruptionBudget({ namespace: CASE_NAMESPACE })]);
      return pods.items.length === 0 && nodes.items.length === 0 && budgets.items.length === 0 ? true : undefined;
    }, { what: 'the case deleted from the API server', timeoutMs: WAIT_MS });
  }
}

/** Objects created at once. */
const CREATE_CONCURRENCY = 8;

/** `items` dealt round-robin into `n` lists. */
function chunks<T>(items: readonly T[], n: number): T[][] {
  const out = Array.from({ length: Math.min(n, items.length) }, () => [] as T[]);
  items.forEach((item, i) => out[i % out.length]?.push(item));
  return out;
}

/** Runs `create`; an API server's 4xx becomes a CaseRefusedError carrying the object. */
async function refusedAs<T>(caseName: string, object: unknown, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (err instanceof ApiException && err.code >= 400 && err.code < 500) throw new CaseRefusedError(caseName, object, String(err.body));
    throw err;
  }
}

/** The pod's binding, or its refusal; undefined while kube-scheduler has not decided. */
function decisionOf(pod: V1Pod): Omit<KubeOutcome, 'scores'> | undefined {
  if (pod.spec?.nodeName) return { node: pod.spec.nodeName, message: undefined };
  const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  return cond ? { node: undefined, message: cond.message ?? '' } : undefined;
}
