/**
 * DefaultPreemption (PostFilter): when no node fits, finds nodes where
 * evicting lower-priority pods would let the pod fit, with the fewest and
 * least important victims (upstream defaultpreemption.DefaultPreemption and
 * the preemption Evaluator), sparing first the pods whose
 * PodDisruptionBudgets do not allow them to go. It only reports: evicting
 * the victims and nominating the node belong to the scheduler service.
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go and
 * pkg/scheduler/framework/preemption/preemption.go.
 */
import { definePlugin, PluginNames, Status, StatusCode } from '@schedmesh/framework';
import type { CycleState, FrameworkHandle, NodeInfo, NodeToStatus, PodInfo, PostFilterOptions, PostFilterPlugin, PostFilterResult, PreemptionCandidate, SimulatedNodeInfo } from '@schedmesh/framework';
import { PreemptionPolicy } from '@schedmesh/proto/v1/types';
import type { Pod, PodDisruptionBudget } from '@schedmesh/proto/v1/types';
import { defaultPreemptionArgsSchema } from './args.js';
import type { DefaultPreemptionArgs } from './args.js';
import { filterPodsWithPdbViolation } from './pdb.js';

/** A node filtered out as UnschedulableAndUnresolvable: evicting pods there cannot help. */
export const REASON_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
/** A node without lower-priority pods. */
export const REASON_NO_VICTIMS = 'No preemption victims found for incoming pod';
/** The pod never preempts. */
export const REASON_POLICY_NEVER = 'not eligible due to preemptionPolicy=Never.';
/** A pod is already leaving the nominated node for this one. */
export const REASON_TERMINATING_ON_NOMINATED = 'not eligible due to a terminating pod on the nominated node.';

function startTime(pod: Pod): number {
  return pod.creationTime?.getTime() ?? 0;
}

/** Higher priority first; equal priority: the one that started earlier (upstream MoreImportantPod, start time ≈ creation time). */
export function moreImportantPod(a: Pod, b: Pod): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return startTime(a) < startTime(b);
}

const PRIORITY_OFFSET = 2 ** 31;

/** The earliest start among the highest-priority victims (upstream GetEarliestPodStartTime). */
function earliestStartOfHighest(victims: readonly Pod[]): number {
  let highest = Number.NEGATIVE_INFINITY;
  let earliest = Number.POSITIVE_INFINITY;
  for (const v of victims) {
    if (v.priority > highest) {
      highest = v.priority;
      earliest = startTime(v);
    } else if (v.priority === highest) earliest = Math.min(earliest, startTime(v));
  }
  return earliest;
}

/**
 * Orders candidates as upstream's pickOneNodeForPreemption picks them: fewest
 * PDB violations, lowest highest-victim priority, lowest sum of priorities,
 * fewest victims, latest start of the highest-priority victims, then the
 * order found.
 */
export function compareCandidates(a: PreemptionCandidate, b: PreemptionCandidate): number {
  if (a.numPdbViolations !== b.numPdbViolations) return a.numPdbViolations - b.numPdbViolations;
  const ha = a.victims[0]?.priority ?? Number.MIN_SAFE_INTEGER;
  const hb = b.victims[0]?.priority ?? Number.MIN_SAFE_INTEGER;
  if (ha !== hb) return ha - hb;
  const sum = (c: PreemptionCandidate): number => c.victims.reduce((s, v) => s + v.priority + PRIORITY_OFFSET, 0);
  const sa = sum(a);
  const sb = sum(b);
  if (sa !== sb) return sa - sb;
  if (a.victims.length !== b.victims.length) return a.victims.length - b.victims.length;
  return earliestStartOfHighest(b.victims) - earliestStartOfHighest(a.victims);
}

interface NodeFailure {
  readonly nodeName: string;
  readonly status: Status;
}

/** The same histogram message as the cycle's, over the preemption attempt's statuses. */
function preemptionMessage(numAllNodes: number, failures: readonly NodeFailure[]): string {
  const counts = new Map<string, number>();
  for (const f of failures) for (const r of f.status.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${numAllNodes} nodes are available:${parts.length > 0 ? ` ${parts.join(', ')}.` : ''}`;
}

class DefaultPreemption implements PostFilterPlugin {
  readonly name = PluginNames.DefaultPreemption;
  private offset = 0;

  constructor(
    private readonly args: DefaultPreemptionArgs,
    private readonly handle: FrameworkHandle,
  ) {}

  /** How many candidates to look for among n potential nodes (upstream calculateNumCandidates). */
  numCandidates(n: number): number {
    let k = Math.trunc((n * this.args.minCandidateNodesPercentage) / 100);
    if (k < this.args.minCandidateNodesAbsolute) k = this.args.minCandidateNodesAbsolute;
    return Math.min(k, n);
  }

  async postFilter(state: CycleState, pod: PodInfo, statuses: NodeToStatus, options: PostFilterOptions): Promise<PostFilterResult> {
    const notEligible = this.notEligible(pod, statuses);
    if (notEligible !== undefined) return { status: Status.unschedulable(`preemption: ${notEligible}`) };

    const nodes = statuses.nodes();
    const failures: NodeFailure[] = [];
    const potential: NodeInfo[] = [];
    const notHelpful = Status.unresolvable(REASON_NOT_HELPFUL);
    for (const info of nodes) {
      if (statuses.get(info.name).code === StatusCode.UnschedulableAndUnresolvable) failures.push({ nodeName: info.name, status: notHelpful });
      else potential.push(info);
    }
    if (potential.length === 0) return { status: Status.unschedulable(`preemption: ${preemptionMessage(nodes.length, failures)}`), nominatedNodeName: '' };

    const pdbs = this.handle.snapshot().podDisruptionBudgets();
    // Start where the last search stopped so that candidates spread over the cluster (upstream: a random offset).
    const want = this.numCandidates(potential.length);
    const start = this.offset % potential.length;
    const candidates: PreemptionCandidate[] = [];
    let examined = 0;
    for (let i = 0; i < potential.length && candidates.length < want; i++) {
      const info = potential[(start + i) % potential.length] as NodeInfo;
      examined++;
      const result = this.selectVictimsOnNode(state.clone(), pod, info.clone(), pdbs);
      if (result.status.isSuccess()) {
        if (result.victims.length === 0) return { status: Status.error(`expected at least one victim pod on node ${info.name}`) };
        candidates.push({ nodeName: info.name, victims: result.victims, numPdbViolations: result.numPdbViolations });
      } else if (result.status.isError()) {
        return { status: result.status };
      } else failures.push({ nodeName: info.name, status: result.status });
    }
    this.offset = (start + examined) % potential.length;

    // No candidate: a nomination the pod holds is stale (upstream returns an empty nominated node to clear it).
    if (candidates.length === 0) return { status: Status.unschedulable(`preemption: ${preemptionMessage(nodes.length, failures)}`), nominatedNodeName: '' };
    // A stable sort keeps the order found among equals.
    const ranked = candidates.sort(compareCandidates);
    const best = ranked[0] as PreemptionCandidate;
    const limited = options.maxCandidates > 0 ? ranked.slice(0, options.maxCandidates) : ranked;
    return { status: Status.SUCCESS, nominatedNodeName: best.nodeName, candidates: limited };
  }

  private notEligible(pod: PodInfo, statuses: NodeToStatus): string | undefined {
    if (pod.pod.preemptionPolicy === PreemptionPolicy.PREEMPTION_POLICY_NEVER) return REASON_POLICY_NEVER;
    const nominated = pod.pod.nominatedNodeName;
    if (nominated === '' || statuses.get(nominated).code === StatusCode.UnschedulableAndUnresolvable) return undefined;
    const info = this.handle.snapshot().nodeInfo(nominated);
    if (info === undefined) return undefined;
    for (const p of info.pods) if (p.pod.priority < pod.pod.priority && p.pod.terminating) return REASON_TERMINATING_ON_NOMINATED;
    return undefined;
  }

  /**
   * Removes every lower-priority pod; if the pod then fits, adds them back
   * most important first — those a PodDisruptionBudget does not let go
   * before the others — keeping each that still lets the pod fit (upstream
   * SelectVictimsOnNode). numPdbViolations counts the victims left that
   * violate a budget. Works on the given clones only.
   */
  selectVictimsOnNode(state: CycleState, pod: PodInfo, nodeInfo: SimulatedNodeInfo, pdbs: readonly PodDisruptionBudget[]): { status: Status; victims: Pod[]; numPdbViolations: number } {
    const none = (status: Status) => ({ status, victims: [], numPdbViolations: 0 });
    const potential: PodInfo[] = [];
    for (const p of [...nodeInfo.pods]) {
      if (p.pod.priority >= pod.pod.priority) continue;
      potential.push(p);
      nodeInfo.removePod(p.pod.uid);
      const s = this.handle.runPreFilterExtensionRemovePod(state, pod, p, nodeInfo);
      if (!s.isSuccess()) return none(s);
    }
    if (potential.length === 0) return none(Status.unresolvable(REASON_NO_VICTIMS));
    const fits = this.handle.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
    if (!fits.isSuccess()) return none(fits);

    potential.sort(byImportance);
    const { violating, nonViolating } = filterPodsWithPdbViolation(potential, pdbs);
    const victims: Pod[] = [];
    let numPdbViolations = 0;
    // Adds p back: true when the pod still fits (p is spared), false when p stays a victim, or the failing status.
    const reprieve = (p: PodInfo): Status | boolean => {
      nodeInfo.addPod(p);
      const added = this.handle.runPreFilterExtensionAddPod(state, pod, p, nodeInfo);
      if (!added.isSuccess()) return added;
      if (this.handle.runFilterPluginsWithNominatedPods(state, pod, nodeInfo).isSuccess()) return true;
      nodeInfo.removePod(p.pod.uid);
      const removed = this.handle.runPreFilterExtensionRemovePod(state, pod, p, nodeInfo);
      if (!removed.isSuccess()) return removed;
      victims.push(p.pod);
      return false;
    };
    for (const p of violating) {
      const r = reprieve(p);
      if (r instanceof Status) return none(r);
      if (!r) numPdbViolations++;
    }
    for (const p of nonViolating) {
      const r = reprieve(p);
      if (r instanceof Status) return none(r);
    }
    // Most important first, whichever group a victim came from (candidate order reads victims[0]).
    victims.sort((a, b) => byImportance({ pod: a }, { pod: b }));
    return { status: Status.SUCCESS, victims, numPdbViolations };
  }
}

function byImportance(a: Pick<PodInfo, 'pod'>, b: Pick<PodInfo, 'pod'>): number {
  return moreImportantPod(a.pod, b.pod) ? -1 : moreImportantPod(b.pod, a.pod) ? 1 : 0;
}

/** The DefaultPreemption factory. */
export const defaultPreemptionPlugin = definePlugin<DefaultPreemptionArgs>({
  name: PluginNames.DefaultPreemption,
  points: ['postFilter'],
  args: defaultPreemptionArgsSchema,
  create: (args, handle) => new DefaultPreemption(args, handle),
});
