import { trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import type { NodeInfo } from '@schedmesh/framework';
import { evaluatePod, findNodesThatFitPod, findPreemptionCandidates, Framework, newPodInfo, scoreNodes } from '@schedmesh/scheduling';
import type { EvaluateResult, FilterResult, NodePluginScores, PreemptionSearchResult, Registry, ResolvedSchedulerConfig } from '@schedmesh/scheduling';
import type { Pod } from '@schedmesh/proto/v1/types';
import { FailedPreconditionError, InvalidArgumentError, withSpan } from '@schedmesh/runtime';
import { recordCycle } from './cycle-trace.js';
import type { SnapshotReplica } from './replica.js';

/** What every call shares (the proto CycleOptions, resolved). */
export interface CallOptions {
  /** The profile (schedulerName); empty = the first configured profile. */
  readonly profile: string;
  /** Wait until the replica has applied this generation; 0 = no wait. */
  readonly minGeneration: number;
  /** Consider only these nodes; empty = every node. */
  readonly nodeNames: readonly string[];
  /** Cancels the wait and the remote points (the call's deadline). */
  readonly signal: AbortSignal;
}

/** An outcome and the generation it was computed at. */
export interface AtGeneration<T> {
  readonly generation: number;
  readonly result: T;
}

/** Options of {@link FilterScoreEngine}. */
export interface FilterScoreEngineOptions {
  readonly config: ResolvedSchedulerConfig;
  readonly registry: Registry;
  readonly replica: SnapshotReplica;
  /** Candidates returned when the caller asks for 0. */
  readonly defaultMaxCandidates: number;
  /** The tracer of the Evaluate spans (default: the global provider's). */
  readonly tracer?: Tracer;
}

// One configuration's frameworks; replaced whole, never changed in place.
interface Profiles {
  readonly frameworks: ReadonlyMap<string, Framework>;
  readonly defaultProfile: string;
}

/**
 * The filterscore domain: one Framework per profile over the local replica,
 * and the four operations the service offers. Each operation waits for the
 * requested generation, then runs inside the replica's read gate so that
 * the snapshot does not change while the cycle runs. The profiles can be
 * replaced at run time ({@link FilterScoreEngine.reload}). Knows nothing of gRPC.
 */
export class FilterScoreEngine {
  private current: Profiles;
  private readonly registry: Registry;
  private readonly replica: SnapshotReplica;
  private readonly defaultMaxCandidates: number;
  private readonly tracer: Tracer;

  constructor(options: FilterScoreEngineOptions) {
    this.tracer = options.tracer ?? trace.getTracer('schedmesh-filterscore');
    this.registry = options.registry;
    this.replica = options.replica;
    this.defaultMaxCandidates = options.defaultMaxCandidates;
    this.current = this.build(options.config);
  }

  private build(config: ResolvedSchedulerConfig): Profiles {
    const replica = this.replica;
    const frameworks = new Map<string, Framework>();
    for (const profile of config.profiles) {
      frameworks.set(profile.schedulerName, new Framework({ profile, registry: this.registry, snapshot: () => replica.current }));
    }
    return { frameworks, defaultProfile: config.profiles[0]?.schedulerName ?? '' };
  }

  /**
   * Replaces every profile at once. The new frameworks are built first (a
   * plugin factory that throws leaves the profiles in force); cycles already
   * running finish on the frameworks they started with.
   */
  reload(config: ResolvedSchedulerConfig): void {
    this.current = this.build(config);
  }

  /** The configured profile names, the default first. */
  get profiles(): string[] {
    return [...this.current.frameworks.keys()];
  }

  /** A profile's framework; INVALID_ARGUMENT for an unknown name. */
  framework(profile: string): Framework {
    const { frameworks, defaultProfile } = this.current;
    const name = profile === '' ? defaultProfile : profile;
    const fwk = frameworks.get(name);
    if (fwk === undefined) throw new InvalidArgumentError('options.profile', `unknown profile ${JSON.stringify(profile)}; configured: ${[...frameworks.keys()].join(', ')}`);
    return fwk;
  }

  private async cycle<T>(options: CallOptions, run: (fwk: Framework) => Promise<T>): Promise<AtGeneration<T>> {
    const fwk = this.framework(options.profile);
    this.replica.gate.requireSynced();
    if (options.minGeneration > 0) await this.replica.gate.waitFor(options.minGeneration, options.signal);
    return this.replica.read(async (snapshot) => ({ generation: snapshot.generation, result: await run(fwk) }));
  }

  /**
   * PreFilter, Filter, PreScore, Score, NormalizeScore; PostFilter as a dry
   * run when nothing fits. One `filterscore.Evaluate` span with an event per
   * plugin that rejected or scored (see cycle-trace.ts).
   */
  evaluate(pod: Pod, options: CallOptions, maxRanked: number, flags: { readonly exhaustive?: boolean; readonly skipScore?: boolean } = {}): Promise<AtGeneration<EvaluateResult>> {
    const attributes = { 'k8s.namespace.name': pod.namespace, 'k8s.pod.name': pod.name, 'k8s.pod.uid': pod.uid, 'schedmesh.profile': options.profile };
    return withSpan(this.tracer, 'filterscore.Evaluate', { attributes }, async (span) => {
      const out = await this.cycle(options, (fwk) => evaluatePod(fwk, { pod: newPodInfo(pod), nodeNames: options.nodeNames, signal: options.signal, maxRanked, ...flags }));
      recordCycle(span, out.generation, out.result);
      return out;
    });
  }

  /** PreFilter and Filter. */
  filter(pod: Pod, options: CallOptions, exhaustive: boolean): Promise<AtGeneration<FilterResult>> {
    return this.cycle(options, (fwk) => findNodesThatFitPod(fwk, { pod: newPodInfo(pod), nodeNames: options.nodeNames, signal: options.signal, exhaustive }));
  }

  /**
   * PreScore, Score and NormalizeScore on the named nodes.
   *
   * @throws FailedPreconditionError when a named node is not in the replica.
   */
  score(pod: Pod, options: CallOptions): Promise<AtGeneration<NodePluginScores[]>> {
    return this.cycle(options, (fwk) => {
      const snapshot = fwk.snapshot();
      const nodes: NodeInfo[] = [];
      for (const name of new Set(options.nodeNames)) {
        const info = snapshot.nodeInfo(name);
        if (info === undefined) throw new FailedPreconditionError(`node ${JSON.stringify(name)} is not in the snapshot at generation ${snapshot.generation}`);
        nodes.push(info);
      }
      return scoreNodes(fwk, newPodInfo(pod), nodes, options.signal);
    });
  }

  /** The preemption dry run: candidates best first. */
  findPreemptionCandidates(pod: Pod, options: CallOptions, maxCandidates: number): Promise<AtGeneration<PreemptionSearchResult>> {
    const max = maxCandidates > 0 ? maxCandidates : this.defaultMaxCandidates;
    return this.cycle(options, (fwk) => findPreemptionCandidates(fwk, { pod: newPodInfo(pod), nodeNames: options.nodeNames, signal: options.signal, maxCandidates: max }));
  }
}
