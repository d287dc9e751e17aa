/**
 * Framework: one profile's plugins, instantiated once, and the calls into
 * them at each extension point (upstream runtime/framework.go). It adds the
 * plugin's name to every status, turns exceptions out of synchronous points
 * into Error statuses, applies Skip, and validates scores.
 */
import { CycleState, implementedPoints, MAX_NODE_SCORE, MIN_NODE_SCORE, PluginError, Status, StatusCode } from '@schedmesh/framework';
import type {
  BindPlugin,
  ExtensionPoint,
  Extender,
  FilterPlugin,
  FrameworkHandle,
  NodeInfo,
  NodeScore,
  NodeToStatus,
  PermitPlugin,
  PermitResult,
  Plugin,
  PodInfo,
  PostBindPlugin,
  PostFilterOptions,
  PostFilterPlugin,
  PostFilterResult,
  PreBindPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  QueuedPodInfo,
  QueueSortPlugin,
  ReservePlugin,
  ScorePlugin,
  SnapshotLister,
} from '@schedmesh/framework';
import type { ResolvedProfile } from './config.js';
import type { ExtenderErrorListener } from './extenders.js';
import type { Registry } from './registry.js';

/** The longest a Permit may hold a pod (upstream maxTimeout). */
export const MAX_PERMIT_TIMEOUT_MS = 15 * 60 * 1000;

/** What RunPreFilterPlugins returns. */
export interface PreFilterOutcome {
  /** Success, or the rejection that makes every node infeasible. */
  readonly status: Status;
  /** The intersection of the plugins' node sets; undefined = every node. */
  readonly nodeNames: ReadonlySet<string> | undefined;
  /** The plugins that narrowed the node set. */
  readonly narrowingPlugins: readonly string[];
}

/** One plugin's part of a node's score. */
export interface PluginScore {
  readonly plugin: string;
  /** Normalized, 0..100, before the weight. */
  readonly score: number;
  readonly weight: number;
}

/** A node's weighted total and its parts. */
export interface NodePluginScores {
  readonly name: string;
  readonly total: number;
  readonly scores: readonly PluginScore[];
}

/** One Score plugin's normalized scores (0..100, before its weight) over the nodes scored. */
export interface PluginScoreSummary {
  readonly plugin: string;
  readonly weight: number;
  readonly nodes: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/** What {@link Framework.runScorePlugins} returns. */
export interface ScoredNodes {
  /** Every node scored, in the order given. */
  readonly nodes: NodePluginScores[];
  /** Each plugin's score range over those nodes, in the order the plugins ran; empty when no plugin scored. */
  readonly summary: PluginScoreSummary[];
}

// Every plugin's normalized scores, one column per plugin, one row per node.
interface ScoreColumns {
  readonly plugins: readonly { readonly plugin: string; readonly weight: number }[];
  readonly columns: readonly Float64Array[];
}

/** A node's total, with its per-plugin parts read from the cycle's columns on demand. */
class ScoredNode implements NodePluginScores {
  readonly #table: ScoreColumns;
  readonly #row: number;

  constructor(
    readonly name: string,
    readonly total: number,
    table: ScoreColumns,
    row: number,
  ) {
    this.#table = table;
    this.#row = row;
  }

  get scores(): readonly PluginScore[] {
    const { plugins, columns } = this.#table;
    return plugins.map(({ plugin, weight }, j) => ({ plugin, score: (columns[j] as Float64Array)[this.#row] as number, weight }));
  }
}

/**
 * One Score plugin over the nodes, normalized. Only a plugin that
 * normalizes needs NodeScore entries (its NormalizeScore rewrites them);
 * the others write straight into the column.
 */
function scoreColumn(plugin: ScorePlugin, state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Float64Array {
  const column = new Float64Array(nodes.length);
  try {
    if (plugin.normalizeScore === undefined) {
      for (let i = 0; i < nodes.length; i++) column[i] = plugin.score(state, pod, nodes[i] as NodeInfo);
      return column;
    }
    const list = new Array<NodeScore>(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const info = nodes[i] as NodeInfo;
      list[i] = { name: info.name, score: plugin.score(state, pod, info) };
    }
    plugin.normalizeScore(state, pod, list);
    for (let i = 0; i < nodes.length; i++) column[i] = (list[i] as NodeScore).score;
    return column;
  } catch (err) {
    throw new PluginError(plugin.name, 'Score', (err as Error).message ?? String(err), { cause: err });
  }
}

interface Weighted<P> {
  readonly plugin: P;
  readonly weight: number;
}

/** Options of {@link Framework}. */
export interface FrameworkOptions {
  /** The resolved profile. */
  readonly profile: ResolvedProfile;
  /** The plugin factories. */
  readonly registry: Registry;
  /** The snapshot plugins read (the one of the current cycle). */
  readonly snapshot: () => SnapshotLister;
  /**
   * The extenders this profile's cycles call after the Filter plugins and
   * beside the Score plugins, in this order (upstream's scheduler-wide
   * extenders). Default: none.
   */
  readonly extenders?: readonly Extender[];
  /** Told about each extender failure a cycle went on without (an ignorable filter, any prioritize), e.g. to log it. */
  readonly onExtenderError?: ExtenderErrorListener;
}

function isA<P extends Plugin>(plugin: Plugin, point: ExtensionPoint): plugin is P {
  return implementedPoints(plugin).includes(point);
}

/** One profile's plugin runtime. */
export class Framework implements FrameworkHandle {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number;
  /** Where the next cycle starts walking the node list (fair rotation). */
  nextStartNodeIndex = 0;
  readonly queueSortPlugin: QueueSortPlugin | undefined;
  readonly preFilterPlugins: readonly PreFilterPlugin[];
  readonly filterPlugins: readonly FilterPlugin[];
  readonly postFilterPlugins: readonly PostFilterPlugin[];
  readonly preScorePlugins: readonly PreScorePlugin[];
  readonly scorePlugins: readonly Weighted<ScorePlugin>[];
  readonly reservePlugins: readonly ReservePlugin[];
  readonly permitPlugins: readonly PermitPlugin[];
  readonly preBindPlugins: readonly PreBindPlugin[];
  readonly bindPlugins: readonly BindPlugin[];
  readonly postBindPlugins: readonly PostBindPlugin[];
  /** The extenders, in call order (see {@link FrameworkOptions.extenders}). */
  readonly extenders: readonly Extender[];
  /** See {@link FrameworkOptions.onExtenderError}. */
  readonly onExtenderError: ExtenderErrorListener | undefined;
  private readonly snapshotOf: () => SnapshotLister;
  private readonly instances = new Map<string, Plugin>();
  private lastActiveFilters: { readonly state: CycleState; readonly skipped: number; readonly plugins: readonly FilterPlugin[] } | undefined;

  constructor(options: FrameworkOptions) {
    const { profile, registry } = options;
    this.profileName = profile.schedulerName;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore;
    this.snapshotOf = options.snapshot;
    this.extenders = options.extenders ?? [];
    this.onExtenderError = options.onExtenderError;

    // One instance per plugin, shared by every point it serves (upstream pluginsMap).
    const instance = (name: string): Plugin => {
      let p = this.instances.get(name);
      if (p === undefined) {
        const factory = registry.get(name);
        if (factory === undefined) throw new Error(`profile ${profile.schedulerName}: plugin ${name} is not registered`);
        p = factory.create(profile.pluginArgs.get(name), this);
        this.instances.set(name, p);
      }
      return p;
    };
    const at = <P extends Plugin>(point: ExtensionPoint): P[] =>
      profile.points[point].map((entry) => {
        const p = instance(entry.name);
        if (!isA<P>(p, point)) throw new Error(`profile ${profile.schedulerName}: plugin ${entry.name} does not implement ${point}`);
        return p;
      });

    this.queueSortPlugin = at<QueueSortPlugin>('queueSort')[0];
    this.preFilterPlugins = at('preFilter');
    this.filterPlugins = at('filter');
    this.postFilterPlugins = at('postFilter');
    this.preScorePlugins = at('preScore');
    const scorers = at<ScorePlugin>('score');
    this.scorePlugins = scorers.map((plugin, i) => ({ plugin, weight: profile.points.score[i]?.weight ?? 1 }));
    this.reservePlugins = at('reserve');
    this.permitPlugins = at('permit');
    this.preBindPlugins = at('preBind');
    this.bindPlugins = at('bind');
    this.postBindPlugins = at('postBind');
  }

  /** A plugin instance of this profile by name. */
  plugin(name: string): Plugin | undefined {
    return this.instances.get(name);
  }

  snapshot(): SnapshotLister {
    return this.snapshotOf();
  }

  get hasFilterPlugins(): boolean {
    return this.filterPlugins.length > 0;
  }

  get hasScorePlugins(): boolean {
    return this.scorePlugins.length > 0;
  }

  /** QueueSort's ordering (priority, then queue time, when PrioritySort is enabled). */
  queueSortLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    if (this.queueSortPlugin === undefined) return a.timestamp < b.timestamp;
    return this.queueSortPlugin.less(a, b);
  }

  /**
   * Runs every PreFilter plugin. Skip marks the plugin's Filter skipped;
   * UnschedulableAndUnresolvable stops at once; Unschedulable is kept while
   * the rest run (preemption may still help); node sets are intersected.
   *
   * @throws PluginError when a plugin fails (Error status or exception).
   */
  async runPreFilterPlugins(state: CycleState, pod: PodInfo, signal: AbortSignal): Promise<PreFilterOutcome> {
    const nodes = this.snapshot().nodeInfos();
    let result: Set<string> | undefined;
    let status: Status = Status.SUCCESS;
    const narrowing: string[] = [];
    for (const pl of this.preFilterPlugins) {
      let r;
      try {
        r = await pl.preFilter(state, pod, nodes, signal);
      } catch (err) {
        throw new PluginError(pl.name, 'PreFilter', (err as Error).message ?? String(err), { cause: err });
      }
      const s = r.status.withPlugin(pl.name);
      if (s.isSkip()) {
        state.skipFilterPlugins.add(pl.name);
        continue;
      }
      if (!s.isSuccess()) {
        if (s.code === StatusCode.UnschedulableAndUnresolvable) return { status: s, nodeNames: result, narrowingPlugins: narrowing };
        if (s.code === StatusCode.Unschedulable) {
          status = s;
          continue;
        }
        throw PluginError.fromStatus(s, 'PreFilter');
      }
      if (r.nodeNames !== undefined) {
        narrowing.push(pl.name);
        if (result === undefined) result = new Set(r.nodeNames);
        else for (const n of result) if (!r.nodeNames.has(n)) result.delete(n);
        if (result.size === 0) {
          const message = narrowing.length === 1 ? `node(s) didn't satisfy plugin ${narrowing[0]}` : `node(s) didn't satisfy plugin(s) [${narrowing.join(' ')}] simultaneously`;
          return { status: Status.unresolvable(message).withPlugin(pl.name), nodeNames: result, narrowingPlugins: narrowing };
        }
      }
    }
    return { status, nodeNames: result, narrowingPlugins: narrowing };
  }

  /**
   * Runs the Filter plugins on one node, stopping at the first that does not
   * succeed (upstream RunFilterPlugins). Never throws: a plugin exception is
   * an Error status naming the plugin.
   */
  runFilterPlugins(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.activeFilterPlugins(state)) {
      let s: Status;
      try {
        s = pl.filter(state, pod, nodeInfo);
      } catch (err) {
        return Status.error(err).withPlugin(pl.name);
      }
      if (!s.isSuccess()) {
        // A Filter has no Skip; upstream treats anything else as a failure too.
        return s.withPlugin(pl.name);
      }
    }
    return Status.SUCCESS;
  }

  /**
   * The Filter plugins PreFilter did not skip, worked out once per cycle
   * state instead of once per node: a state's skip set only grows, during
   * PreFilter, so its size tells whether the list still holds.
   */
  private activeFilterPlugins(state: CycleState): readonly FilterPlugin[] {
    const skip = state.skipFilterPlugins;
    const last = this.lastActiveFilters;
    if (last !== undefined && last.state === state && last.skipped === skip.size) return last.plugins;
    const plugins = skip.size === 0 ? this.filterPlugins : this.filterPlugins.filter((pl) => !skip.has(pl.name));
    this.lastActiveFilters = { state, skipped: skip.size, plugins };
    return plugins;
  }

  /**
   * Runs the filters with the node's nominated pods of equal or higher
   * priority added, then (if that passed and pods were added) without them
   * (upstream RunFilterPluginsWithNominatedPods): the pod must fit both ways.
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const nominated = this.snapshot().nominatedPods(nodeInfo.name);
    if (nominated.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const priority = pod.pod.priority;
    const ge = nominated.filter((p) => p.pod.uid !== pod.pod.uid && p.pod.priority >= priority);
    if (ge.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const stateWith = state.clone();
    const infoWith = nodeInfo.clone();
    for (const p of ge) {
      infoWith.addPod(p);
      const s = this.runPreFilterExtensionAddPod(stateWith, pod, p, infoWith);
      if (!s.isSuccess()) return s;
    }
    const first = this.runFilterPlugins(stateWith, pod, infoWith);
    if (!first.isSuccess()) return first;
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilterPlugins) {
      const ext = pl.preFilterExtensions;
      if (ext === undefined || state.skipFilterPlugins.has(pl.name)) continue;
      const s = ext.addPod(state, podToSchedule, podToAdd, nodeInfo);
      if (!s.isSuccess()) return Status.error(`running AddPod on PreFilter plugin ${pl.name}: ${s.message()}`).withPlugin(pl.name);
    }
    return Status.SUCCESS;
  }

  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilterPlugins) {
      const ext = pl.preFilterExtensions;
      if (ext === undefined || state.skipFilterPlugins.has(pl.name)) continue;
      const s = ext.removePod(state, podToSchedule, podToRemove, nodeInfo);
      if (!s.isSuccess()) return Status.error(`running RemovePod on PreFilter plugin ${pl.name}: ${s.message()}`).withPlugin(pl.name);
    }
    return Status.SUCCESS;
  }

  /**
   * Runs the PostFilter plugins until one succeeds (upstream
   * RunPostFilterPlugins). Returns the successful result, or Unschedulable
   * with the reasons of every plugin.
   *
   * @throws PluginError when a plugin fails.
   */
  async runPostFilterPlugins(state: CycleState, pod: PodInfo, statuses: NodeToStatus, options: PostFilterOptions, signal: AbortSignal): Promise<PostFilterResult> {
    const reasons: string[] = [];
    let candidates: PostFilterResult['candidates'];
    let nominatedNodeName: string | undefined;
    let plugin = '';
    for (const pl of this.postFilterPlugins) {
      let r: PostFilterResult;
      try {
        r = await pl.postFilter(state, pod, statuses, options, signal);
      } catch (err) {
        throw new PluginError(pl.name, 'PostFilter', (err as Error).message ?? String(err), { cause: err });
      }
      const s = r.status.withPlugin(pl.name);
      if (s.isSuccess()) return { ...r, status: s };
      if (s.isError()) throw PluginError.fromStatus(s, 'PostFilter');
      reasons.push(...s.reasons);
      candidates ??= r.candidates;
      // As upstream, a rejecting plugin's nomination change (a clear) is kept.
      if (r.nominatedNodeName !== undefined) nominatedNodeName = r.nominatedNodeName;
      plugin ||= pl.name;
    }
    const status = reasons.length === 0 ? Status.unschedulable() : Status.unschedulable(...reasons).withPlugin(plugin);
    return { status, ...(candidates === undefined ? {} : { candidates }), ...(nominatedNodeName === undefined ? {} : { nominatedNodeName }) };
  }

  /**
   * Runs PreScore; Skip marks the plugin's Score skipped.
   *
   * @throws PluginError when a plugin fails.
   */
  async runPreScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], signal: AbortSignal): Promise<void> {
    for (const pl of this.preScorePlugins) {
      let s: Status;
      try {
        s = (await pl.preScore(state, pod, nodes, signal)).withPlugin(pl.name);
      } catch (err) {
        throw new PluginError(pl.name, 'PreScore', (err as Error).message ?? String(err), { cause: err });
      }
      if (s.isSkip()) state.skipScorePlugins.add(pl.name);
      else if (!s.isSuccess()) throw PluginError.fromStatus(s, 'PreScore');
    }
  }

  /**
   * Scores every node with every (not skipped) Score plugin, normalizes,
   * checks the range and applies the weights (upstream RunScorePlugins).
   * The nodes keep their order. Each plugin's scores are kept as one column
   * of numbers: a node's per-plugin breakdown is built only when read (the
   * few ranked nodes a reply carries, not the hundreds scored), and each
   * plugin's range comes out of the same pass.
   *
   * @throws PluginError when a plugin fails or a score is out of range.
   */
  runScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): ScoredNodes {
    const active = this.scorePlugins.filter((p) => !state.skipScorePlugins.has(p.plugin.name));
    const columns: Float64Array[] = [];
    const totals = new Float64Array(nodes.length);
    const summary: PluginScoreSummary[] = [];
    for (const { plugin, weight } of active) {
      const column = scoreColumn(plugin, state, pod, nodes);
      let min = MAX_NODE_SCORE;
      let max = MIN_NODE_SCORE;
      let sum = 0;
      for (let i = 0; i < column.length; i++) {
        const score = column[i] as number;
        if (!Number.isInteger(score) || score < MIN_NODE_SCORE || score > MAX_NODE_SCORE) {
          throw new PluginError(plugin.name, 'Score', `score ${score} for node ${(nodes[i] as NodeInfo).name} is outside [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}]`);
        }
        if (score < min) min = score;
        if (score > max) max = score;
        sum += score;
        totals[i] = (totals[i] as number) + score * weight;
      }
      columns.push(column);
      if (nodes.length > 0) summary.push({ plugin: plugin.name, weight, nodes: nodes.length, min, max, mean: sum / nodes.length });
    }
    const table: ScoreColumns = { plugins: active.map(({ plugin, weight }) => ({ plugin: plugin.name, weight })), columns };
    const out = new Array<NodePluginScores>(nodes.length);
    for (let i = 0; i < nodes.length; i++) out[i] = new ScoredNode((nodes[i] as NodeInfo).name, totals[i] as number, table, i);
    return { nodes: out, summary };
  }

  /**
   * Runs Reserve in order; on the first failure, runs Unreserve on every
   * Reserve plugin in reverse order and returns the failure.
   */
  async runReservePlugins(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status> {
    for (const pl of this.reservePlugins) {
      let s: Status;
      try {
        s = (await pl.reserve(state, pod.pod, nodeName, signal)).withPlugin(pl.name);
      } catch (err) {
        s = Status.error(err).withPlugin(pl.name);
      }
      if (!s.isSuccess()) {
        await this.runUnreservePlugins(state, pod, nodeName, signal);
        return s;
      }
    }
    return Status.SUCCESS;
  }

  /** Runs Unreserve on every Reserve plugin, in reverse order; failures are swallowed (the contract forbids them). */
  async runUnreservePlugins(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<void> {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) {
      try {
        await (this.reservePlugins[i] as ReservePlugin).unreserve(state, pod.pod, nodeName, signal);
      } catch {
        // Unreserve must not fail; a broken one must not stop the others.
      }
    }
  }

  /**
   * Runs Permit: a rejection stops at once; Wait from any plugin makes the
   * result Wait with the shortest timeout (capped at 15 minutes).
   */
  async runPermitPlugins(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<PermitResult> {
    let wait: number | undefined;
    for (const pl of this.permitPlugins) {
      let r: PermitResult;
      try {
        r = await pl.permit(state, pod.pod, nodeName, signal);
      } catch (err) {
        return { status: Status.error(err).withPlugin(pl.name) };
      }
      const s = r.status.withPlugin(pl.name);
      if (s.code === StatusCode.Wait) {
        const t = Math.min(r.timeoutMs ?? MAX_PERMIT_TIMEOUT_MS, MAX_PERMIT_TIMEOUT_MS);
        wait = wait === undefined ? t : Math.min(wait, t);
      } else if (!s.isSuccess()) return { status: s };
    }
    return wait === undefined ? { status: Status.SUCCESS } : { status: Status.of(StatusCode.Wait), timeoutMs: wait };
  }

  /** Runs PreBind in order, stopping at the first failure. */
  async runPreBindPlugins(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status> {
    for (const pl of this.preBindPlugins) {
      let s: Status;
      try {
        s = (await pl.preBind(state, pod.pod, nodeName, signal)).withPlugin(pl.name);
      } catch (err) {
        s = Status.error(err).withPlugin(pl.name);
      }
      if (!s.isSuccess()) return s;
    }
    return Status.SUCCESS;
  }

  /** Runs Bind plugins until one does not Skip; Skip from all of them is returned as Skip. */
  async runBindPlugins(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status> {
    for (const pl of this.bindPlugins) {
      let s: Status;
      try {
        s = (await pl.bind(state, pod.pod, nodeName, signal)).withPlugin(pl.name);
      } catch (err) {
        s = Status.error(err).withPlugin(pl.name);
      }
      if (!s.isSkip()) return s;
    }
    return Status.SKIP;
  }

  /** Runs PostBind; failures are swallowed (informational point). */
  async runPostBindPlugins(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<void> {
    for (const pl of this.postBindPlugins) {
      try {
        await pl.postBind(state, pod.pod, nodeName, signal);
      } catch {
        // PostBind cannot fail the pod.
      }
    }
  }
}

/** A fresh cycle state (convenience for callers that hold only the framework). */
export function newCycleState(): CycleState {
  return new CycleState();
}
