/**
 * PodInfo: a pod with its affinity terms compiled once, so that matching a
 * term against thousands of pods costs no parsing (upstream framework.PodInfo).
 * The interface and the matching helpers are the contract's (@schedmesh/framework).
 */
import type { AffinityTerm, PodInfo, WeightedAffinityTerm } from '@schedmesh/framework';
import { compileLabelSelector, MATCH_EVERYTHING, MATCH_NOTHING } from '@schedmesh/model';
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '@schedmesh/proto/v1/types';

const NO_TERMS: readonly never[] = Object.freeze([]);

/** Compiles one term of pod (upstream newAffinityTerm, with getNamespacesFromPodAffinityTerm). */
export function compileAffinityTerm(pod: Pod, term: PodAffinityTerm): AffinityTerm {
  const namespaces = term.namespaces.length === 0 && term.namespaceSelector === undefined ? new Set([pod.namespace]) : new Set(term.namespaces);
  const nsSelector = term.namespaceSelector;
  const hasNamespaceSelectorTerms =
    nsSelector !== undefined && (Object.keys(nsSelector.matchLabels).length > 0 || nsSelector.matchExpressions.length > 0);
  return {
    namespaces,
    selector: compileLabelSelector(term.labelSelector),
    namespaceSelector: nsSelector === undefined ? MATCH_NOTHING : hasNamespaceSelectorTerms ? compileLabelSelector(nsSelector) : MATCH_EVERYTHING,
    hasNamespaceSelectorTerms,
    topologyKey: term.topologyKey,
    source: term,
  };
}

function weighted(pod: Pod, terms: readonly WeightedPodAffinityTerm[]): WeightedAffinityTerm[] {
  const out: WeightedAffinityTerm[] = [];
  for (const t of terms) {
    if (t.term === undefined) continue;
    out.push({ ...compileAffinityTerm(pod, t.term), weight: t.weight });
  }
  return out;
}

/** Builds a PodInfo (upstream NewPodInfo). Pods without affinity share empty term lists. */
export function newPodInfo(pod: Pod): PodInfo {
  const affinity = pod.affinity;
  const pa = affinity?.podAffinity;
  const paa = affinity?.podAntiAffinity;
  if (pa === undefined && paa === undefined) {
    return { pod, requiredAffinityTerms: NO_TERMS, requiredAntiAffinityTerms: NO_TERMS, preferredAffinityTerms: NO_TERMS, preferredAntiAffinityTerms: NO_TERMS };
  }
  return {
    pod,
    requiredAffinityTerms: pa === undefined || pa.required.length === 0 ? NO_TERMS : pa.required.map((t) => compileAffinityTerm(pod, t)),
    requiredAntiAffinityTerms: paa === undefined || paa.required.length === 0 ? NO_TERMS : paa.required.map((t) => compileAffinityTerm(pod, t)),
    preferredAffinityTerms: pa === undefined || pa.preferred.length === 0 ? NO_TERMS : weighted(pod, pa.preferred),
    preferredAntiAffinityTerms: paa === undefined || paa.preferred.length === 0 ? NO_TERMS : weighted(pod, paa.preferred),
  };
}
