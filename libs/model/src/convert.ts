/**
 * The edge: Kubernetes Pods, Nodes and Namespaces (as the API server serves
 * them: raw JSON with RFC 3339 strings, or @kubernetes/client-node models with
 * Date timestamps) converted once into the compact proto messages.
 *
 * A malformed object is rejected with an EdgeError naming the object and the
 * field; it is never passed on, and no input, however odd (null, arrays where
 * objects belong, wrong types), makes the conversion throw anything else.
 *
 * Each object is read in one pass, without JSON round trips; paths for error
 * messages are only built when something is wrong.
 */
import {
  PodPhase,
  PreemptionPolicy,
  Protocol,
  NodeInclusionPolicy,
  TaintEffect,
  TolerationOperator,
  UnsatisfiableConstraintAction,
} from '@schedmesh/proto/v1/types';
import type {
  Affinity,
  ContainerImage,
  HostPort,
  LabelSelector,
  Namespace,
  Node,
  NodeAffinity,
  NodeCondition,
  NodeSelectorTerm,
  Pod,
  PodAffinity,
  PodAffinityTerm,
  PodGroup,
  PreferredSchedulingTerm,
  Resources,
  SelectorRequirement,
  Taint,
  Toleration,
  TopologySpreadConstraint,
  Volume,
  WeightedPodAffinityTerm,
} from '@schedmesh/proto/v1/types';
import {
  FieldIssue,
  isObject,
  mapArray,
  optArray,
  optBool,
  optInt,
  optObject,
  optString,
  optTime,
  reqObject,
  reqString,
  stringList,
  stringMap,
  sub,
  within,
} from './fields.js';
import type { JsonObject } from './fields.js';
import { parseAmount, QuantityError } from './quantity.js';
import type { Amount } from './quantity.js';
import { effectivePodRequests, isMilliResource, ResourceError, setResource, zeroResources } from './resources.js';
import type { InitContainerResources, ResourceAmounts } from './resources.js';
import { labelKeyProblem, labelValueProblem, requirementProblem, selectorOperatorFromString, unsupportedOperatorReason } from './selectors.js';
import type { RequirementKind } from './selectors.js';
import { SUPPORTED_EFFECTS_TEXT, taintEffectFromString, taintProblem, tolerationOperatorFromString, tolerationProblem } from './taints.js';

/** The kind of object an EdgeError is about. */
export type EdgeObjectKind = 'Pod' | 'Node' | 'Namespace';

/**
 * EdgeError rejects a Kubernetes object that cannot be converted: the object,
 * the field (its path in the Kubernetes object, e.g.
 * "spec.containers[0].resources.requests[cpu]") and why.
 */
export class EdgeError extends Error {
  override readonly name = 'EdgeError';
  /** The kind of the object. */
  readonly kind: EdgeObjectKind;
  /** "namespace/name" for a pod, the name for a node or namespace (as far as the object tells). */
  readonly object: string;
  /** The field path; "" when the object itself is not an object. */
  readonly field: string;
  /** Why the field is rejected. */
  readonly reason: string;

  constructor(fields: { kind: EdgeObjectKind; object: string; field: string; reason: string }, options?: { cause?: unknown }) {
    const where = fields.field === '' ? '' : `${fields.field}: `;
    super(`${fields.kind} ${JSON.stringify(fields.object)}: ${where}${fields.reason}`, options);
    this.kind = fields.kind;
    this.object = fields.object;
    this.field = fields.field;
    this.reason = fields.reason;
  }
}

/** The node label of the zone. */
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
/** The legacy node label of the zone, read when LABEL_ZONE is absent. */
export const LABEL_ZONE_LEGACY = 'failure-domain.beta.kubernetes.io/zone';
/** The node label of the region. */
export const LABEL_REGION = 'topology.kubernetes.io/region';
/** The legacy node label of the region, read when LABEL_REGION is absent. */
export const LABEL_REGION_LEGACY = 'failure-domain.beta.kubernetes.io/region';

/** The pod label naming the pod's gang (as the scheduler-plugins coscheduling plugin). */
export const LABEL_POD_GROUP = 'scheduling.x-k8s.io/pod-group';
/**
 * The pod annotation with the gang's minimum member count (a positive decimal
 * integer). Every member should carry the same value. When a pod has the group
 * label but not this annotation, min_member is 1: the pod is named as a member
 * but waits for nobody. Reading a PodGroup object instead is the coscheduling
 * plugin's way; the mesh keeps the group on the pod so that the edge stays a
 * pure function of one object.
 */
export const ANNOTATION_POD_GROUP_MIN_MEMBER = 'schedmesh.io/pod-group-min-member';
/** The pod annotation with how long members wait at Permit, in seconds (a non-negative decimal integer; absent: the service default). */
export const ANNOTATION_POD_GROUP_TIMEOUT = 'schedmesh.io/pod-group-schedule-timeout-seconds';

/** Annotations under this prefix are kept on pods and namespaces. */
export const SCHEDMESH_ANNOTATION_PREFIX = 'schedmesh.io/';
/** Further annotation prefixes kept on pods (scheduler-plugins' keys). */
export const KEPT_POD_ANNOTATION_PREFIXES: readonly string[] = Object.freeze([SCHEDMESH_ANNOTATION_PREFIX, 'scheduling.x-k8s.io/']);
/** Further annotations kept on pods, read by preemption and victim selection. */
export const KEPT_POD_ANNOTATIONS: ReadonlySet<string> = new Set([
  'cluster-autoscaler.kubernetes.io/safe-to-evict',
  'controller.kubernetes.io/pod-deletion-cost',
]);

/** Options of the node conversion. */
export interface NodeConvertOptions {
  /** The node label whose value is the rack (default "schedmesh.io/rack"). */
  readonly rackLabelKey?: string;
  /** The node label whose value is the node pool (default "schedmesh.io/node-pool"). */
  readonly poolLabelKey?: string;
}

/** The defaults of NodeConvertOptions. */
export const DEFAULT_NODE_CONVERT_OPTIONS: Required<NodeConvertOptions> = Object.freeze({
  rackLabelKey: 'schedmesh.io/rack',
  poolLabelKey: 'schedmesh.io/node-pool',
});

// ---------------------------------------------------------------------------
// Entry points.

/**
 * Converts a Kubernetes Pod (a client-node V1Pod or the API server's JSON).
 *
 * @throws EdgeError for a malformed pod.
 */
export function convertPod(obj: unknown): Pod {
  try {
    return podFrom(obj);
  } catch (err) {
    throw edgeError('Pod', describeNamespaced(obj), err);
  }
}

/**
 * Converts a Kubernetes Node (a client-node V1Node or the API server's JSON).
 *
 * @throws EdgeError for a malformed node.
 */
export function convertNode(obj: unknown, options?: NodeConvertOptions): Node {
  try {
    return nodeFrom(obj, options?.rackLabelKey ?? DEFAULT_NODE_CONVERT_OPTIONS.rackLabelKey, options?.poolLabelKey ?? DEFAULT_NODE_CONVERT_OPTIONS.poolLabelKey);
  } catch (err) {
    throw edgeError('Node', describeName(obj), err);
  }
}

/**
 * Converts a Kubernetes Namespace (a client-node V1Namespace or the API server's JSON).
 *
 * @throws EdgeError for a malformed namespace.
 */
export function convertNamespace(obj: unknown): Namespace {
  try {
    const root = reqObject(obj, '');
    const meta = reqObject(root.metadata, 'metadata');
    return {
      name: reqString(meta.name, 'metadata.name'),
      labels: stringMap(meta.labels, 'metadata.labels'),
      annotations: stringMap(meta.annotations, 'metadata.annotations', isSchedmeshKey),
    };
  } catch (err) {
    throw edgeError('Namespace', describeName(obj), err);
  }
}

function edgeError(kind: EdgeObjectKind, object: string, err: unknown): EdgeError {
  if (err instanceof FieldIssue) return new EdgeError({ kind, object, field: err.field, reason: err.reason }, { cause: err.cause ?? err });
  // A bug of the conversion, not of the object: still typed, never a crash of the caller.
  const reason = `conversion failed: ${err instanceof Error ? err.message : String(err)}`;
  return new EdgeError({ kind, object, field: '', reason }, { cause: err });
}

function metaString(obj: unknown, key: string): string {
  if (!isObject(obj) || !isObject(obj.metadata)) return '';
  const v = obj.metadata[key];
  return typeof v === 'string' ? v : '';
}

function describeNamespaced(obj: unknown): string {
  return `${metaString(obj, 'namespace')}/${metaString(obj, 'name')}`;
}

function describeName(obj: unknown): string {
  return metaString(obj, 'name');
}

function isSchedmeshKey(key: string): boolean {
  return key.startsWith(SCHEDMESH_ANNOTATION_PREFIX);
}

function isKeptPodAnnotation(key: string): boolean {
  for (const prefix of KEPT_POD_ANNOTATION_PREFIXES) if (key.startsWith(prefix)) return true;
  return KEPT_POD_ANNOTATIONS.has(key);
}

// ---------------------------------------------------------------------------
// Quantities.

const NO_AMOUNTS: ResourceAmounts = new Map();

function quantityText(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  // The API also takes a JSON number as a quantity.
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new FieldIssue(field, 'must be a quantity string');
}

function checkResourceName(name: string, field: string): void {
  if (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name === 'pods') return;
  const problem = labelKeyProblem(name);
  if (problem !== undefined) throw new FieldIssue(field, `invalid resource name ${JSON.stringify(name)}: ${problem}`);
}

function amountOf(name: string, v: unknown, field: string): Amount {
  const text = quantityText(v, `${field}[${name}]`);
  try {
    return parseAmount(text, isMilliResource(name));
  } catch (err) {
    if (err instanceof QuantityError) throw new FieldIssue(`${field}[${name}]`, err.message, { cause: err });
    throw err;
  }
}

/** A resource list (requests, overhead) as exact amounts; quantities must be valid and non-negative. */
function resourceAmounts(v: unknown, field: string): ResourceAmounts {
  const o = optObject(v, field);
  if (o === undefined) return NO_AMOUNTS;
  const out = new Map<string, Amount>();
  for (const name in o) {
    if (o[name] === undefined) continue;
    checkResourceName(name, field);
    out.set(name, amountOf(name, o[name], field));
  }
  return out;
}

/** A resource list (allocatable, capacity) as Resources, each amount rounded up to its unit. */
function resourcesOf(v: unknown, field: string): Resources {
  const out = zeroResources();
  const o = optObject(v, field);
  if (o === undefined) return out;
  for (const name in o) {
    if (o[name] === undefined) continue;
    checkResourceName(name, field);
    const amount = amountOf(name, o[name], field);
    const whole = amount.frac > 0 ? amount.units + 1 : amount.units;
    if (whole > Number.MAX_SAFE_INTEGER) throw new FieldIssue(`${field}[${name}]`, 'exceeds 2^53-1 when rounded up');
    setResource(out, name, whole);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Enumerations (the edge writes the Kubernetes default explicitly).

function unsupported(value: string, supported: string): string {
  return `unsupported value ${JSON.stringify(value)}: supported values: ${supported}`;
}

function enumOf<T>(v: unknown, field: string, values: ReadonlyMap<string, T>, supported: string): T {
  const text = optString(v, field);
  const e = values.get(text);
  if (e === undefined) throw new FieldIssue(field, text === '' ? 'required value' : unsupported(text, supported));
  return e;
}

const PHASES: ReadonlyMap<string, PodPhase> = new Map([
  ['', PodPhase.POD_PHASE_UNSPECIFIED],
  ['Unknown', PodPhase.POD_PHASE_UNSPECIFIED],
  ['Pending', PodPhase.POD_PHASE_PENDING],
  ['Running', PodPhase.POD_PHASE_RUNNING],
  ['Succeeded', PodPhase.POD_PHASE_SUCCEEDED],
  ['Failed', PodPhase.POD_PHASE_FAILED],
]);
const PHASES_TEXT = '"Failed", "Pending", "Running", "Succeeded", "Unknown"';

const PREEMPTION_POLICIES: ReadonlyMap<string, PreemptionPolicy> = new Map([
  ['', PreemptionPolicy.PREEMPTION_POLICY_PREEMPT_LOWER_PRIORITY],
  ['PreemptLowerPriority', PreemptionPolicy.PREEMPTION_POLICY_PREEMPT_LOWER_PRIORITY],
  ['Never', PreemptionPolicy.PREEMPTION_POLICY_NEVER],
]);

const PROTOCOLS: ReadonlyMap<string, Protocol> = new Map([
  ['', Protocol.PROTOCOL_TCP],
  ['TCP', Protocol.PROTOCOL_TCP],
  ['UDP', Protocol.PROTOCOL_UDP],
  ['SCTP', Protocol.PROTOCOL_SCTP],
]);

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

// ---------------------------------------------------------------------------
// Selectors and affinity.

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

function labelSelectorOf(v: unknown): LabelSelector | undefined {
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

function topologyKeyOf(v: unknown, field: string): string {
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

function affinityOf(v: unknown): Affinity | undefined {
  const a = optObject(v, '');
  if (a === undefined) return undefined;
  const nodeAffinity = a.nodeAffinity == null ? undefined : sub('nodeAffinity', a.nodeAffinity, nodeAffinityOf);
  const podAffinity = a.podAffinity == null ? undefined : sub('podAffinity', a.podAffinity, podAffinityOf);
  const podAntiAffinity = a.podAntiAffinity == null ? undefined : sub('podAntiAffinity', a.podAntiAffinity, podAffinityOf);
  if (nodeAffinity === undefined && podAffinity === undefined && podAntiAffinity === undefined) return undefined;
  return { nodeAffinity, podAffinity, podAntiAffinity };
}

// ---------------------------------------------------------------------------
// Taints, tolerations, spread constraints.

const TOLERATION_OPERATORS_TEXT = '"Equal", "Exists"';

function tolerationOf(v: unknown): Toleration {
  const t = reqObject(v, '');
  const operatorText = optString(t.operator, 'operator');
  const parsed = tolerationOperatorFromString(operatorText);
  if (parsed === undefined) throw new FieldIssue('operator', unsupported(operatorText, TOLERATION_OPERATORS_TEXT));
  const effectText = optString(t.effect, 'effect');
  const effect = effectText === '' ? TaintEffect.TAINT_EFFECT_UNSPECIFIED : taintEffectFromString(effectText);
  if (effect === undefined) throw new FieldIssue('effect', unsupported(effectText, SUPPORTED_EFFECTS_TEXT));
  const toleration: Toleration = {
    key: optString(t.key, 'key'),
    operator: parsed === TolerationOperator.TOLERATION_OPERATOR_UNSPECIFIED ? TolerationOperator.TOLERATION_OPERATOR_EQUAL : parsed,
    value: optString(t.value, 'value'),
    effect,
    tolerationSeconds: optInt(t.tolerationSeconds, 'tolerationSeconds', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  };
  const problem = tolerationProblem(toleration);
  if (problem !== undefined) throw new FieldIssue(problem.field, problem.reason);
  return toleration;
}

function taintOf(v: unknown): Taint {
  const t = reqObject(v, '');
  const effectText = optString(t.effect, 'effect');
  const effect = taintEffectFromString(effectText);
  if (effect === undefined) throw new FieldIssue('effect', effectText === '' ? 'required value' : unsupported(effectText, SUPPORTED_EFFECTS_TEXT));
  const taint: Taint = { key: reqString(t.key, 'key'), value: optString(t.value, 'value'), effect };
  const problem = taintProblem(taint);
  if (problem !== undefined) throw new FieldIssue(problem.field, problem.reason);
  return taint;
}

const INT32_MAX = 2147483647;

function spreadConstraintOf(v: unknown): TopologySpreadConstraint {
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

function schedulingGateOf(v: unknown): string {
  return reqString(reqObject(v, '').name, 'name');
}

// ---------------------------------------------------------------------------
// Containers and volumes.

/** What the containers of a pod contribute beyond their requests, gathered in one pass. */
interface ContainerScan {
  readonly images: string[];
  readonly hostPorts: HostPort[];
  /** Volumes some container mounts read-write (or as a block device). */
  readWrite: Set<string> | undefined;
}

function hostPortOf(v: unknown, scan: ContainerScan): void {
  const p = reqObject(v, '');
  const port = optInt(p.hostPort, 'hostPort', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (port === undefined || port === 0) return;
  if (port < 1 || port > 65535) throw new FieldIssue('hostPort', 'must be between 1 and 65535, inclusive');
  scan.hostPorts.push({
    port,
    protocol: enumOf(p.protocol, 'protocol', PROTOCOLS, '"SCTP", "TCP", "UDP"'),
    hostIp: optString(p.hostIP, 'hostIP'),
  });
}

function markReadWrite(scan: ContainerScan, name: string): void {
  (scan.readWrite ??= new Set()).add(name);
}

function mountsOf(c: JsonObject, scan: ContainerScan): void {
  const mounts = optArray(c.volumeMounts, 'volumeMounts');
  for (let i = 0; i < mounts.length; i++) {
    try {
      const m = reqObject(mounts[i], '');
      const name = reqString(m.name, 'name');
      if (!optBool(m.readOnly, 'readOnly')) markReadWrite(scan, name);
    } catch (err) {
      throw within(err, `volumeMounts[${i}]`);
    }
  }
  const devices = optArray(c.volumeDevices, 'volumeDevices');
  for (let i = 0; i < devices.length; i++) {
    try {
      markReadWrite(scan, reqString(reqObject(devices[i], '').name, 'name'));
    } catch (err) {
      throw within(err, `volumeDevices[${i}]`);
    }
  }
}

/** Reads one container: its image, host ports and mounts into scan; returns its requests. */
function containerOf(v: unknown, scan: ContainerScan): ResourceAmounts {
  const c = reqObject(v, '');
  const image = optString(c.image, 'image');
  if (image !== '') scan.images.push(image);
  const ports = optArray(c.ports, 'ports');
  for (let i = 0; i < ports.length; i++) {
    try {
      hostPortOf(ports[i], scan);
    } catch (err) {
      throw within(err, `ports[${i}]`);
    }
  }
  mountsOf(c, scan);
  const resources = optObject(c.resources, 'resources');
  return resources === undefined ? NO_AMOUNTS : resourceAmounts(resources.requests, 'resources.requests');
}

function volumeOf(v: unknown, readWrite: Set<string> | undefined): Volume {
  const o = reqObject(v, '');
  const name = reqString(o.name, 'name');
  let source: Volume['source'];
  let readOnlySource = false;
  if (o.hostPath != null) {
    const hostPath = reqObject(o.hostPath, 'hostPath');
    source = { $case: 'hostPath', value: { path: reqString(hostPath.path, 'hostPath.path'), type: optString(hostPath.type, 'hostPath.type') } };
  } else if (o.persistentVolumeClaim != null) {
    const claim = reqObject(o.persistentVolumeClaim, 'persistentVolumeClaim');
    source = { $case: 'persistentVolumeClaim', value: { claimName: reqString(claim.claimName, 'persistentVolumeClaim.claimName') } };
    // A read-only claim is mounted read-only whatever the mounts say.
    readOnlySource = optBool(claim.readOnly, 'persistentVolumeClaim.readOnly');
  } else {
    for (const key in o) {
      if (key !== 'name' && isObject(o[key])) {
        source = { $case: 'other', value: key };
        break;
      }
    }
  }
  return { name, source, readOnly: readOnlySource || readWrite === undefined || !readWrite.has(name) };
}

// ---------------------------------------------------------------------------
// Pod.

const INT32_MIN = -2147483648;
const POSITIVE_DECIMAL = /^[0-9]{1,10}$/;

function annotationInt(annotations: { [key: string]: string }, key: string, min: number): number | undefined {
  const text = annotations[key];
  if (typeof text !== 'string') return undefined;
  const n = POSITIVE_DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= INT32_MAX)) {
    throw new FieldIssue(`metadata.annotations[${key}]`, `must be a decimal integer between ${min} and ${INT32_MAX}, not ${JSON.stringify(text)}`);
  }
  return n;
}

function podGroupOf(labels: { [key: string]: string }, annotations: { [key: string]: string }): PodGroup | undefined {
  const name = labels[LABEL_POD_GROUP];
  if (typeof name !== 'string' || name === '') return undefined;
  return {
    name,
    minMember: annotationInt(annotations, ANNOTATION_POD_GROUP_MIN_MEMBER, 1) ?? 1,
    scheduleTimeoutSeconds: annotationInt(annotations, ANNOTATION_POD_GROUP_TIMEOUT, 0) ?? 0,
  };
}

function ownerOf(v: unknown): string {
  const refs = optArray(v, 'metadata.ownerReferences');
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i];
    if (!isObject(ref) || ref.controller !== true) continue;
    const field = `metadata.ownerReferences[${i}]`;
    return `${reqString(ref.kind, `${field}.kind`)}/${reqString(ref.name, `${field}.name`)}`;
  }
  return '';
}

function podFrom(obj: unknown): Pod {
  const root = reqObject(obj, '');
  const meta = reqObject(root.metadata, 'metadata');
  const name = reqString(meta.name, 'metadata.name');
  const namespace = reqString(meta.namespace, 'metadata.namespace');
  const uid = reqString(meta.uid, 'metadata.uid');
  const labels = stringMap(meta.labels, 'metadata.labels');
  const annotations = stringMap(meta.annotations, 'metadata.annotations', isKeptPodAnnotation);
  const spec = reqObject(root.spec, 'spec');
  const status = optObject(root.status, 'status');

  const scan: ContainerScan = { images: [], hostPorts: [], readWrite: undefined };
  const containers = optArray(spec.containers, 'spec.containers');
  if (containers.length === 0) throw new FieldIssue('spec.containers', 'required value');
  const containerRequests: ResourceAmounts[] = [];
  for (let i = 0; i < containers.length; i++) {
    try {
      containerRequests.push(containerOf(containers[i], scan));
    } catch (err) {
      throw within(err, `spec.containers[${i}]`);
    }
  }
  const inits = optArray(spec.initContainers, 'spec.initContainers');
  const initRequests: InitContainerResources[] = [];
  for (let i = 0; i < inits.length; i++) {
    try {
      const init = reqObject(inits[i], '');
      const requests = containerOf(init, scan);
      // Only "Always" is valid on a container: a restartable init container, a sidecar.
      const restartable = optString(init.restartPolicy, 'restartPolicy') === 'Always';
      initRequests.push({ requests, restartable });
    } catch (err) {
      throw within(err, `spec.initContainers[${i}]`);
    }
  }
  const ephemeral = optArray(spec.ephemeralContainers, 'spec.ephemeralContainers');
  for (let i = 0; i < ephemeral.length; i++) {
    try {
      mountsOf(reqObject(ephemeral[i], ''), scan);
    } catch (err) {
      throw within(err, `spec.ephemeralContainers[${i}]`);
    }
  }

  const podResources = optObject(spec.resources, 'spec.resources');
  let requests: Resources;
  let nonZeroRequests: Resources;
  try {
    ({ requests, nonZeroRequests } = effectivePodRequests({
      containers: containerRequests,
      initContainers: initRequests,
      overhead: resourceAmounts(spec.overhead, 'spec.overhead'),
      podLevelRequests: podResources === undefined ? undefined : resourceAmounts(podResources.requests, 'spec.resources.requests'),
    }));
  } catch (err) {
    if (err instanceof ResourceError) throw new FieldIssue('spec', `effective request of ${err.message}`, { cause: err });
    throw err;
  }

  const readWrite = scan.readWrite;
  const volumes = mapArray(spec.volumes, 'spec.volumes', (v) => volumeOf(v, readWrite));
  const deletion = optTime(meta.deletionTimestamp, 'metadata.deletionTimestamp');

  return {
    uid,
    namespace,
    name,
    labels,
    annotations,
    resourceVersion: optString(meta.resourceVersion, 'metadata.resourceVersion'),
    creationTime: optTime(meta.creationTimestamp, 'metadata.creationTimestamp'),
    terminating: deletion !== undefined,
    schedulerName: optString(spec.schedulerName, 'spec.schedulerName'),
    priority: optInt(spec.priority, 'spec.priority', INT32_MIN, INT32_MAX) ?? 0,
    preemptionPolicy: enumOf(spec.preemptionPolicy, 'spec.preemptionPolicy', PREEMPTION_POLICIES, '"Never", "PreemptLowerPriority"'),
    nodeName: optString(spec.nodeName, 'spec.nodeName'),
    nominatedNodeName: status === undefined ? '' : optString(status.nominatedNodeName, 'status.nominatedNodeName'),
    phase: status === undefined ? PodPhase.POD_PHASE_UNSPECIFIED : enumOf(status.phase, 'status.phase', PHASES, PHASES_TEXT),
    requests,
    nonZeroRequests,
    nodeSelector: stringMap(spec.nodeSelector, 'spec.nodeSelector'),
    affinity: sub('spec.affinity', spec.affinity, affinityOf),
    tolerations: mapArray(spec.tolerations, 'spec.tolerations', tolerationOf),
    topologySpreadConstraints: mapArray(spec.topologySpreadConstraints, 'spec.topologySpreadConstraints', spreadConstraintOf),
    hostPorts: scan.hostPorts,
    volumes,
    images: scan.images,
    serviceAccountName: optString(spec.serviceAccountName, 'spec.serviceAccountName') || optString(spec.serviceAccount, 'spec.serviceAccount'),
    podGroup: podGroupOf(labels, annotations),
    schedulingGates: mapArray(spec.schedulingGates, 'spec.schedulingGates', schedulingGateOf),
    owner: ownerOf(meta.ownerReferences),
  };
}

// ---------------------------------------------------------------------------
// Node.

function conditionOf(v: unknown): NodeCondition {
  const c = reqObject(v, '');
  return { type: reqString(c.type, 'type'), status: optString(c.status, 'status'), reason: optString(c.reason, 'reason') };
}

function imageOf(v: unknown): ContainerImage {
  const i = reqObject(v, '');
  return { names: stringList(i.names, 'names'), sizeBytes: optInt(i.sizeBytes, 'sizeBytes', 0, Number.MAX_SAFE_INTEGER) ?? 0 };
}

function labelOr(labels: { [key: string]: string }, key: string, fallback: string): string {
  const v = labels[key];
  if (typeof v === 'string' && v !== '') return v;
  const w = labels[fallback];
  return typeof w === 'string' ? w : '';
}

function label(labels: { [key: string]: string }, key: string): string {
  const v = labels[key];
  return typeof v === 'string' ? v : '';
}

function nodeFrom(obj: unknown, rackLabelKey: string, poolLabelKey: string): Node {
  const root = reqObject(obj, '');
  const meta = reqObject(root.metadata, 'metadata');
  const name = reqString(meta.name, 'metadata.name');
  const labels = stringMap(meta.labels, 'metadata.labels');
  const spec = optObject(root.spec, 'spec');
  const status = optObject(root.status, 'status');
  const conditions = status === undefined ? [] : mapArray(status.conditions, 'status.conditions', conditionOf);
  let ready = false;
  for (const c of conditions) if (c.type === 'Ready') ready = c.status === 'True';
  return {
    name,
    uid: optString(meta.uid, 'metadata.uid'),
    labels,
    resourceVersion: optString(meta.resourceVersion, 'metadata.resourceVersion'),
    unschedulable: spec === undefined ? false : optBool(spec.unschedulable, 'spec.unschedulable'),
    taints: spec === undefined ? [] : mapArray(spec.taints, 'spec.taints', taintOf),
    allocatable: resourcesOf(status?.allocatable, 'status.allocatable'),
    capacity: resourcesOf(status?.capacity, 'status.capacity'),
    conditions,
    ready,
    images: status === undefined ? [] : mapArray(status.images, 'status.images', imageOf),
    zone: labelOr(labels, LABEL_ZONE, LABEL_ZONE_LEGACY),
    region: labelOr(labels, LABEL_REGION, LABEL_REGION_LEGACY),
    rack: label(labels, rackLabelKey),
    pool: label(labels, poolLabelKey),
  };
}
