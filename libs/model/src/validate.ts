/**
 * Edge validation of what callers hand a service over gRPC: a proto Pod
 * (what the scheduling cycle assumes of one, checked once), the identities
 * RPCs name (namespaces, pod uids, node names, pod groups) and a pod's
 * requests. Each check returns FieldProblems or a reason, never throws: the
 * server turns the first problem into INVALID_ARGUMENT naming the field.
 *
 * Names follow k8s.io/apimachinery/pkg/util/validation (names.ts): a
 * namespace is a DNS-1123 label, a node a DNS-1123 subdomain.
 */
import { UnsatisfiableConstraintAction } from '@schedmesh/proto/v1/types';
import type { Pod, PodAffinity, PodAffinityTerm, PodGroup, Resources } from '@schedmesh/proto/v1/types';
import { isDns1123Label, isDns1123Subdomain } from './names.js';
import type { FieldProblem } from './problem.js';
import { isScalarResourceName } from './resources.js';
import { labelKeyProblem, labelValueProblem, validateLabelSelector, validateNodeSelector, validateNodeSelectorTerm } from './selectors.js';
import { tolerationProblem } from './taints.js';

/** The largest amount one pod may request of any resource: 2^50 (1 PiB of bytes, 10^12 cores). More is a unit mistake. */
export const MAX_REQUEST_AMOUNT = 2 ** 50;
/** The largest gang (a pod group's min_member). */
export const MAX_POD_GROUP_MIN_MEMBER = 10_000;
/** The longest a pod may wait at Permit, in ms: the framework's maximum (upstream's 15 minutes). */
export const MAX_PERMIT_WAIT_MS = 15 * 60_000;

/** A pod uid as the mesh accepts one: a UUID in practice, any 1-128 of letters, digits and "-._:" that start and end alphanumeric. */
const POD_UID = /^[A-Za-z0-9]([-A-Za-z0-9._:]{0,126}[A-Za-z0-9])?$/;
/** How much of a rejected value a reason quotes. */
const QUOTE_MAX = 64;

// --- Names.

/** Why value is not a namespace name, or undefined if it is one. */
export function namespaceNameProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  return isDns1123Label(value) ? undefined : `${JSON.stringify(value)} is not a namespace name (a DNS-1123 label)`;
}

/** Why uid is not a pod uid, or undefined if it is one. */
export function podUidProblem(uid: string): string | undefined {
  if (uid === '') return 'must not be empty';
  return POD_UID.test(uid) ? undefined : `not a valid pod uid: ${JSON.stringify(uid.slice(0, QUOTE_MAX))}`;
}

/** Why name is not a node name (a DNS-1123 subdomain), or undefined if it is one. */
export function nodeNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  return isDns1123Subdomain(name) ? undefined : `not a valid node name: ${JSON.stringify(name.slice(0, QUOTE_MAX))}`;
}

// --- A pod.

/** Copies selector errors as plain problems (values, not exceptions). */
function pushProblems(out: FieldProblem[], problems: readonly FieldProblem[]): void {
  for (const p of problems) out.push({ field: p.field, reason: p.reason });
}

function validateTerm(term: PodAffinityTerm, path: string, out: FieldProblem[]): void {
  if (term.topologyKey === '') out.push({ field: `${path}.topologyKey`, reason: 'must not be empty' });
  else {
    const p = labelKeyProblem(term.topologyKey);
    if (p !== undefined) out.push({ field: `${path}.topologyKey`, reason: p });
  }
  if (term.labelSelector !== undefined) pushProblems(out, validateLabelSelector(term.labelSelector, `${path}.labelSelector`));
  if (term.namespaceSelector !== undefined) pushProblems(out, validateLabelSelector(term.namespaceSelector, `${path}.namespaceSelector`));
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

/**
 * The problems of a pod handed to a service, each naming its field under
 * `path` (default "pod", e.g. `pod.affinity.podAffinity.required[0].topologyKey`);
 * empty when it is valid: an identity (uid, name, a namespace that is a
 * DNS-1123 label), and well-formed selectors, affinity terms, tolerations,
 * spread constraints and host ports.
 */
export function validatePod(pod: Pod, path = 'pod'): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (pod.uid === '') out.push({ field: `${path}.uid`, reason: 'must not be empty' });
  if (pod.name === '') out.push({ field: `${path}.name`, reason: 'must not be empty' });
  const ns = namespaceNameProblem(pod.namespace);
  if (ns !== undefined) out.push({ field: `${path}.namespace`, reason: ns });
  for (const [k, v] of Object.entries(pod.nodeSelector)) {
    const p = labelKeyProblem(k) ?? labelValueProblem(v);
    if (p !== undefined) out.push({ field: `${path}.nodeSelector[${k}]`, reason: p });
  }
  const na = pod.affinity?.nodeAffinity;
  if (na !== undefined) {
    if (na.required !== undefined) pushProblems(out, validateNodeSelector(na.required, `${path}.affinity.nodeAffinity.required`));
    na.preferred.forEach((t, i) => {
      const at = `${path}.affinity.nodeAffinity.preferred[${i}]`;
      if (t.weight < 1 || t.weight > 100) out.push({ field: `${at}.weight`, reason: `must be in 1..100, got ${t.weight}` });
      if (t.preference !== undefined) pushProblems(out, validateNodeSelectorTerm(t.preference, `${at}.preference`));
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
    if (c.labelSelector !== undefined) pushProblems(out, validateLabelSelector(c.labelSelector, `${at}.labelSelector`));
  });
  pod.hostPorts.forEach((p, i) => {
    if (p.port < 1 || p.port > 65535) out.push({ field: `${path}.hostPorts[${i}].port`, reason: `must be in 1..65535, got ${p.port}` });
  });
  return out;
}

// --- A pod's requests and its group, as RPCs carry them (fields named as in the proto).

function amountProblem(field: string, v: number): FieldProblem | undefined {
  if (!Number.isSafeInteger(v)) return { field, reason: `must be an integer, got ${v}` };
  if (v < 0) return { field, reason: `must not be negative, got ${v}` };
  if (v > MAX_REQUEST_AMOUNT) return { field, reason: `${v} is absurd: at most 2^50 per pod` };
  return undefined;
}

/**
 * The first problem of one pod's requests, under `path` (default "requests"),
 * or undefined: every amount a non-negative integer up to MAX_REQUEST_AMOUNT,
 * pods 0 or 1 (a pod counts as one pod), scalar names valid and not one of
 * the four resources with fields of their own.
 */
export function requestsProblem(r: Resources, path = 'requests'): FieldProblem | undefined {
  const core =
    amountProblem(`${path}.milli_cpu`, r.milliCpu) ?? amountProblem(`${path}.memory`, r.memory) ?? amountProblem(`${path}.ephemeral_storage`, r.ephemeralStorage);
  if (core !== undefined) return core;
  if (r.pods !== 0 && r.pods !== 1) return { field: `${path}.pods`, reason: `a pod counts as one pod: leave it 0 or 1, got ${r.pods}` };
  for (const [name, v] of Object.entries(r.scalar)) {
    const field = `${path}.scalar[${JSON.stringify(name)}]`;
    if (!isScalarResourceName(name)) return { field, reason: 'not a valid extended resource name (cpu, memory, ephemeral-storage and pods have their own fields)' };
    const problem = amountProblem(field, v);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * The first problem of a pod group (a gang) as an RPC names it, under `path`
 * (default "pod_group"), or undefined: a name that is a label value (the
 * group label's), 1 to MAX_POD_GROUP_MIN_MEMBER members, and a Permit
 * timeout of 0 (the default) to MAX_PERMIT_WAIT_MS.
 */
export function podGroupProblem(group: PodGroup, path = 'pod_group'): FieldProblem | undefined {
  if (group.name === '') return { field: `${path}.name`, reason: 'required when pod_group is set' };
  const name = labelValueProblem(group.name);
  if (name !== undefined) return { field: `${path}.name`, reason: `must be a pod group name (a label value): ${name}` };
  const { minMember, scheduleTimeoutSeconds: timeout } = group;
  if (!Number.isInteger(minMember) || minMember < 1 || minMember > MAX_POD_GROUP_MIN_MEMBER) {
    return { field: `${path}.min_member`, reason: `must be between 1 and ${MAX_POD_GROUP_MIN_MEMBER}, got ${minMember}` };
  }
  if (!Number.isInteger(timeout) || timeout < 0 || timeout * 1000 > MAX_PERMIT_WAIT_MS) {
    return { field: `${path}.schedule_timeout_seconds`, reason: `must be between 0 and ${MAX_PERMIT_WAIT_MS / 1000}, got ${timeout}` };
  }
  return undefined;
}
