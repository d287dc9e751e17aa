/**
 * One scheduling attempt over the mesh, written once for the scheduler
 * service and the extender adapter:
 *
 *   PreFilter (admission) → Filter+Score (filterscore Evaluate at the pod's
 *   generation) → the gateway's REST Filter and Score → Reserve in rank order
 *   (the next-ranked node on a conflict, bounded) → Permit (gangs) → PreBind
 *   (gateway patches applied to the pod) → Bind (Binding subresource) →
 *   PostBind (Confirm).
 *
 * When filterscore finds no feasible node and some rejection is Unschedulable
 * (not Unresolvable everywhere), PostFilter asks filterscore for preemption
 * candidates: mode 'bind' tries the best candidate's evictions (dryRun=All),
 * nominates its node, then evicts its victims through the Eviction API (the
 * attempt still ends unschedulable: the pod fits once the victims are gone,
 * and its next attempt evaluates the nominated node first); mode 'dryRun'
 * only reports the node it would nominate.
 *
 * A gang member's pod group is resolved first, once (libs/model
 * resolvePodGroup): the PodGroup object named by its label gives minMember
 * and the Permit timeout; a label naming no object, on a pod without the
 * fallback annotations, ends the attempt at PreFilter, as coscheduling's.
 *
 * Between Permit and Bind the lease is checked (before PreBind and right
 * before Bind: renewed, checking its fencing version, unless it was granted
 * or renewed within the last third of its TTL — see lease-keeper.ts) and
 * renewed in the background while they run: a lease that lapsed and went to
 * another pod ends the attempt unschedulable instead of binding it. In mode
 * 'bind' (the scheduler's attempts and the extender's bindTo, not gang
 * members) the lease is Reserved already marked binding, so a fresh lease
 * needs no Renew call right before Bind either.
 *
 * Any failure after Reserve runs Unreserve. Every step is a child span of one
 * root span, and its outcome is a StepResult. Rejections are values; an
 * exception from a service (UNAVAILABLE, a deadline) ends the attempt with an
 * Error status so the caller backs off and retries, never "unschedulable".
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import { Status } from '@schedmesh/framework';
import type { StepResult } from '@schedmesh/proto/v1/scheduler';
import { ExtensionPoint, PreemptionPolicy } from '@schedmesh/proto/v1/types';
import type { Node, NodeScore, Pod } from '@schedmesh/proto/v1/types';
import { groupKey, resolvePodGroup } from '@schedmesh/model';
import type { PodGroupLookup } from '@schedmesh/model';
import { linkTo } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import { ADMISSION_PLUGIN, admit } from './adapters/admission.js';
import { evaluate, findPreemptionCandidates, PREEMPTION_PLUGIN } from './adapters/filterscore.js';
import type { PreemptionCandidate, PreemptionVictim } from './adapters/filterscore.js';
import { GATEWAY_PLUGIN } from './adapters/gateway.js';
import type { GatewayPlugins } from './adapters/gateway.js';
import { confirm, permit, reserve, RESERVATION_PLUGIN, unreserve } from './adapters/reservation.js';
import type { ReservationStepOptions } from './adapters/reservation.js';
import type { MeshClients } from './clients.js';
import { KubeApiError } from './kube/api.js';
import type { BindOutcome, PodWriter } from './kube/pods.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { HeldLease, LeaseCheck } from './lease-keeper.js';

/** Looks up a node object by name (the caller's replica of the cluster, or the extender request's nodes). */
export type NodeLookup = (name: string) => Node | undefined;

/** What an attempt needs. */
export interface AttemptDeps {
  readonly clients: MeshClients;
  /** The gateway's REST plugins (absent: no gateway in this mesh). */
  readonly gateway?: GatewayPlugins;
  /** Kubernetes writes; required for mode 'bind'. */
  readonly writer?: PodWriter;
  readonly nodes: NodeLookup;
  readonly tracer: Tracer;
  readonly logger: Logger;
  readonly reservation: ReservationStepOptions;
  /**
   * The PodGroup objects the caller follows (scheduler-plugins'); absent:
   * gangs come from the pods' annotations only.
   */
  readonly podGroups?: PodGroupLookup;
}

/** The PreFilter step that resolves a pod's gang (what scheduler-plugins' Coscheduling PreFilter does). */
export const POD_GROUP_PLUGIN = 'SchedmeshPodGroup';

/**
 * How far an attempt goes:
 * - 'dryRun': decide only (no lease, no writes): the ranked nodes and reasons;
 * - 'reserve': decide and hold a lease on the chosen node, then stop (the
 *   caller binds; the lease expires with its TTL unless confirmed);
 * - 'bind': the whole cycle, binding the pod.
 */
export type AttemptMode = 'dryRun' | 'reserve' | 'bind';

/** One attempt's input. */
export interface AttemptRequest {
  readonly pod: Pod;
  readonly profile: string;
  /** The generation the pod was seen at (0: whatever the services have). */
  readonly minGeneration: number;
  readonly mode: AttemptMode;
  /** Nodes tried at Reserve before giving up on conflicts (default 3). */
  readonly maxReserveTries?: number;
  /** Ranked nodes asked of filterscore (default 10, at least maxReserveTries). */
  readonly maxRanked?: number;
  /** Longest gang wait at Permit, in ms (default: the pod group's, else the service default). */
  readonly permitTimeoutMs?: number;
  /**
   * Only these nodes are considered (the extender's NodeNames), each of them
   * filtered (no numFeasibleNodesToFind sampling); absent means every node.
   * Intersected with admission's subset: a node admission leaves out is
   * rejected as Unresolvable in {@link AttemptResult.rejectedNodes}.
   */
  readonly nodeNames?: readonly string[];
  /**
   * Whether PostFilter may look for preemption candidates (default true). The
   * extender turns it off: kube-scheduler runs its own preemption and ignores
   * what a filter verb would say of it.
   */
  readonly preempt?: boolean;
  /** Rank by totals only: the ranked nodes carry no per-plugin scores (default false). */
  readonly totalsOnly?: boolean;
  /**
   * Decide which nodes fit, without scoring them (mode dryRun; default
   * false): filterscore skips PreScore and Score and the gateway's Score
   * plugins are not called; `ranked` lists the feasible nodes with total 0.
   */
  readonly filterOnly?: boolean;
  /** Preemption candidates asked of filterscore (default 0: the service's default). */
  readonly maxCandidates?: number;
  /**
   * The trace context the attempt follows from: the pod's cluster event,
   * which carries the informer's publish span. The root span then starts a
   * trace of its own — one trace per attempt, however many attempts one
   * event takes — with a link to that span. Absent: the root is a child of
   * the caller's active context (a Schedule call's or an extender verb's span).
   */
  readonly follows?: Context;
  /**
   * Whether another call may share this attempt's lease (the extender: a
   * second bind of the pod started since this one, kube-scheduler's retry of
   * a late answer, whose Reserve on the same node returns the same lease and
   * whose failure Unreserves it). While it says so, every check of the lease
   * renews it, however fresh and however granted. Absent: never.
   */
  readonly concurrent?: () => boolean;
  readonly signal: AbortSignal;
}

/** A {@link SchedulingAttempt.bindTo} request: the node is already chosen (by kube-scheduler, for the extender). */
export type BindToRequest = Omit<AttemptRequest, 'mode' | 'maxReserveTries' | 'maxRanked' | 'nodeNames' | 'maxCandidates' | 'totalsOnly' | 'filterOnly'> & {
  readonly nodeName: string;
};

/** How an attempt ended. */
export type AttemptOutcome =
  /** Bound (mode bind), or reserved/decided (other modes). */
  | 'scheduled'
  /** No node fits now; preemption or a cluster event may change that. */
  | 'unschedulable'
  /** Admission rejected the pod: no node will fit until the policy or the pod changes. */
  | 'rejected'
  /** A service failed (I/O, a deadline): retry with backoff. */
  | 'error'
  /** The pod was bound by someone else, or deleted, during the attempt. */
  | 'settled';

/** One attempt's result. */
export interface AttemptResult {
  readonly outcome: AttemptOutcome;
  /** The deciding status (Success when scheduled). */
  readonly status: Status;
  readonly nodeName: string;
  /** The message an event or a caller shows ("0/N nodes are available: …"). */
  readonly message: string;
  /** The snapshot generation the decision used. */
  readonly generation: number;
  readonly fencingVersion: number;
  /** Feasible nodes, best first (after the gateway's filters and scores). */
  readonly ranked: readonly NodeScore[];
  readonly steps: readonly StepResult[];
  readonly traceId: string;
  /** The plugins that rejected the pod (for queueing hints). */
  readonly rejectors: readonly string[];
  /**
   * Nodes rejected during the decision, each with its reason: filterscore's
   * filters, the gateway's REST filters, and nodes outside admission's subset
   * (Unresolvable). Empty when admission rejected the pod as a whole.
   */
  readonly rejectedNodes: ReadonlyMap<string, Status>;
  /**
   * The node preemption nominated the pod to ('' when none): in mode 'bind'
   * its victims are being evicted; in mode 'dryRun' it is what preemption
   * would choose. The outcome is 'unschedulable' either way.
   */
  readonly nominatedNodeName: string;
  /**
   * Mode 'dryRun' only: every candidate the preemption search found, best
   * first (the nominated node's first). Empty when PostFilter did not run.
   */
  readonly candidates: readonly PreemptionCandidate[];
  /**
   * Preemption found no usable candidate for a pod that held a nomination
   * (or took one during this attempt): the nomination is stale, and the
   * caller clears it (status.nominatedNodeName, its queue's nominator), as
   * upstream does when PostFilter finds no candidate.
   */
  readonly nominationCleared: boolean;
  /**
   * With outcome 'error': Reserve found the pod's live lease held by another
   * replica, which is scheduling it (both replicas got its events). Not the
   * pod's failure: the caller backs off quietly, without writing a
   * SchedulerError, until that replica binds it or its lease lapses.
   */
  readonly heldElsewhere: boolean;
  /** Labels and annotations applied to the pod at PreBind. */
  readonly patched: { readonly labels: Readonly<Record<string, string>>; readonly annotations: Readonly<Record<string, string>> };
  /** The AdmissionPolicy objects admission applied (namespace/name): the ones that rejected the pod, or that admitted it. */
  readonly admissionPolicies: readonly string[];
}

const SPAN_NAMES: Record<number, string> = {
  [ExtensionPoint.EXTENSION_POINT_PRE_FILTER]: 'PreFilter',
  [ExtensionPoint.EXTENSION_POINT_FILTER]: 'Filter',
  [ExtensionPoint.EXTENSION_POINT_POST_FILTER]: 'PostFilter',
  [ExtensionPoint.EXTENSION_POINT_SCORE]: 'Score',
  [ExtensionPoint.EXTENSION_POINT_RESERVE]: 'Reserve',
  [ExtensionPoint.EXTENSION_POINT_PERMIT]: 'Permit',
  [ExtensionPoint.EXTENSION_POINT_PRE_BIND]: 'PreBind',
  [ExtensionPoint.EXTENSION_POINT_BIND]: 'Bind',
  [ExtensionPoint.EXTENSION_POINT_POST_BIND]: 'PostBind',
};

/** Runs scheduling attempts over the mesh. */
export class SchedulingAttempt {
  constructor(private readonly deps: AttemptDeps) {}

  /** Runs one attempt. Never throws for a service failure: that is outcome 'error'. */
  async run(req: AttemptRequest): Promise<AttemptResult> {
    return this.traced(req, (run) => run.execute());
  }

  /**
   * Binds the pod to a node chosen elsewhere (kube-scheduler, through the
   * extender's bind verb): the same Reserve → Permit → PreBind → Bind →
   * PostBind path as {@link run} in mode 'bind', on that one node, with no
   * admission or filtering first (the caller's filter verb did them).
   * Reserve is keyed by the pod's UID, so a retry holds the same lease; a pod
   * already bound ends 'settled' (the caller reads which node).
   */
  async bindTo(req: BindToRequest): Promise<AttemptResult> {
    return this.traced({ ...req, mode: 'bind', maxReserveTries: 1 }, (run) => run.executeBindTo(req.nodeName));
  }

  private async traced(req: AttemptRequest, body: (run: Run) => Promise<AttemptResult>): Promise<AttemptResult> {
    const { pod } = req;
    return this.deps.tracer.startActiveSpan(
      'schedule_one',
      {
        kind: SpanKind.INTERNAL,
        attributes: { 'k8s.namespace.name': pod.namespace, 'k8s.pod.name': pod.name, 'k8s.pod.uid': pod.uid, 'schedmesh.profile': req.profile, 'schedmesh.mode': req.mode },
        ...(req.follows ? { links: linkTo(req.follows) } : {}),
      },
      req.follows ? ROOT_CONTEXT : context.active(),
      async (root) => {
        const gang = this.deps.podGroups ? resolvePodGroup(pod, this.deps.podGroups) : { pod };
        const run = new Run(this.deps, gang.pod ? { ...req, pod: gang.pod } : req, root.spanContext().traceId);
        try {
          const result = await (gang.missing === undefined ? body(run) : run.podGroupMissing(gang.missing)).catch((err: unknown) => run.fail(err));
          root.setAttribute('schedmesh.outcome', result.outcome);
          if (result.nodeName) root.setAttribute('k8s.node.name', result.nodeName);
          if (result.outcome === 'error') root.setStatus({ code: SpanStatusCode.ERROR, message: result.message });
          return result;
        } finally {
          root.end();
        }
      },
    );
  }
}

/** The state of one attempt as it goes. */
class Run {
  private readonly steps: StepResult[] = [];
  private generation: number;
  private ranked: NodeScore[] = [];
  private readonly rejectedNodes = new Map<string, Status>();
  private patched: AttemptResult['patched'] = { labels: {}, annotations: {} };
  private nominatedNodeName = '';
  private candidates: readonly PreemptionCandidate[] = [];
  private admissionPolicies: readonly string[] = [];
  private nominationCleared = false;
  private heldElsewhere = false;
  /** The Binding was sent and failed without an answer (a timeout, a cancel, a dropped connection): it may have landed. */
  private bindUnanswered = false;
  /** How PreBind and Bind check the lease (lease-keeper.ts): a fresh one is not renewed, but in bindTo. */
  private leaseCheck: LeaseCheck = 'renewUnlessFresh';

  constructor(
    private readonly deps: AttemptDeps,
    private readonly req: AttemptRequest,
    private readonly traceId: string,
  ) {
    this.generation = req.minGeneration;
  }

  /** PreFilter found the pod's PodGroup missing: unresolvable until a PodGroup event. */
  async podGroupMissing(message: string): Promise<AttemptResult> {
    const pg = await this.step(ExtensionPoint.EXTENSION_POINT_PRE_FILTER, POD_GROUP_PLUGIN, () => Promise.resolve({ status: Status.unresolvable(message) }));
    return this.end('rejected', pg.status);
  }

  async execute(): Promise<AttemptResult> {
    const { clients, gateway } = this.deps;
    const { pod, signal } = this.req;
    const tries = Math.max(1, this.req.maxReserveTries ?? 3);

    // PreFilter: admission.
    let nodeNames: readonly string[] | undefined;
    if (clients.admission) {
      const admission = clients.admission;
      const adm = await this.step(ExtensionPoint.EXTENSION_POINT_PRE_FILTER, 'SchedmeshAdmission', async () => {
        const out = await admit(admission, pod, this.req.minGeneration, signal);
        return { status: out.status, value: out };
      });
      this.admissionPolicies = adm.value?.policies ?? [];
      if (!adm.status.isSuccess()) return this.end(adm.status.isError() ? 'error' : 'rejected', adm.status);
      nodeNames = adm.value?.nodeNames;
      if (nodeNames && this.req.nodeNames) {
        const allowed = new Set(nodeNames);
        const outside = Status.unresolvable(`node is outside the pod's admitted node subset (policy ${adm.value?.policies.join(', ') || 'unnamed'})`).withPlugin(ADMISSION_PLUGIN);
        for (const n of this.req.nodeNames) if (!allowed.has(n)) this.rejectedNodes.set(n, outside);
      }
    }
    if (this.req.nodeNames) {
      const asked = this.req.nodeNames;
      const allowed = nodeNames ? new Set(nodeNames) : undefined;
      nodeNames = allowed ? asked.filter((n) => allowed.has(n)) : asked;
      // An empty list asks filterscore for every node: answer here instead.
      if (nodeNames.length === 0) return this.end('rejected', Status.unresolvable(`0/${asked.length} nodes are in the pod's admitted node subset`).withPlugin(ADMISSION_PLUGIN));
    }

    // PreFilter: the gateway's REST PreFilter plugins.
    if (gateway && (await this.serves(gateway, ExtensionPoint.EXTENSION_POINT_PRE_FILTER))) {
      const pf = await this.step(ExtensionPoint.EXTENSION_POINT_PRE_FILTER, 'SchedmeshGateway', async () => ({ status: await gateway.preFilter(pod, signal) }));
      if (!pf.status.isSuccess()) return this.end(pf.status.isError() ? 'error' : pf.status.code === Status.unresolvable().code ? 'rejected' : 'unschedulable', pf.status);
    }

    // Filter + Score: filterscore, at the generation the pod was seen.
    const ev = await this.step(ExtensionPoint.EXTENSION_POINT_FILTER, 'SchedmeshFilterScore', async () => {
      const out = await evaluate(
        clients.filterscore,
        pod,
        {
          profile: this.req.profile,
          minGeneration: this.req.minGeneration,
          maxRanked: Math.max(this.req.maxRanked ?? 10, tries),
          ...(nodeNames ? { nodeNames } : {}),
          // Nodes the caller named (an extender's list, already sampled by kube-scheduler) each get an answer.
          exhaustive: this.req.nodeNames !== undefined,
          totalsOnly: this.req.totalsOnly ?? false,
          skipScore: this.req.filterOnly === true && this.req.mode === 'dryRun',
        },
        signal,
      );
      return { status: out.status, value: out };
    });
    if (ev.value) this.generation = Math.max(this.generation, ev.value.generation);
    for (const r of ev.value?.rejected ?? []) this.rejectedNodes.set(r.nodeName, r.status);
    if (!ev.status.isSuccess()) {
      if (ev.status.isError()) return this.end('error', ev.status);
      return this.mayPreempt(ev.status) ? this.preempt(ev.status, nodeNames) : this.end('unschedulable', ev.status);
    }
    this.ranked = [...(ev.value?.ranked ?? [])];

    // The gateway's REST Filter and Score plugins, over the ranked nodes.
    if (gateway) {
      const gw = await this.gatewayFilterScore(gateway);
      if (gw) return gw;
    }

    this.ranked = selectHostFirst(this.ranked);
    if (this.req.mode === 'dryRun' || !clients.reservation) {
      const best = this.ranked[0]!;
      if (this.req.mode === 'bind') return this.bindOnly(best.nodeName);
      return this.end('scheduled', Status.SUCCESS, best.nodeName);
    }
    return this.reserveAndBind(tries);
  }

  /**
   * Upstream runs PostFilter only for an Unschedulable cycle (an Unresolvable
   * one means no eviction can help) and never for preemptionPolicy Never.
   * Mode 'reserve' hands the node to a caller that binds; it cannot wait for
   * victims, so it does not preempt.
   */
  private mayPreempt(status: Status): boolean {
    return (
      status.code === Status.unschedulable().code &&
      this.req.preempt !== false &&
      this.req.pod.preemptionPolicy !== PreemptionPolicy.PREEMPTION_POLICY_NEVER &&
      (this.req.mode === 'bind' || this.req.mode === 'dryRun')
    );
  }

  /**
   * PostFilter: the best candidate (fewest PDB violations, then upstream's
   * order, as filterscore ranks them); in mode 'bind' its victims are
   * evicted and the pod nominated to it ({@link prepareCandidate}). A
   * candidate a PodDisruptionBudget blocks is passed over for the next. The
   * attempt ends unschedulable with the filter's rejectors, so the victims'
   * deletions (AssignedPodDelete) bring the pod back. When no candidate is
   * left the pod's nomination is stale and the result says to clear it.
   */
  private async preempt(filtered: Status, nodeNames: readonly string[] | undefined): Promise<AttemptResult> {
    const { clients } = this.deps;
    const { pod, signal } = this.req;
    const rejected = (why: string): Status => Status.of(filtered.code, `${filtered.message()} ${why}`).withPlugin(filtered.plugin);
    const search = await this.step(ExtensionPoint.EXTENSION_POINT_POST_FILTER, PREEMPTION_PLUGIN, async () => {
      const out = await findPreemptionCandidates(clients.filterscore, pod, { profile: this.req.profile, minGeneration: this.generation, maxCandidates: this.req.maxCandidates ?? 0, ...(nodeNames ? { nodeNames } : {}) }, signal);
      return { status: out.status, value: out };
    });
    if (search.status.isError()) return this.end('error', search.status);
    const candidates = search.value?.candidates ?? [];
    if (candidates.length === 0) {
      // Not eligible (its victims are still leaving the nominated node) keeps the nomination; a search that found nothing clears it.
      this.nominationCleared = search.value?.clearNomination === true && pod.nominatedNodeName !== '';
      // The search's summary repeats the filters' histogram and adds its own "preemption: …" part.
      return this.end('unschedulable', Status.of(filtered.code, search.status.message()).withPlugin(filtered.plugin));
    }

    if (this.req.mode === 'dryRun') {
      const best = candidates[0]!;
      this.nominatedNodeName = best.nodeName;
      this.candidates = candidates;
      return this.end('unschedulable', rejected(`preemption: would nominate node ${best.nodeName}, evicting ${victimList(best)}.`));
    }

    const writer = this.deps.writer;
    if (!writer) return this.end('error', Status.error('no Kubernetes writer configured for mode bind').withPlugin(PREEMPTION_PLUGIN));
    const blocked: string[] = [];
    let nominatedHere = false;
    for (const candidate of candidates) {
      const ev = await this.step(
        ExtensionPoint.EXTENSION_POINT_POST_FILTER,
        PREEMPTION_PLUGIN,
        async () => {
          const out = await this.prepareCandidate(writer, candidate);
          nominatedHere ||= out.nominated;
          return { status: out.status };
        },
        'Preempt',
      );
      if (ev.status.isError()) return this.end('error', ev.status);
      if (!ev.status.isSuccess()) {
        blocked.push(ev.status.message());
        continue;
      }
      this.nominatedNodeName = candidate.nodeName;
      this.deps.logger.info({ pod: `${pod.namespace}/${pod.name}`, node: candidate.nodeName, victims: candidate.victims.map((v) => `${v.namespace}/${v.name}`), trace_id: this.traceId }, 'preempting');
      return this.end('unschedulable', rejected(`preemption: evicting ${victimList(candidate)} on node ${candidate.nodeName}; the pod is nominated there and waits for them to go.`));
    }
    this.nominationCleared = nominatedHere || pod.nominatedNodeName !== '';
    return this.end('unschedulable', rejected(`preemption: every candidate is blocked: ${blocked.join('; ')}.`));
  }

  /**
   * Upstream's prepareCandidate, with a trial first: a dry-run eviction
   * (dryRun=All) of every victim, so a PodDisruptionBudget that refuses one
   * (429) passes the candidate over before anyone is evicted. Then the pod is
   * nominated — before any victim goes, so every snapshot in which their room
   * is free already counts the pod there and filters out pods of lower or
   * equal priority — and the victims are evicted; pods of lower priority
   * nominated to the node lose their nomination. A budget can still refuse
   * between trial and eviction (a disruption raced this one): the candidate
   * is then passed over too.
   */
  private async prepareCandidate(writer: PodWriter, candidate: PreemptionCandidate): Promise<{ status: Status; nominated: boolean }> {
    const { pod, signal } = this.req;
    const refused = (victim: PreemptionVictim, when: string): Status =>
      Status.unschedulable(`evicting ${victim.namespace}/${victim.name} on node ${candidate.nodeName} would violate a PodDisruptionBudget${when}`);
    for (const victim of candidate.victims) {
      if ((await writer.evict(victim, signal, { dryRun: true })) === 'blocked') return { status: refused(victim, ''), nominated: false };
    }
    await writer.nominate(pod, candidate.nodeName, signal);
    for (const victim of candidate.victims) {
      if ((await writer.evict(victim, signal)) === 'blocked') return { status: refused(victim, ' (refused after its trial passed)'), nominated: true };
    }
    // Their room is the preemptor's now: they try again from scratch.
    for (const other of candidate.lowerPriorityNominated) await writer.nominate(other, '', signal);
    return { status: Status.SUCCESS, nominated: true };
  }

  /** {@link SchedulingAttempt.bindTo}: Reserve (and the rest) on the one node given. */
  async executeBindTo(node: string): Promise<AttemptResult> {
    this.ranked = [{ nodeName: node, total: 0, plugins: [] }];
    // kube-scheduler retries a bind whose answer is late while the first call still runs; the retry's
    // Reserve would move an unmarked lease, so each check must ask the ledger, however fresh the lease,
    // unless it was granted binding (lease-keeper.ts): then the retry is refused instead.
    this.leaseCheck = 'renew';
    if (!this.deps.clients.reservation) return this.bindOnly(node);
    return this.reserveAndBind(1);
  }

  private async gatewayFilterScore(gateway: GatewayPlugins): Promise<AttemptResult | undefined> {
    const { pod, signal } = this.req;
    const nodes = (): Node[] => this.ranked.map((r) => this.deps.nodes(r.nodeName)).filter((n): n is Node => n !== undefined);
    if (await this.serves(gateway, ExtensionPoint.EXTENSION_POINT_FILTER)) {
      const f = await this.step(ExtensionPoint.EXTENSION_POINT_FILTER, 'SchedmeshGateway', async () => {
        const out = await gateway.filter(pod, nodes(), signal);
        return { status: out.status, value: out };
      });
      if (f.status.isError()) return this.end('error', f.status);
      const feasible = new Set(f.value?.feasible ?? []);
      for (const [n, st] of f.value?.rejected ?? []) this.rejectedNodes.set(n, st);
      this.ranked = this.ranked.filter((r) => feasible.has(r.nodeName));
      if (this.ranked.length === 0) {
        const reasons = [...(f.value?.rejected.values() ?? [])];
        const status = (reasons[0] ?? Status.unschedulable('rejected by REST filter plugins')).withPlugin(reasons[0]?.plugin || 'SchedmeshGateway');
        return this.end('unschedulable', Status.of(status.code, `0/${feasible.size + (f.value?.rejected.size ?? 0)} ranked nodes passed the REST plugins: ${status.message()}`).withPlugin(status.plugin));
      }
    }
    if (this.req.filterOnly !== true && (await this.serves(gateway, ExtensionPoint.EXTENSION_POINT_SCORE))) {
      const s = await this.step(ExtensionPoint.EXTENSION_POINT_SCORE, 'SchedmeshGateway', async () => {
        const out = await gateway.score(pod, nodes(), signal);
        return { status: out.status, value: out };
      });
      if (s.status.isError()) return this.end('error', s.status);
      const scores = s.value?.scores ?? new Map<string, number>();
      // Upstream adds extender scores to the plugins' weighted sum; a stable sort keeps filterscore's tie order.
      this.ranked = this.ranked
        .map((r) => {
          const score = scores.get(r.nodeName);
          // The REST score joins the node's parts under the gateway's name, so the parts still add up to the total.
          return score === undefined ? r : { ...r, total: r.total + score, plugins: [...r.plugins, { plugin: GATEWAY_PLUGIN, score, weight: 1 }] };
        })
        .sort((a, b) => b.total - a.total);
    }
    return undefined;
  }

  private async reserveAndBind(tries: number): Promise<AttemptResult> {
    const reservation = this.deps.clients.reservation!;
    const { pod, signal } = this.req;
    const conflicts: Status[] = [];
    // Binding next without the renewal that would mark the lease: it is marked at its grant (lease-keeper.ts).
    const grantedBinding = this.req.mode === 'bind' && !pod.podGroup;
    for (const candidate of this.ranked.slice(0, tries)) {
      const node = candidate.nodeName;
      let bound = false;
      let grantSentAt = 0;
      const r = await this.step(ExtensionPoint.EXTENSION_POINT_RESERVE, RESERVATION_PLUGIN, async () => {
        grantSentAt = performance.now();
        const out = await reserve(reservation, pod, node, { ...this.deps.reservation, binding: grantedBinding }, Math.max(this.generation, this.req.minGeneration), signal);
        bound = out.bound === true;
        this.heldElsewhere = out.heldElsewhere === true;
        return { status: out.status, value: out.lease };
      });
      if (r.status.isError()) return this.end('error', r.status);
      if (bound) return this.end('settled', r.status);
      if (!r.status.isSuccess() || !r.value) {
        conflicts.push(r.status);
        continue;
      }
      const lease = r.value;
      let result: AttemptResult;
      try {
        // A service that does not know the mark leaves it off the lease: then the renewal before Bind sets it.
        const held = { podUid: pod.uid, nodeName: node, fencingVersion: lease.fencingVersion, ttlMs: this.deps.reservation.ttlMs, grantSentAt, grantedBinding: grantedBinding && lease.binding };
        result = await this.afterReserve(held);
      } catch (err) {
        result = this.end('error', this.failure(err), '', lease.fencingVersion);
      }
      // A Binding that may have landed keeps its lease: released now, the room of a bound pod would be
      // free until its bound event; kept, it lapses at its TTL or the bound event settles it.
      if (result.outcome !== 'scheduled' && !this.bindUnanswered) await this.unreserve(pod.uid, lease.fencingVersion);
      return result;
    }
    // Every candidate was taken by another replica since the snapshot: the pod backs off and tries again.
    const status = Status.unschedulable(`${conflicts.length} ranked node(s) were reserved by other pods meanwhile: ${conflicts.map((c) => c.message()).join('; ')}`).withPlugin(RESERVATION_PLUGIN);
    return this.end('unschedulable', status);
  }

  private async afterReserve(lease: HeldLease): Promise<AttemptResult> {
    const reservation = this.deps.clients.reservation!;
    const { pod, signal } = this.req;
    const { nodeName: node, fencingVersion } = lease;

    if (pod.podGroup) {
      const p = await this.step(ExtensionPoint.EXTENSION_POINT_PERMIT, RESERVATION_PLUGIN, async () => ({ status: await permit(reservation, pod, this.req.permitTimeoutMs, signal) }));
      if (!p.status.isSuccess() && !p.status.isSkip()) return this.end(p.status.isError() ? 'error' : 'unschedulable', p.status, '', fencingVersion);
    }
    if (this.req.mode !== 'bind') return this.end('scheduled', Status.SUCCESS, node, fencingVersion);

    const keeper = new LeaseKeeper(reservation, lease, this.deps.logger, signal);
    let bound: AttemptResult | undefined;
    try {
      bound = await this.preBindAndBind(node, fencingVersion, keeper);
    } finally {
      keeper.stop();
    }
    if (bound) return bound;

    // The pod is bound: its Confirm must run even when the caller gave up meanwhile (kube-scheduler's
    // extender httpTimeout). A lease left reserved is binding (its grant or the renewal before Bind marked
    // it): the pod's next Reserve on another node is refused until the bound event settles it or its TTL lapses.
    const c = await this.step(ExtensionPoint.EXTENSION_POINT_POST_BIND, RESERVATION_PLUGIN, async () => ({
      status: await confirm(reservation, pod.uid, fencingVersion, AbortSignal.timeout(30_000)),
    }));
    // The pod is bound: a failed Confirm only leaves the lease to its TTL and the bound event.
    if (c.status.isError()) this.deps.logger.warn({ pod: `${pod.namespace}/${pod.name}`, node, err: c.status.message() }, 'Confirm failed after the pod was bound; the lease expires with its TTL');
    return this.end('scheduled', Status.SUCCESS, node, fencingVersion);
  }

  /**
   * PreBind and Bind; undefined when bound, else the attempt's end. With a
   * lease (`keeper`), it is checked before PreBind and right before Bind
   * (renewed with its fencing version unless fresh, and right before Bind
   * unless also granted binding: lease-keeper.ts) and kept alive in between:
   * a pod whose lease lapsed (and may be someone else's room now) is not bound.
   */
  private async preBindAndBind(node: string, fencingVersion: number, keeper?: LeaseKeeper): Promise<AttemptResult | undefined> {
    const { pod, signal } = this.req;
    const writer = this.deps.writer;
    if (!writer) return this.end('error', Status.error('no Kubernetes writer configured for mode bind').withPlugin('DefaultBinder'), '', fencingVersion);
    const renewed = async (binding: boolean): Promise<AttemptResult | undefined> => {
      if (!keeper) return undefined;
      keeper.start();
      if (!keeper.mustRenew(this.leaseCheck, binding) && !this.req.concurrent?.()) return undefined;
      const r = await this.step(ExtensionPoint.EXTENSION_POINT_RESERVE, RESERVATION_PLUGIN, async () => ({ status: await keeper.renew(binding) }), 'Renew');
      if (!r.status.isSuccess()) return this.end(r.status.isError() ? 'error' : 'unschedulable', r.status, '', fencingVersion);
      return undefined;
    };
    const gateway = this.deps.gateway;
    if (gateway && (await this.serves(gateway, ExtensionPoint.EXTENSION_POINT_PRE_BIND))) {
      const lost = await renewed(false);
      if (lost) return lost;
      const pb = await this.step(ExtensionPoint.EXTENSION_POINT_PRE_BIND, 'SchedmeshGateway', async () => {
        const out = await gateway.preBind(pod, this.deps.nodes(node), signal);
        if (!out.status.isSuccess()) return { status: out.status };
        await writer.patchMetadata(pod, out.patch, signal);
        this.patched = out.patch;
        return { status: Status.SUCCESS };
      });
      if (!pb.status.isSuccess()) return this.end(pb.status.isError() ? 'error' : 'unschedulable', pb.status, '', fencingVersion);
    }
    // Marks the lease binding unless its grant did: if the Binding's answer is lost, the pod's next Reserve elsewhere is refused.
    const lost = await renewed(true);
    if (lost) return lost;
    const b = await this.step<BindOutcome>(ExtensionPoint.EXTENSION_POINT_BIND, 'DefaultBinder', async () => {
      const out = await writer.bind(pod, node, signal).catch((err: unknown) => {
        // Only the API server's own refusal (4xx) says the pod was not bound.
        if (!(err instanceof KubeApiError && err.status >= 400 && err.status < 500)) this.bindUnanswered = true;
        throw err;
      });
      if (out.kind === 'bound') return { status: Status.SUCCESS, value: out };
      return { status: Status.of(Status.unresolvable().code, out.kind === 'gone' ? 'the pod no longer exists' : `the pod was bound to ${out.nodeName} by someone else`), value: out };
    });
    if (b.status.isError()) return this.end('error', b.status, '', fencingVersion);
    if (!b.status.isSuccess()) return this.end('settled', b.status.withPlugin('DefaultBinder'), b.value?.kind === 'boundElsewhere' ? b.value.nodeName : '', fencingVersion);
    return undefined;
  }

  /** Without reservation in the mesh: bind the best node directly. */
  private async bindOnly(node: string): Promise<AttemptResult> {
    const bound = await this.preBindAndBind(node, 0);
    return bound ?? this.end('scheduled', Status.SUCCESS, node);
  }

  // Which points have REST plugins; a gateway that cannot say fails the attempt (it backs off),
  // so a pod never binds without the patches its PreBind plugins would have made.
  private async serves(gateway: GatewayPlugins, point: ExtensionPoint): Promise<boolean> {
    try {
      return await gateway.serves(point, this.req.signal);
    } catch (err) {
      throw new GatewayUnavailableError(err);
    }
  }


  private async unreserve(uid: string, fencingVersion: number): Promise<void> {
    const reservation = this.deps.clients.reservation;
    if (!reservation) return;
    // Unreserve must run even when the attempt was cancelled: a fresh signal with its own bound.
    await this.step(
      ExtensionPoint.EXTENSION_POINT_RESERVE,
      RESERVATION_PLUGIN,
      async () => {
        await unreserve(reservation, uid, fencingVersion, AbortSignal.timeout(5_000));
        return { status: Status.SUCCESS };
      },
      'Unreserve',
    );
  }

  /** Runs one step in a child span and records its StepResult; an exception becomes an Error status. */
  private async step<T>(point: ExtensionPoint, plugin: string, fn: () => Promise<{ status: Status; value?: T }>, label?: string): Promise<{ status: Status; value?: T }> {
    const name = `${label ?? SPAN_NAMES[point] ?? 'Step'}/${plugin}`;
    const started = performance.now();
    return this.deps.tracer.startActiveSpan(name, { attributes: { 'schedmesh.plugin': plugin } }, context.active(), async (span: Span) => {
      let out: { status: Status; value?: T };
      try {
        out = await fn();
      } catch (err) {
        if (this.req.signal.aborted) span.setAttribute('schedmesh.cancelled', true);
        out = { status: Status.error(err) };
      }
      const status = out.status.plugin ? out.status : out.status.withPlugin(plugin);
      span.setAttribute('schedmesh.status', status.toString());
      if (status.isError()) span.setStatus({ code: SpanStatusCode.ERROR, message: status.message() });
      span.end();
      this.steps.push({ point, status: status.toProto(), durationMicros: Math.round((performance.now() - started) * 1000) });
      return { ...out, status };
    });
  }

  /** The attempt's end after an exception outside any step. */
  fail(err: unknown): AttemptResult {
    return this.end('error', this.failure(err));
  }

  private failure(err: unknown): Status {
    return Status.error(err).withPlugin(err instanceof GatewayUnavailableError ? 'SchedmeshGateway' : 'SchedulingAttempt');
  }

  // A gang member's refusal names its gang, whichever step refused it (Permit's and the pod
  // group step's already do): its FailedScheduling says which group it holds back.
  private messageOf(outcome: AttemptOutcome, status: Status): string {
    const message = status.message();
    const group = this.req.pod.podGroup;
    if (!group || (outcome !== 'unschedulable' && outcome !== 'rejected') || message.startsWith('pod group ')) return message;
    return `pod group ${groupKey(this.req.pod.namespace, group.name)}: ${message}`;
  }

  private end(outcome: AttemptOutcome, status: Status, nodeName = '', fencingVersion = 0): AttemptResult {
    // Reservation's refusals (a node's room leased, a gang's round timed out) clear with time —
    // a lease lapses or is released, a round ends — and no cluster event announces it: naming no
    // rejector sends the pod to backoff instead of parking it until an event that may never come.
    const rejectors = status.isRejected() && status.plugin && status.plugin !== RESERVATION_PLUGIN ? [status.plugin] : [];
    return {
      outcome,
      status,
      nodeName,
      message: outcome === 'scheduled' ? '' : this.messageOf(outcome, status),
      generation: this.generation,
      fencingVersion,
      ranked: this.ranked,
      steps: this.steps,
      traceId: this.traceId,
      rejectors,
      rejectedNodes: this.rejectedNodes,
      nominatedNodeName: this.nominatedNodeName,
      candidates: this.candidates,
      nominationCleared: this.nominationCleared,
      heldElsewhere: this.heldElsewhere,
      patched: this.patched,
      admissionPolicies: this.admissionPolicies,
    };
  }
}

/**
 * Upstream's selectHost: among the nodes that share the top score, one is
 * chosen uniformly at random to go first. Without it, attempts running in
 * parallel on the same snapshot all pick the same node (ties come back in one
 * order) and pile onto it until Reserve refuses, instead of spreading.
 */
export function selectHostFirst(ranked: readonly NodeScore[], random: () => number = Math.random): NodeScore[] {
  const out = [...ranked];
  if (out.length < 2) return out;
  let ties = 1;
  while (ties < out.length && out[ties]!.total === out[0]!.total) ties++;
  const pick = Math.floor(random() * ties);
  if (pick > 0) [out[0], out[pick]] = [out[pick]!, out[0]!];
  return out;
}

function victimList(c: PreemptionCandidate): string {
  return `${c.victims.length} pod(s) (${c.victims.map((v) => `${v.namespace}/${v.name}`).join(', ')})`;
}

/** The gateway could not list its plugins. */
class GatewayUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the gateway could not list its plugins: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'GatewayUnavailableError';
  }
}

/** The active span's trace id, for logs outside the attempt. */
export function traceIdOf(span: Span | undefined = trace.getActiveSpan()): string {
  return span?.spanContext().traceId ?? '';
}
