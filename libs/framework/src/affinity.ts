/**
 * Matching with compiled affinity terms: pure functions over the
 * {@link AffinityTerm} and {@link PodInfo} interfaces, which plugins share
 * (upstream AffinityTerm.Matches and its helpers). Compiling a pod's terms is
 * the snapshot's job (newPodInfo in @schedmesh/scheduling).
 */
import { MATCH_NOTHING } from '@schedmesh/model';
import type { Labels } from '@schedmesh/model';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { AffinityTerm, PodInfo } from './types.js';

const EMPTY_LABELS: Labels = Object.freeze({});

/**
 * Whether a term selects a pod: the pod's namespace is one of the term's (or
 * its namespace's labels match the namespace selector) and its labels match.
 * nsLabels are the labels of the pod's namespace; undefined when unknown.
 */
export function termMatches(term: AffinityTerm, pod: Pod, nsLabels: Labels | undefined): boolean {
  if (term.namespaces.has(pod.namespace) || term.namespaceSelector.matches(nsLabels ?? EMPTY_LABELS)) {
    return term.selector.matches(pod.labels);
  }
  return false;
}

/** Whether the pod matches every term (false for no terms), namespace selectors aside (upstream podMatchesAllAffinityTerms). */
export function podMatchesAllTerms(terms: readonly AffinityTerm[], pod: Pod): boolean {
  if (terms.length === 0) return false;
  for (const term of terms) if (!termMatches(term, pod, undefined)) return false;
  return true;
}

/** Whether a pod has any pod affinity or anti-affinity term. */
export function hasPodAffinityTerms(info: PodInfo): boolean {
  return (
    info.requiredAffinityTerms.length > 0 ||
    info.requiredAntiAffinityTerms.length > 0 ||
    info.preferredAffinityTerms.length > 0 ||
    info.preferredAntiAffinityTerms.length > 0
  );
}

/**
 * A copy of term whose namespace selector is resolved into namespaces (upstream
 * mergeAffinityTermNamespacesIfNotEmpty): the namespaces whose labels match
 * are added, and the selector then selects nothing. An empty selector (every
 * namespace) is kept as is.
 */
export function resolveNamespaceSelector<T extends AffinityTerm>(term: T, namespaces: Iterable<{ readonly name: string; readonly labels: Labels }>): T {
  if (!term.hasNamespaceSelectorTerms) return term;
  const merged = new Set(term.namespaces);
  for (const ns of namespaces) if (term.namespaceSelector.matches(ns.labels)) merged.add(ns.name);
  return { ...term, namespaces: merged, namespaceSelector: MATCH_NOTHING, hasNamespaceSelectorTerms: false };
}
