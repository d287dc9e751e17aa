/**
 * The keys that name Kubernetes objects inside the mesh, spelled once: maps
 * of the cluster state, stream reconciliation and gang bookkeeping all use
 * these rather than their own template strings.
 */

/** What a key is made of: an object's namespace ("" when cluster-scoped) and name. */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

/** The key of an object: "namespace/name", or "name" for a cluster-scoped object (namespace ""). */
export function objectKey(namespace: string, name: string): string {
  return namespace === '' ? name : `${namespace}/${name}`;
}

/**
 * The key of a pod: "namespace/name". Pods are always namespaced, so the
 * slash is always there (a pod reference without a namespace keys as "/name",
 * never as a cluster-scoped name).
 */
export function podKey(pod: ObjectRef): string {
  return `${pod.namespace}/${pod.name}`;
}

/** The key of a gang (pod group) in a namespace: "namespace/group", or "" when the pod names no group. */
export function groupKey(namespace: string, groupName: string | undefined): string {
  return groupName ? `${namespace}/${groupName}` : '';
}

/** The inverse of {@link objectKey}: "namespace/name" or "name" back to its parts. */
export function splitObjectKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
