/**
 * Selectors and affinity at the edge: label selectors, node selector terms,
 * node affinity and inter-pod (anti-)affinity, each requirement checked as
 * upstream's validation does.
 */
import type {
  Affinity,
  LabelSelector,
  NodeAffinity,
  NodeSelectorTerm,
  PodAffinity,
  PodAffinityTerm,
  PreferredSchedulingTerm,
  SelectorRequirement,
  WeightedPodAffinityTerm,
} from '@schedmesh/proto/v1/types';
import { FieldIssue, mapArray, optInt, optObject, optString, reqObject, reqString, stringList, stringMap, sub } from '../fields.js';
import { labelKeyProblem, labelValueProblem, requirementProblem, selectorOperatorFromString, unsupportedOperatorReason } from '../selectors.js';
import type { RequirementKind } from '../selectors.js';

function requirementOf(v: unknown, kind: RequirementKind): SelectorRequirement {
  const r = reqObject(v, '');
  const operatorText = optString(r.operator, 'operator');
  const operator = selectorOperatorFromString(operatorText, kind);
  if (operator === undefined) throw new FieldIssue('operator', unsupportedOperatorReason(operatorText, kind));
  const req: SelectorRequirement = { key: optString(r.key, 'key'), operator, values: stringList(r.values, 'values') };
  const problem = requirementProblem(req, kind);
  if (problem !== undefined) throw new FieldIssue(problem.field, problem.reason);
  return req;
}

function labelRequirement(v: unknown): SelectorRequirement {
  return requirementOf(v, 'label');
}

function nodeRequirement(v: unknown): SelectorRequirement {
  return requirementOf(v, 'node');
}

function fieldRequirement(v: unknown): SelectorRequirement {
  return requirementOf(v, 'field');
}

/** A label selector (metav1.LabelSelector); undefined when absent. */
export function labelSelectorOf(v: unknown): LabelSelector | undefined {
  const s = optObject(v, '');
  if (s === undefined) return undefined;
  const matchLabels = stringMap(s.matchLabels, 'matchLabels');
  for (const key in matchLabels) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(matchLabels[key] ?? '');
    if (problem !== undefined) throw new FieldIssue(`matchLabels[${key}]`, problem);
  }
  return { matchLabels, matchExpressions: mapArray(s.matchExpressions, 'matchExpressions', labelRequirement) };
}

function nodeSelectorTermOf(v: unknown): NodeSelectorTerm {
  const t = reqObject(v, '');
  return {
    matchExpressions: mapArray(t.matchExpressions, 'matchExpressions', nodeRequirement),
    matchFields: mapArray(t.matchFields, 'matchFields', fieldRequirement),
  };
}

function weightOf(v: unknown): number {
  const weight = optInt(v, 'weight', 1, 100);
  if (weight === undefined) throw new FieldIssue('weight', 'required value');
  return weight;
}

function preferredSchedulingTermOf(v: unknown): PreferredSchedulingTerm {
  const t = reqObject(v, '');
  const weight = weightOf(t.weight);
  return { weight, preference: sub('preference', reqObject(t.preference, 'preference'), nodeSelectorTermOf) };
}

const REQUIRED = 'requiredDuringSchedulingIgnoredDuringExecution';
const PREFERRED = 'preferredDuringSchedulingIgnoredDuringExecution';
const REQUIRED_TERMS = `${REQUIRED}.nodeSelectorTerms`;

function nodeAffinityOf(v: unknown): NodeAffinity {
  const a = reqObject(v, '');
  const required = optObject(a[REQUIRED], REQUIRED);
  let terms: NodeSelectorTerm[] | undefined;
  if (required !== undefined) {
    terms = mapArray(required.nodeSelectorTerms, REQUIRED_TERMS, nodeSelectorTermOf);
    if (terms.length === 0) throw new FieldIssue(REQUIRED_TERMS, 'must have at least one node selector term');
  }
  return {
    required: terms === undefined ? undefined : { terms },
    preferred: mapArray(a[PREFERRED], PREFERRED, preferredSchedulingTermOf),
  };
}

/** A topology key: a label key, required. */
export function topologyKeyOf(v: unknown, field: string): string {
  const key = reqString(v, field);
  const problem = labelKeyProblem(key);
  if (problem !== undefined) throw new FieldIssue(field, problem);
  return key;
}

function podAffinityTermOf(v: unknown): PodAffinityTerm {
  const t = reqObject(v, '');
  return {
    labelSelector: sub('labelSelector', t.labelSelector, labelSelectorOf),
    namespaces: stringList(t.namespaces, 'namespaces'),
    namespaceSelector: sub('namespaceSelector', t.namespaceSelector, labelSelectorOf),
    topologyKey: topologyKeyOf(t.topologyKey, 'topologyKey'),
  };
}

function weightedPodAffinityTermOf(v: unknown): WeightedPodAffinityTerm {
  const t = reqObject(v, '');
  const weight = weightOf(t.weight);
  return { weight, term: sub('podAffinityTerm', reqObject(t.podAffinityTerm, 'podAffinityTerm'), podAffinityTermOf) };
}

function podAffinityOf(v: unknown): PodAffinity {
  const a = reqObject(v, '');
  return {
    required: mapArray(a[REQUIRED], REQUIRED, podAffinityTermOf),
    preferred: mapArray(a[PREFERRED], PREFERRED, weightedPodAffinityTermOf),
  };
}

/** A pod's affinity; undefined when it sets none. */
export function affinityOf(v: unknown): Affinity | undefined {
  const a = optObject(v, '');
  if (a === undefined) return undefined;
  const nodeAffinity = a.nodeAffinity == null ? undefined : sub('nodeAffinity', a.nodeAffinity, nodeAffinityOf);
  const podAffinity = a.podAffinity == null ? undefined : sub('podAffinity', a.podAffinity, podAffinityOf);
  const podAntiAffinity = a.podAntiAffinity == null ? undefined : sub('podAntiAffinity', a.podAntiAffinity, podAffinityOf);
  if (nodeAffinity === undefined && podAffinity === undefined && podAntiAffinity === undefined) return undefined;
  return { nodeAffinity, podAffinity, podAntiAffinity };
}
