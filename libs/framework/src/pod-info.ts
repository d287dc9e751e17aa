/**
 * PodInfo: a pod with its affinity terms compiled once, so that matching a
 * term against thousands of pods costs no parsing (upstream framework.PodInfo).
 */
import { compileLabelSelector, MATCH_EVERYTHING, MATCH_NOTHING } from '@schedmesh/model';
import type { CompiledLabelSelector, Labels } from '@schedmesh/model';
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '@schedmesh/proto/v1/types';

/** A pod (anti-)affinity term, compiled. */
export interface AffinityTerm {
  /** Namespaces the selected pods must be in (merged with the namespace selector's matches where a plugin lists them). */
  readonly namespaces: ReadonlySet<string>;
  /** Which pods the term selects. */
  readonly selector: CompiledLabelSelector;
  /** The namespace selector: absent selects nothing, empty selects every namespace. */
  readonly namespaceSelector: CompiledLabelSelector;
  /** True when the namespace selector is present and not empty (a plugin may resolve it into namespaces). */
  readonly hasNamespaceSelectorTerms: boolean;
  /** The node label that defines a topology domain. */
  readonly topologyKey: string;
  /** The term as written (for resolving the namespace selector). */
  readonly source: PodAffinityTerm;
}

/** A weighted (preferred) affinity term. */
export interface WeightedAffinityTerm extends AffinityTerm {
  /** 1..100. */
  readonly weight: number;
}

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

const EMPTY_LABELS: Labels = Object.freeze({});

/** A pod with its compiled affinity terms. */
export interface PodInfo {
  /** The pod message (never mutated). */
  readonly pod: Pod;
  /** spec.affinity.podAffinity required terms. */
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  /** spec.affinity.podAntiAffinity required terms. */
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  /** spec.affinity.podAffinity preferred terms. */
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  /** spec.affinity.podAntiAffinity preferred terms. */
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
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
