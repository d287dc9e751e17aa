/**
 * Which gang a pod waits for: the PodGroup object of scheduler-plugins named
 * by the pod's `scheduling.x-k8s.io/pod-group` label in the pod's namespace,
 * else the pod's own `schedmesh.io/pod-group-*` annotations. Resolved once per
 * scheduling attempt (libs/mesh), never at the edge: the edge converts one
 * object at a time, and a PodGroup may arrive after its members.
 */
import type { Pod, PodGroupObject } from '@schedmesh/proto/v1/types';
import { ANNOTATION_POD_GROUP_MIN_MEMBER, ANNOTATION_POD_GROUP_TIMEOUT } from './convert/labels.js';
import { groupKey } from './keys.js';

/** Looks up a PodGroup object by namespace and name. */
export type PodGroupLookup = (namespace: string, name: string) => PodGroupObject | undefined;

/**
 * A pod's gang resolved: the pod, its pod_group filled from the PodGroup
 * object when there is one; or, as coscheduling's PreFilter, why it cannot be
 * scheduled yet (its label names a PodGroup that does not exist and the pod
 * carries no fallback annotations).
 */
export type PodGroupResolution = { readonly pod: Pod; readonly missing?: undefined } | { readonly pod?: undefined; readonly missing: string };

/** Resolves the gang of pod (see {@link PodGroupResolution}). */
export function resolvePodGroup(pod: Pod, lookup: PodGroupLookup): PodGroupResolution {
  const named = pod.podGroup;
  if (!named) return { pod };
  const group = lookup(pod.namespace, named.name);
  if (group) return { pod: { ...pod, podGroup: { name: named.name, minMember: group.minMember, scheduleTimeoutSeconds: group.scheduleTimeoutSeconds } } };
  if (ANNOTATION_POD_GROUP_MIN_MEMBER in pod.annotations || ANNOTATION_POD_GROUP_TIMEOUT in pod.annotations) return { pod };
  return { missing: `pod group ${groupKey(pod.namespace, named.name)} not found` };
}

/** The PodGroup objects of the cluster stream, by namespace and name. */
export class PodGroupIndex {
  private readonly groups = new Map<string, PodGroupObject>();

  /** The group, if the stream holds it. */
  readonly get: PodGroupLookup = (namespace, name) => this.groups.get(groupKey(namespace, name));

  /** Applies a group's upsert (its full state) or deletion. */
  apply(group: PodGroupObject, deleted: boolean): void {
    const key = groupKey(group.namespace, group.name);
    if (deleted) this.groups.delete(key);
    else this.groups.set(key, group);
  }

  /** Forgets every group (the stream was recreated). */
  clear(): void {
    this.groups.clear();
  }

  get size(): number {
    return this.groups.size;
  }
}
