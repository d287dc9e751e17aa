/** Topology spread constraints at the edge, the policies defaulted as the API does. */
import { NodeInclusionPolicy, UnsatisfiableConstraintAction } from '@schedmesh/proto/v1/types';
import type { TopologySpreadConstraint } from '@schedmesh/proto/v1/types';
import { FieldIssue, optInt, reqObject, stringList, sub } from '../fields.js';
import { labelSelectorOf, topologyKeyOf } from './affinity.js';
import { enumOf, INT32_MAX } from './values.js';

const WHEN_UNSATISFIABLE: ReadonlyMap<string, UnsatisfiableConstraintAction> = new Map([
  ['DoNotSchedule', UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_DO_NOT_SCHEDULE],
  ['ScheduleAnyway', UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_SCHEDULE_ANYWAY],
]);

const AFFINITY_POLICIES: ReadonlyMap<string, NodeInclusionPolicy> = new Map([
  ['', NodeInclusionPolicy.NODE_INCLUSION_POLICY_HONOR],
  ['Honor', NodeInclusionPolicy.NODE_INCLUSION_POLICY_HONOR],
  ['Ignore', NodeInclusionPolicy.NODE_INCLUSION_POLICY_IGNORE],
]);

const TAINTS_POLICIES: ReadonlyMap<string, NodeInclusionPolicy> = new Map([
  ['', NodeInclusionPolicy.NODE_INCLUSION_POLICY_IGNORE],
  ['Honor', NodeInclusionPolicy.NODE_INCLUSION_POLICY_HONOR],
  ['Ignore', NodeInclusionPolicy.NODE_INCLUSION_POLICY_IGNORE],
]);

/** One topology spread constraint of a pod. */
export function spreadConstraintOf(v: unknown): TopologySpreadConstraint {
  const c = reqObject(v, '');
  const maxSkew = optInt(c.maxSkew, 'maxSkew', Number.MIN_SAFE_INTEGER, INT32_MAX);
  if (maxSkew === undefined) throw new FieldIssue('maxSkew', 'required value');
  if (maxSkew < 1) throw new FieldIssue('maxSkew', 'must be greater than zero');
  const whenUnsatisfiable = enumOf(c.whenUnsatisfiable, 'whenUnsatisfiable', WHEN_UNSATISFIABLE, '"DoNotSchedule", "ScheduleAnyway"');
  const minDomains = optInt(c.minDomains, 'minDomains', Number.MIN_SAFE_INTEGER, INT32_MAX);
  if (minDomains !== undefined) {
    if (minDomains < 1) throw new FieldIssue('minDomains', 'must be greater than zero');
    if (whenUnsatisfiable !== UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_DO_NOT_SCHEDULE) {
      throw new FieldIssue('minDomains', 'can only be used when whenUnsatisfiable is "DoNotSchedule"');
    }
  }
  return {
    maxSkew,
    topologyKey: topologyKeyOf(c.topologyKey, 'topologyKey'),
    whenUnsatisfiable,
    labelSelector: sub('labelSelector', c.labelSelector, labelSelectorOf),
    minDomains,
    nodeAffinityPolicy: enumOf(c.nodeAffinityPolicy, 'nodeAffinityPolicy', AFFINITY_POLICIES, '"Honor", "Ignore"'),
    nodeTaintsPolicy: enumOf(c.nodeTaintsPolicy, 'nodeTaintsPolicy', TAINTS_POLICIES, '"Honor", "Ignore"'),
    matchLabelKeys: stringList(c.matchLabelKeys, 'matchLabelKeys'),
  };
}
