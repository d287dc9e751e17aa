/** Label selectors, their requirements and pod affinity terms, for pod builders and plugin tests. */
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import type { LabelSelector, PodAffinityTerm, SelectorRequirement } from '@schedmesh/proto/v1/types';

/** `In` requirement. */
export function inReq(key: string, ...values: string[]): SelectorRequirement {
  return { key, operator: SelectorOperator.SELECTOR_OPERATOR_IN, values };
}
/** `NotIn` requirement. */
export function notInReq(key: string, ...values: string[]): SelectorRequirement {
  return { key, operator: SelectorOperator.SELECTOR_OPERATOR_NOT_IN, values };
}
/** `Exists` requirement. */
export function existsReq(key: string): SelectorRequirement {
  return { key, operator: SelectorOperator.SELECTOR_OPERATOR_EXISTS, values: [] };
}
/** `DoesNotExist` requirement. */
export function doesNotExistReq(key: string): SelectorRequirement {
  return { key, operator: SelectorOperator.SELECTOR_OPERATOR_DOES_NOT_EXIST, values: [] };
}
/** A label selector. */
export function selector(matchLabels: Record<string, string> = {}, ...matchExpressions: SelectorRequirement[]): LabelSelector {
  return { matchLabels, matchExpressions };
}
/** A pod affinity term. */
export function affinityTerm(topologyKey: string, labelSelector: LabelSelector | undefined, options: { namespaces?: string[]; namespaceSelector?: LabelSelector } = {}): PodAffinityTerm {
  return { topologyKey, labelSelector, namespaces: options.namespaces ?? [], namespaceSelector: options.namespaceSelector };
}
