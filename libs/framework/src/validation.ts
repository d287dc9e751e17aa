/**
 * Validation of the pods a caller hands the framework: what the cycle
 * assumes (an identity, well-formed selectors and terms) checked once at
 * the edge, each problem naming its field (`pod.affinity.podAffinity...`).
 */
import { labelKeyProblem, labelValueProblem, tolerationProblem, validateLabelSelector, validateNodeSelector, validateNodeSelectorTerm } from '@schedmesh/model';
import { UnsatisfiableConstraintAction } from '@schedmesh/proto/v1/types';
import type { Pod, PodAffinity, PodAffinityTerm } from '@schedmesh/proto/v1/types';

/** One invalid field. */
export interface FieldProblem {
  /** The field path, e.g. `pod.affinity.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[1].operator`. */
  readonly field: string;
  readonly reason: string;
}

function validateTerm(term: PodAffinityTerm, path: string, out: FieldProblem[]): void {
  if (term.topologyKey === '') out.push({ field: `${path}.topologyKey`, reason: 'must not be empty' });
  else {
    const p = labelKeyProblem(term.topologyKey);
    if (p !== undefined) out.push({ field: `${path}.topologyKey`, reason: p });
  }
  if (term.labelSelector !== undefined) for (const e of validateLabelSelector(term.labelSelector, `${path}.labelSelector`)) out.push({ field: e.field, reason: e.reason });
  if (term.namespaceSelector !== undefined) for (const e of validateLabelSelector(term.namespaceSelector, `${path}.namespaceSelector`)) out.push({ field: e.field, reason: e.reason });
}

function validatePodAffinity(a: PodAffinity, path: string, out: FieldProblem[]): void {
  a.required.forEach((t, i) => validateTerm(t, `${path}.required[${i}]`, out));
  a.preferred.forEach((w, i) => {
    const at = `${path}.preferred[${i}]`;
    if (w.weight < 1 || w.weight > 100) out.push({ field: `${at}.weight`, reason: `must be in 1..100, got ${w.weight}` });
    if (w.term === undefined) out.push({ field: `${at}.term`, reason: 'is required' });
    else validateTerm(w.term, `${at}.term`, out);
  });
}

/** The problems of a pod to schedule, under `path` (default "pod"); empty when it is valid. */
export function validatePod(pod: Pod, path = 'pod'): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (pod.uid === '') out.push({ field: `${path}.uid`, reason: 'must not be empty' });
  if (pod.name === '') out.push({ field: `${path}.name`, reason: 'must not be empty' });
  if (pod.namespace === '') out.push({ field: `${path}.namespace`, reason: 'must not be empty' });
  for (const [k, v] of Object.entries(pod.nodeSelector)) {
    const p = labelKeyProblem(k) ?? labelValueProblem(v);
    if (p !== undefined) out.push({ field: `${path}.nodeSelector[${k}]`, reason: p });
  }
  const na = pod.affinity?.nodeAffinity;
  if (na !== undefined) {
    if (na.required !== undefined) for (const e of validateNodeSelector(na.required, `${path}.affinity.nodeAffinity.required`)) out.push({ field: e.field, reason: e.reason });
    na.preferred.forEach((t, i) => {
      const at = `${path}.affinity.nodeAffinity.preferred[${i}]`;
      if (t.weight < 1 || t.weight > 100) out.push({ field: `${at}.weight`, reason: `must be in 1..100, got ${t.weight}` });
      if (t.preference !== undefined) for (const e of validateNodeSelectorTerm(t.preference, `${at}.preference`)) out.push({ field: e.field, reason: e.reason });
    });
  }
  if (pod.affinity?.podAffinity !== undefined) validatePodAffinity(pod.affinity.podAffinity, `${path}.affinity.podAffinity`, out);
  if (pod.affinity?.podAntiAffinity !== undefined) validatePodAffinity(pod.affinity.podAntiAffinity, `${path}.affinity.podAntiAffinity`, out);
  pod.tolerations.forEach((t, i) => {
    const p = tolerationProblem(t);
    if (p !== undefined) out.push({ field: `${path}.tolerations[${i}].${p.field}`, reason: p.reason });
  });
  pod.topologySpreadConstraints.forEach((c, i) => {
    const at = `${path}.topologySpreadConstraints[${i}]`;
    if (c.maxSkew < 1) out.push({ field: `${at}.maxSkew`, reason: `must be at least 1, got ${c.maxSkew}` });
    if (c.topologyKey === '') out.push({ field: `${at}.topologyKey`, reason: 'must not be empty' });
    if (c.minDomains !== undefined) {
      if (c.minDomains < 1) out.push({ field: `${at}.minDomains`, reason: `must be at least 1, got ${c.minDomains}` });
      else if (c.whenUnsatisfiable === UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_SCHEDULE_ANYWAY) {
        out.push({ field: `${at}.minDomains`, reason: 'may only be set when whenUnsatisfiable is DoNotSchedule' });
      }
    }
    if (c.labelSelector !== undefined) for (const e of validateLabelSelector(c.labelSelector, `${at}.labelSelector`)) out.push({ field: e.field, reason: e.reason });
  });
  pod.hostPorts.forEach((p, i) => {
    if (p.port < 1 || p.port > 65535) out.push({ field: `${path}.hostPorts[${i}].port`, reason: `must be in 1..65535, got ${p.port}` });
  });
  return out;
}
