/**
 * TopologyAware (schedmesh): prefers nodes in the pod's preferred zone and
 * rack. The preference comes from the pod's annotation or label
 * schedmesh.io/preferred-zone / schedmesh.io/preferred-rack (the annotation
 * wins). A node scores 100 × (zoneWeight·zoneMatch + rackWeight·rackMatch) /
 * (the weights of the preferences the pod expresses); pods without a
 * preference skip the plugin.
 *
 * schedmesh's own: kube-scheduler v1.36 has no counterpart (the fidelity
 * run, test/fidelity, leaves it out of the compared profile).
 */
import { definePlugin, MAX_NODE_SCORE, PluginNames, StateKey, Status } from '@schedmesh/framework';
import type { CycleState, NodeInfo, PodInfo, PreScorePlugin, ReadonlyCycleState, ScorePlugin, StateData } from '@schedmesh/framework';
import { PREFERRED_RACK_KEY, PREFERRED_ZONE_KEY, topologyAwareArgsSchema } from './args.js';
import type { TopologyAwareArgs } from './args.js';

/** A pod's zone and rack preference. */
export interface TopologyPreference {
  readonly zone: string | undefined;
  readonly rack: string | undefined;
}

/** The pod's preference: annotation first, then label; empty values mean none. */
export function topologyPreference(pod: PodInfo['pod']): TopologyPreference {
  const pick = (key: string): string | undefined => {
    const v = pod.annotations[key] ?? pod.labels[key];
    return v === undefined || v === '' ? undefined : v;
  };
  return { zone: pick(PREFERRED_ZONE_KEY), rack: pick(PREFERRED_RACK_KEY) };
}

class PreScoreState implements StateData {
  constructor(
    readonly preference: TopologyPreference,
    readonly denominator: number,
  ) {}
  clone(): this {
    return this;
  }
}

const PRE_SCORE_KEY = new StateKey<PreScoreState>(`PreScore${PluginNames.TopologyAware}`);

class TopologyAware implements PreScorePlugin, ScorePlugin {
  readonly name = PluginNames.TopologyAware;

  constructor(private readonly args: TopologyAwareArgs) {}

  private state(pod: PodInfo): PreScoreState | undefined {
    const preference = topologyPreference(pod.pod);
    const denominator = (preference.zone !== undefined ? this.args.zoneWeight : 0) + (preference.rack !== undefined ? this.args.rackWeight : 0);
    return denominator === 0 ? undefined : new PreScoreState(preference, denominator);
  }

  async preScore(state: CycleState, pod: PodInfo): Promise<Status> {
    const s = this.state(pod);
    if (s === undefined) return Status.SKIP;
    state.write(PRE_SCORE_KEY, s);
    return Status.SUCCESS;
  }

  score(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const s = state.read(PRE_SCORE_KEY) ?? this.state(pod);
    if (s === undefined) return 0;
    const labels = nodeInfo.node.labels;
    let sum = 0;
    if (s.preference.zone !== undefined && labels[this.args.zoneLabel] === s.preference.zone) sum += this.args.zoneWeight;
    if (s.preference.rack !== undefined && labels[this.args.rackLabel] === s.preference.rack) sum += this.args.rackWeight;
    return Math.trunc((MAX_NODE_SCORE * sum) / s.denominator);
  }
}

/** The TopologyAware factory. */
export const topologyAwarePlugin = definePlugin<TopologyAwareArgs>({
  name: PluginNames.TopologyAware,
  points: ['preScore', 'score'],
  defaultWeight: 1,
  args: topologyAwareArgsSchema,
  create: (args) => new TopologyAware(args),
});
