/**
 * Arithmetic on the proto Resources, and the effective request of a pod.
 *
 * Resource names map to Resources fields as upstream's scheduler Resource
 * does: "cpu" (milli-CPU), "memory" and "ephemeral-storage" (bytes), "pods"
 * (a count); every other name is a scalar resource in its base unit
 * (hugepages-* in bytes, extended resources such as "nvidia.com/gpu" and
 * attachable volume limits as counts).
 */
import type { Resources } from '@schedmesh/proto/v1/types';
import { addAmounts, compareAmounts, formatBytes, formatMilliCpu, parseAmount, QuantityError, wholeAmount, ZERO_AMOUNT } from './quantity.js';
import type { Amount } from './quantity.js';
import { labelKeyProblem } from './selectors.js';

/** The CPU resource name; amounts in milli-CPU. */
export const RESOURCE_CPU = 'cpu';
/** The memory resource name; amounts in bytes. */
export const RESOURCE_MEMORY = 'memory';
/** The local ephemeral storage resource name; amounts in bytes. */
export const RESOURCE_EPHEMERAL_STORAGE = 'ephemeral-storage';
/** The pod count resource name. */
export const RESOURCE_PODS = 'pods';
/** The prefix of huge page resources ("hugepages-2Mi"); amounts in bytes. */
export const RESOURCE_HUGEPAGES_PREFIX = 'hugepages-';

/** The CPU a container that requests none counts for in scoring (upstream DefaultMilliCPURequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** The memory a container that requests none counts for in scoring (upstream DefaultMemoryRequest, 200Mi). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** The reason NodeResourcesFit gives when a node has no pod slot left. */
export const REASON_TOO_MANY_PODS = 'Too many pods';

/** ResourceError is thrown for a resource list that cannot be turned into integer amounts. */
export class ResourceError extends Error {
  override readonly name = 'ResourceError';
  /** The resource concerned ("cpu", "nvidia.com/gpu", ...). */
  readonly resourceName: string;
  /** A short human-readable reason. */
  readonly reason: string;

  constructor(resourceName: string, reason: string, options?: { cause?: unknown }) {
    super(`${resourceName}: ${reason}`, options);
    this.resourceName = resourceName;
    this.reason = reason;
  }
}

/** Whether a resource's amounts are in milli-units (only CPU). */
export function isMilliResource(name: string): boolean {
  return name === RESOURCE_CPU;
}

/** Whether name is an extended resource (a domain-prefixed name outside kubernetes.io), as upstream's IsExtendedResourceName. */
export function isExtendedResourceName(name: string): boolean {
  return name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');
}

/** Whether name is one of the four resources with a field of their own in Resources (cpu, memory, ephemeral-storage, pods). */
export function isCoreResourceName(name: string): boolean {
  return name === RESOURCE_CPU || name === RESOURCE_MEMORY || name === RESOURCE_EPHEMERAL_STORAGE || name === RESOURCE_PODS;
}

/** Why name is not a resource name (a core one, or a qualified name with an optional DNS prefix), or undefined if it is one. */
export function resourceNameProblem(name: string): string | undefined {
  return isCoreResourceName(name) ? undefined : labelKeyProblem(name);
}

/**
 * Whether name is a valid scalar resource: a resource name other than the
 * four core ones (extended resources such as "nvidia.com/gpu", hugepages-*,
 * attachable volume limits), which Resources keeps in its scalar map. Such a
 * name never contains ';', '=' or white space.
 */
export function isScalarResourceName(name: string): boolean {
  return !isCoreResourceName(name) && labelKeyProblem(name) === undefined;
}

/** A new Resources with every amount zero. */
export function zeroResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
}

/** A copy of r (the scalar map is copied too). */
export function cloneResources(r: Resources): Resources {
  return { milliCpu: r.milliCpu, memory: r.memory, ephemeralStorage: r.ephemeralStorage, pods: r.pods, scalar: { ...r.scalar } };
}

/** The amount of one resource by name; 0 when absent. */
export function getResource(r: Resources, name: string): number {
  switch (name) {
    case RESOURCE_CPU:
      return r.milliCpu;
    case RESOURCE_MEMORY:
      return r.memory;
    case RESOURCE_EPHEMERAL_STORAGE:
      return r.ephemeralStorage;
    case RESOURCE_PODS:
      return r.pods;
    default:
      return scalarValue(r.scalar, name);
  }
}

/** A scalar entry; 0 when absent. Own numeric entries only: a plain object also answers "constructor". */
function scalarValue(scalar: { readonly [name: string]: number }, name: string): number {
  const v = scalar[name];
  return typeof v === 'number' ? v : 0;
}

/** Sets the amount of one resource by name, in place. */
export function setResource(r: Resources, name: string, amount: number): void {
  switch (name) {
    case RESOURCE_CPU:
      r.milliCpu = amount;
      return;
    case RESOURCE_MEMORY:
      r.memory = amount;
      return;
    case RESOURCE_EPHEMERAL_STORAGE:
      r.ephemeralStorage = amount;
      return;
    case RESOURCE_PODS:
      r.pods = amount;
      return;
    default:
      r.scalar[name] = amount;
  }
}

/**
 * Adds b into acc, in place, and returns acc (for hot loops that sum many pods).
 * Scalars are added key-wise; a key only in b is created.
 */
export function addInto(acc: Resources, b: Resources): Resources {
  acc.milliCpu += b.milliCpu;
  acc.memory += b.memory;
  acc.ephemeralStorage += b.ephemeralStorage;
  acc.pods += b.pods;
  for (const name in b.scalar) {
    acc.scalar[name] = scalarValue(acc.scalar, name) + scalarValue(b.scalar, name);
  }
  return acc;
}

/** Subtracts b from acc, in place, and returns acc. Amounts may go negative. */
export function subtractInto(acc: Resources, b: Resources): Resources {
  acc.milliCpu -= b.milliCpu;
  acc.memory -= b.memory;
  acc.ephemeralStorage -= b.ephemeralStorage;
  acc.pods -= b.pods;
  for (const name in b.scalar) {
    acc.scalar[name] = scalarValue(acc.scalar, name) - scalarValue(b.scalar, name);
  }
  return acc;
}

/** a + b, key-wise. */
export function addResources(a: Resources, b: Resources): Resources {
  return addInto(cloneResources(a), b);
}

/**
 * a - b, key-wise (a scalar only in b comes out negative). The result may be
 * negative, e.g. allocatable minus requested on an over-committed node.
 */
export function subtractResources(a: Resources, b: Resources): Resources {
  return subtractInto(cloneResources(a), b);
}

/** The key-wise maximum of a and b. */
export function maxResources(a: Resources, b: Resources): Resources {
  const out: Resources = {
    milliCpu: Math.max(a.milliCpu, b.milliCpu),
    memory: Math.max(a.memory, b.memory),
    ephemeralStorage: Math.max(a.ephemeralStorage, b.ephemeralStorage),
    pods: Math.max(a.pods, b.pods),
    scalar: { ...a.scalar },
  };
  for (const name in b.scalar) {
    out.scalar[name] = Math.max(scalarValue(a.scalar, name), scalarValue(b.scalar, name));
  }
  return out;
}

/** Whether every amount of r is zero (a scalar entry of 0 counts as zero). */
export function isZeroResources(r: Resources): boolean {
  if (r.milliCpu !== 0 || r.memory !== 0 || r.ephemeralStorage !== 0 || r.pods !== 0) return false;
  for (const name in r.scalar) {
    if (scalarValue(r.scalar, name) !== 0) return false;
  }
  return true;
}

/** Whether a and b hold the same amounts (a missing scalar equals a scalar of 0). */
export function resourcesEqual(a: Resources, b: Resources): boolean {
  if (a.milliCpu !== b.milliCpu || a.memory !== b.memory || a.ephemeralStorage !== b.ephemeralStorage || a.pods !== b.pods) return false;
  for (const name in a.scalar) {
    if (scalarValue(a.scalar, name) !== scalarValue(b.scalar, name)) return false;
  }
  for (const name in b.scalar) {
    if (scalarValue(a.scalar, name) !== scalarValue(b.scalar, name)) return false;
  }
  return true;
}

/** An amount for messages, in the resource's usual notation: cpu "500m", memory "1Gi", counts as is. */
export function formatResourceAmount(name: string, amount: number): string {
  if (name === RESOURCE_CPU) return formatMilliCpu(amount);
  if (name === RESOURCE_MEMORY || name === RESOURCE_EPHEMERAL_STORAGE || name.startsWith(RESOURCE_HUGEPAGES_PREFIX)) {
    return formatBytes(amount);
  }
  return String(amount);
}

/** The reason NodeResourcesFit gives for a short resource: "Insufficient cpu", or "Too many pods". */
export function insufficientReason(name: string): string {
  return name === RESOURCE_PODS ? REASON_TOO_MANY_PODS : `Insufficient ${name}`;
}

/** InsufficientResource is one resource a node cannot give a pod (upstream noderesources.InsufficientResource). */
export interface InsufficientResource {
  /** The resource name ("cpu", "pods", "nvidia.com/gpu", ...). */
  readonly resourceName: string;
  /** The reason, as NodeResourcesFit words it. */
  readonly reason: string;
  /** What the pod requests (1 for pods). */
  readonly requested: number;
  /** What the node's pods already request. */
  readonly used: number;
  /** What the node has (allocatable). */
  readonly capacity: number;
}

/** Options of the fit check, as NodeResourcesFitArgs. */
export interface FitOptions {
  /** Extended resources the check ignores (ignoredResources). */
  readonly ignoredResources?: ReadonlySet<string>;
  /** Groups of extended resources the check ignores, by the part before "/" (ignoredResourceGroups). */
  readonly ignoredResourceGroups?: ReadonlySet<string>;
}

function ignored(name: string, options: FitOptions | undefined): boolean {
  if (options === undefined || !isExtendedResourceName(name)) return false;
  if (options.ignoredResources?.has(name) === true) return true;
  const groups = options.ignoredResourceGroups;
  return groups !== undefined && groups.size > 0 && groups.has(name.slice(0, name.indexOf('/')));
}

/**
 * The resources a node cannot give a pod, as upstream NodeResourcesFit's
 * fitsRequest: empty when the pod fits.
 *
 * `requested` is what the pods already on the node request, with
 * `requested.pods` the number of those pods: a pod always takes one pod slot,
 * so the node is full when requested.pods + 1 > allocatable.pods. A resource
 * the pod requests none of never fails.
 */
export function insufficientResources(
  podRequest: Resources,
  allocatable: Resources,
  requested: Resources,
  options?: FitOptions,
): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  if (requested.pods + 1 > allocatable.pods) {
    out.push({ resourceName: RESOURCE_PODS, reason: REASON_TOO_MANY_PODS, requested: 1, used: requested.pods, capacity: allocatable.pods });
  }
  if (podRequest.milliCpu > 0 && podRequest.milliCpu > allocatable.milliCpu - requested.milliCpu) {
    out.push({ resourceName: RESOURCE_CPU, reason: 'Insufficient cpu', requested: podRequest.milliCpu, used: requested.milliCpu, capacity: allocatable.milliCpu });
  }
  if (podRequest.memory > 0 && podRequest.memory > allocatable.memory - requested.memory) {
    out.push({ resourceName: RESOURCE_MEMORY, reason: 'Insufficient memory', requested: podRequest.memory, used: requested.memory, capacity: allocatable.memory });
  }
  if (podRequest.ephemeralStorage > 0 && podRequest.ephemeralStorage > allocatable.ephemeralStorage - requested.ephemeralStorage) {
    out.push({
      resourceName: RESOURCE_EPHEMERAL_STORAGE,
      reason: 'Insufficient ephemeral-storage',
      requested: podRequest.ephemeralStorage,
      used: requested.ephemeralStorage,
      capacity: allocatable.ephemeralStorage,
    });
  }
  for (const name in podRequest.scalar) {
    const want = scalarValue(podRequest.scalar, name);
    if (want === 0 || ignored(name, options)) continue;
    const used = scalarValue(requested.scalar, name);
    const capacity = scalarValue(allocatable.scalar, name);
    if (want > capacity - used) {
      out.push({ resourceName: name, reason: insufficientReason(name), requested: want, used, capacity });
    }
  }
  return out;
}

/** Whether the pod fits the node's free resources: insufficientResources(...) is empty, without building it. */
export function fitsResources(podRequest: Resources, allocatable: Resources, requested: Resources, options?: FitOptions): boolean {
  if (requested.pods + 1 > allocatable.pods) return false;
  if (podRequest.milliCpu > 0 && podRequest.milliCpu > allocatable.milliCpu - requested.milliCpu) return false;
  if (podRequest.memory > 0 && podRequest.memory > allocatable.memory - requested.memory) return false;
  if (podRequest.ephemeralStorage > 0 && podRequest.ephemeralStorage > allocatable.ephemeralStorage - requested.ephemeralStorage) {
    return false;
  }
  for (const name in podRequest.scalar) {
    const want = scalarValue(podRequest.scalar, name);
    if (want === 0 || ignored(name, options)) continue;
    if (want > scalarValue(allocatable.scalar, name) - scalarValue(requested.scalar, name)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Exact resource lists and the effective pod request.

/** ResourceAmounts is a resource list (name → exact amount) as a container or a node declares it. */
export type ResourceAmounts = ReadonlyMap<string, Amount>;

/**
 * Parses a resource list of quantity strings ({"cpu": "500m", "memory": "1Gi"}).
 *
 * @throws ResourceError (with the QuantityError as cause) for an invalid or negative quantity.
 */
export function parseResourceList(list: Readonly<Record<string, string>> | undefined): Map<string, Amount> {
  const out = new Map<string, Amount>();
  if (list === undefined) return out;
  for (const name of Object.keys(list)) {
    const q = list[name] ?? '';
    try {
      out.set(name, parseAmount(q, isMilliResource(name)));
    } catch (err) {
      if (err instanceof QuantityError) throw new ResourceError(name, err.message, { cause: err });
      throw err;
    }
  }
  return out;
}

/**
 * Converts a resource list to Resources, rounding each amount up to its unit
 * (MilliValue for CPU, Value for the rest).
 *
 * @throws ResourceError when an amount exceeds 2^53-1.
 */
export function resourcesFromAmounts(list: ResourceAmounts): Resources {
  const out = zeroResources();
  for (const [name, amount] of list) setResource(out, name, ceilOrThrow(name, amount));
  return out;
}

function ceilOrThrow(name: string, a: Amount): number {
  const v = a.frac > 0 ? a.units + 1 : a.units;
  if (v > Number.MAX_SAFE_INTEGER) {
    throw new ResourceError(name, isMilliResource(name) ? 'exceeds 2^53-1 millicores' : 'exceeds 2^53-1');
  }
  return v;
}

/** An init container's requests and whether it is a sidecar (restartPolicy: Always). */
export interface InitContainerResources {
  /** resources.requests. */
  readonly requests: ResourceAmounts;
  /** True for a restartable init container (a sidecar). */
  readonly restartable: boolean;
}

/** What the effective request of a pod is computed from. */
export interface PodResourceInput {
  /** resources.requests of each regular container. */
  readonly containers: readonly ResourceAmounts[];
  /** Init containers, in order. */
  readonly initContainers?: readonly InitContainerResources[];
  /** spec.overhead. */
  readonly overhead?: ResourceAmounts;
  /** spec.resources.requests (pod-level resources). */
  readonly podLevelRequests?: ResourceAmounts;
}

/** The effective request of a pod, plain and with the non-zero defaults. */
export interface PodRequests {
  /** What the pod requests (upstream resourcehelper.PodRequests). */
  readonly requests: Resources;
  /** requests with CPU and memory defaulted for containers that request none, for scoring. */
  readonly nonZeroRequests: Resources;
}

const NON_ZERO_DEFAULTS: ResourceAmounts = new Map([
  [RESOURCE_CPU, wholeAmount(DEFAULT_MILLI_CPU_REQUEST)],
  [RESOURCE_MEMORY, wholeAmount(DEFAULT_MEMORY_REQUEST)],
]);

/** Whether a pod-level request applies to name (upstream IsSupportedPodLevelResource). */
export function isSupportedPodLevelResource(name: string): boolean {
  return name === RESOURCE_CPU || name === RESOURCE_MEMORY || name.startsWith(RESOURCE_HUGEPAGES_PREFIX);
}

function podLevelRequestsSet(list: ResourceAmounts | undefined): boolean {
  if (list === undefined) return false;
  for (const name of list.keys()) if (isSupportedPodLevelResource(name)) return true;
  return false;
}

function addList(target: Map<string, Amount>, list: ResourceAmounts): void {
  for (const [name, amount] of list) target.set(name, addAmounts(target.get(name) ?? ZERO_AMOUNT, amount));
}

function maxList(target: Map<string, Amount>, list: ResourceAmounts): void {
  for (const [name, amount] of list) {
    const current = target.get(name);
    if (current === undefined || compareAmounts(amount, current) > 0) target.set(name, amount);
  }
}

/** list with the defaults for the names it lacks (present names, even at zero, are kept: upstream applyNonMissing). */
function withDefaults(list: ResourceAmounts, defaults: ResourceAmounts | undefined): ResourceAmounts {
  if (defaults === undefined) return list;
  let out: Map<string, Amount> | undefined;
  for (const [name, amount] of defaults) {
    if (list.has(name)) continue;
    out ??= new Map(list);
    out.set(name, amount);
  }
  return out ?? list;
}

/**
 * The containers' part of the request (upstream AggregateContainerRequests):
 * the sum of the regular containers and the sidecars, or the largest need of
 * an init container (itself plus the sidecars started before it), whichever
 * is larger, resource by resource.
 */
function aggregateContainers(input: PodResourceInput, defaults: ResourceAmounts | undefined): Map<string, Amount> {
  const result = new Map<string, Amount>();
  for (const c of input.containers) addList(result, withDefaults(c, defaults));
  const inits = input.initContainers;
  if (inits === undefined || inits.length === 0) return result;
  const sidecars = new Map<string, Amount>();
  const initMax = new Map<string, Amount>();
  for (const init of inits) {
    const requests = withDefaults(init.requests, defaults);
    if (init.restartable) {
      addList(result, requests);
      addList(sidecars, requests);
      maxList(initMax, sidecars);
    } else {
      const combined = new Map(requests);
      addList(combined, sidecars);
      maxList(initMax, combined);
    }
  }
  maxList(result, initMax);
  return result;
}

/** Pod-level requests replace the containers' sum; the overhead comes on top (upstream PodRequests). */
function finishPodRequests(list: Map<string, Amount>, input: PodResourceInput, podLevelSet: boolean): Map<string, Amount> {
  if (podLevelSet && input.podLevelRequests !== undefined) {
    for (const [name, amount] of input.podLevelRequests) {
      if (isSupportedPodLevelResource(name)) list.set(name, amount);
    }
  }
  if (input.overhead !== undefined) addList(list, input.overhead);
  return list;
}

function everyContainerHas(input: PodResourceInput, a: string, b: string): boolean {
  for (const c of input.containers) if (!c.has(a) || !c.has(b)) return false;
  for (const init of input.initContainers ?? []) if (!init.requests.has(a) || !init.requests.has(b)) return false;
  return true;
}

/**
 * The effective request of a pod as the upstream scheduler computes it
 * (resourcehelper.PodRequests and NodeInfo's calculateResource):
 *
 *     max(sum(containers) + sum(sidecars), max over init containers i of
 *         (init i + sidecars before i)) → replaced by pod-level requests where
 *         set (cpu, memory, hugepages-*) → + overhead
 *
 * computed on exact amounts and rounded up once at the end. The non-zero
 * variant gives each container without a CPU (memory) request 100m (200Mi);
 * with pod-level requests, only a resource missing at both levels is defaulted.
 *
 * Status-reported resources of an in-place resize are not considered.
 *
 * @throws ResourceError when an amount exceeds 2^53-1.
 */
export function effectivePodRequests(input: PodResourceInput): PodRequests {
  const podLevelSet = podLevelRequestsSet(input.podLevelRequests);
  const amounts = finishPodRequests(aggregateContainers(input, undefined), input, podLevelSet);
  const requests = resourcesFromAmounts(amounts);

  let defaults: ResourceAmounts | undefined;
  if (!podLevelSet) {
    // Nothing to default when every container names both resources.
    if (!everyContainerHas(input, RESOURCE_CPU, RESOURCE_MEMORY)) defaults = NON_ZERO_DEFAULTS;
  } else {
    const missing = new Map<string, Amount>();
    for (const [name, amount] of NON_ZERO_DEFAULTS) if (!amounts.has(name)) missing.set(name, amount);
    if (missing.size > 0) defaults = missing;
  }
  const nonZero = defaults === undefined ? amounts : finishPodRequests(aggregateContainers(input, defaults), input, podLevelSet);
  const nonZeroRequests: Resources = {
    milliCpu: ceilOrThrow(RESOURCE_CPU, nonZero.get(RESOURCE_CPU) ?? ZERO_AMOUNT),
    memory: ceilOrThrow(RESOURCE_MEMORY, nonZero.get(RESOURCE_MEMORY) ?? ZERO_AMOUNT),
    ephemeralStorage: requests.ephemeralStorage,
    pods: requests.pods,
    scalar: { ...requests.scalar },
  };
  return { requests, nonZeroRequests };
}
