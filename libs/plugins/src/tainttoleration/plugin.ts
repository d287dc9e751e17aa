/**
 * TaintToleration: Filter rejects nodes with a NoSchedule or NoExecute taint
 * the pod does not tolerate; Score prefers nodes with fewer untolerated
 * PreferNoSchedule taints.
 *
 * Mirrors kube-scheduler v1.36 pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go.
 */
import { definePlugin, PluginNames, StateKey, Status } from '@schedmesh/framework';
import type { CycleState, FilterPlugin, NodeInfo, NodeScore, PodInfo, PreScorePlugin, ReadonlyCycleState, ScorePlugin, StateData } from '@schedmesh/framework';
import { countUntoleratedTaints, FILTER_EFFECTS, findUntoleratedTaint } from '@schedmesh/model';
import { TaintEffect } from '@schedmesh/proto/v1/types';
import type { Toleration } from '@schedmesh/proto/v1/types';
import { defaultNormalizeScore } from '../helpers/normalize.js';

/**
 * The Filter reason, as kube-scheduler v1.36 words it: the taint is not named
 * (1.27–1.32 wrote "node(s) had untolerated taint {key: value}"), so every
 * tainted node counts under one reason.
 */
export const ERR_REASON_UNTOLERATED_TAINT = 'node(s) had untolerated taint(s)';

class PreScoreState implements StateData {
  constructor(readonly tolerationsPreferNoSchedule: readonly Toleration[]) {}
  clone(): this {
    return this;
  }
}

const PRE_SCORE_KEY = new StateKey<PreScoreState>(`PreScore${PluginNames.TaintToleration}`);

// Tolerations with no effect cover PreferNoSchedule too.
function preferNoScheduleTolerations(tolerations: readonly Toleration[]): Toleration[] {
  return tolerations.filter((t) => t.effect === TaintEffect.TAINT_EFFECT_UNSPECIFIED || t.effect === TaintEffect.TAINT_EFFECT_PREFER_NO_SCHEDULE);
}

class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = PluginNames.TaintToleration;

  filter(_state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): Status {
    const taints = nodeInfo.node.taints;
    if (taints.length === 0) return Status.SUCCESS;
    const taint = findUntoleratedTaint(taints, pod.pod.tolerations, FILTER_EFFECTS);
    if (taint === undefined) return Status.SUCCESS;
    return Status.unresolvable(ERR_REASON_UNTOLERATED_TAINT);
  }

  async preScore(state: CycleState, pod: PodInfo): Promise<Status> {
    state.write(PRE_SCORE_KEY, new PreScoreState(preferNoScheduleTolerations(pod.pod.tolerations)));
    return Status.SUCCESS;
  }

  score(state: ReadonlyCycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const taints = nodeInfo.node.taints;
    if (taints.length === 0) return 0;
    const tolerations = state.read(PRE_SCORE_KEY)?.tolerationsPreferNoSchedule ?? preferNoScheduleTolerations(pod.pod.tolerations);
    return countUntoleratedTaints(taints, tolerations, TaintEffect.TAINT_EFFECT_PREFER_NO_SCHEDULE);
  }

  normalizeScore(_state: ReadonlyCycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(scores, true);
  }
}

/** The TaintToleration factory. */
export const taintTolerationPlugin = definePlugin({
  name: PluginNames.TaintToleration,
  points: ['filter', 'preScore', 'score'],
  defaultWeight: 3,
  create: () => new TaintToleration(),
});
