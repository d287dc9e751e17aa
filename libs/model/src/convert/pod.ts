/**
 * The Pod at the edge: identity and kept annotations, the effective request
 * (containers, init containers and sidecars, overhead, pod-level requests),
 * placement constraints, host ports, volumes, the gang and the owner.
 */
import { PodPhase, PreemptionPolicy } from '@schedmesh/proto/v1/types';
import type { Pod, PodGroup } from '@schedmesh/proto/v1/types';
import { FieldIssue, isObject, mapArray, optArray, optInt, optObject, optString, optTime, reqObject, reqString, stringMap, sub, within } from '../fields.js';
import type { JsonObject } from '../fields.js';
import { effectivePodRequests, ResourceError } from '../resources.js';
import type { InitContainerResources, PodRequests, ResourceAmounts } from '../resources.js';
import { affinityOf } from './affinity.js';
import { containerOf, mountsOf, volumeOf } from './containers.js';
import type { ContainerScan } from './containers.js';
import { convertAtEdge } from './edge.js';
import { ANNOTATION_POD_GROUP_MIN_MEMBER, ANNOTATION_POD_GROUP_TIMEOUT, isKeptPodAnnotation, LABEL_POD_GROUP } from './labels.js';
import { objectHead } from './metadata.js';
import { resourceAmounts } from './quantities.js';
import { spreadConstraintOf } from './spread.js';
import { tolerationOf } from './taints.js';
import { enumOf, INT32_MAX, INT32_MIN } from './values.js';

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

/**
 * Converts a Kubernetes Pod (a client-node V1Pod or the API server's JSON).
 *
 * @throws EdgeError for a malformed pod.
 */
export function convertPod(obj: unknown): Pod {
  return convertAtEdge('Pod', 'pod', obj, podFrom);
}

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

function schedulingGateOf(v: unknown): string {
  return reqString(reqObject(v, '').name, 'name');
}

/** Calls fn on each element of the array spec[key], prefixing errors with `spec.key[i]`. */
function eachOf(spec: JsonObject, key: string, fn: (item: unknown) => void): void {
  const list = optArray(spec[key], `spec.${key}`);
  for (let i = 0; i < list.length; i++) {
    try {
      fn(list[i]);
    } catch (err) {
      throw within(err, `spec.${key}[${i}]`);
    }
  }
}

/** What the containers of a pod spec request, and what they contribute beyond that (into scan). */
interface ContainerRequests {
  readonly containers: ResourceAmounts[];
  readonly initContainers: InitContainerResources[];
}

/** Reads every container, init container and ephemeral container of spec in one pass. */
function containersOf(spec: JsonObject, scan: ContainerScan): ContainerRequests {
  const containers: ResourceAmounts[] = [];
  if (optArray(spec.containers, 'spec.containers').length === 0) throw new FieldIssue('spec.containers', 'required value');
  eachOf(spec, 'containers', (c) => containers.push(containerOf(c, scan)));
  const initContainers: InitContainerResources[] = [];
  eachOf(spec, 'initContainers', (c) => {
    const init = reqObject(c, '');
    const requests = containerOf(init, scan);
    // Only "Always" is valid on a container: a restartable init container, a sidecar.
    const restartable = optString(init.restartPolicy, 'restartPolicy') === 'Always';
    initContainers.push({ requests, restartable });
  });
  // Ephemeral containers request nothing, but their mounts count.
  eachOf(spec, 'ephemeralContainers', (c) => mountsOf(reqObject(c, ''), scan));
  return { containers, initContainers };
}

/** The pod's effective request (upstream PodRequests), and its non-zero variant for scoring. */
function requestsOf(spec: JsonObject, requests: ContainerRequests): PodRequests {
  const podResources = optObject(spec.resources, 'spec.resources');
  try {
    return effectivePodRequests({
      containers: requests.containers,
      initContainers: requests.initContainers,
      overhead: resourceAmounts(spec.overhead, 'spec.overhead'),
      podLevelRequests: podResources === undefined ? undefined : resourceAmounts(podResources.requests, 'spec.resources.requests'),
    });
  } catch (err) {
    if (err instanceof ResourceError) throw new FieldIssue('spec', `effective request of ${err.message}`, { cause: err });
    throw err;
  }
}

function podFrom(obj: unknown): Pod {
  const { root, meta, name } = objectHead(obj);
  const namespace = reqString(meta.namespace, 'metadata.namespace');
  const uid = reqString(meta.uid, 'metadata.uid');
  const labels = stringMap(meta.labels, 'metadata.labels');
  const annotations = stringMap(meta.annotations, 'metadata.annotations', isKeptPodAnnotation);
  const spec = reqObject(root.spec, 'spec');
  const status = optObject(root.status, 'status');

  const scan: ContainerScan = { images: [], hostPorts: [], readWrite: undefined };
  const { requests, nonZeroRequests } = requestsOf(spec, containersOf(spec, scan));
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
