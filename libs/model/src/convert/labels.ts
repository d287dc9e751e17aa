/**
 * The labels and annotations the edge reads or keeps: topology labels of
 * nodes, the gang of a pod, and which annotations survive the conversion.
 */

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
 * but waits for nobody. A PodGroup object of the same name in the pod's
 * namespace takes precedence (resolvePodGroup, at each attempt); these
 * annotations are the fallback when there is none.
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

/** Whether an annotation is kept on a namespace (schedmesh.io/*). */
export function isSchedmeshKey(key: string): boolean {
  return key.startsWith(SCHEDMESH_ANNOTATION_PREFIX);
}

/** Whether an annotation is kept on a pod. */
export function isKeptPodAnnotation(key: string): boolean {
  for (const prefix of KEPT_POD_ANNOTATION_PREFIXES) if (key.startsWith(prefix)) return true;
  return KEPT_POD_ANNOTATIONS.has(key);
}
