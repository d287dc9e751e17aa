/**
 * The PodGroup of scheduler-plugins' coscheduling (scheduling.x-k8s.io/v1alpha1)
 * at the edge: its identity, spec.minMember and spec.scheduleTimeoutSeconds.
 * spec.minResources is not read: Permit waits for reservations, which already
 * hold each member's room.
 */
import type { PodGroupObject } from '@schedmesh/proto/v1/types';
import { FieldIssue, optInt, reqObject } from '../fields.js';
import { MAX_PERMIT_WAIT_MS, MAX_POD_GROUP_MIN_MEMBER } from '../validate.js';
import { convertAtEdge } from './edge.js';
import { namespacedIdentity, objectHead } from './metadata.js';

/**
 * Converts a PodGroup object (the API server's JSON, or a client-node custom
 * object).
 *
 * @throws EdgeError for a malformed group: no name or namespace, a
 * spec.minMember that is missing or not 1 to MAX_POD_GROUP_MIN_MEMBER (the
 * CRD's minimum is 1; a group of none would gate nothing), a
 * spec.scheduleTimeoutSeconds beyond the longest Permit wait.
 */
export function convertPodGroup(obj: unknown): PodGroupObject {
  return convertAtEdge('PodGroup', 'namespaced', obj, podGroupFrom);
}

function podGroupFrom(obj: unknown): PodGroupObject {
  const head = objectHead(obj);
  const identity = namespacedIdentity(head);
  if (identity.namespace === '') throw new FieldIssue('metadata.namespace', 'required value (PodGroup is namespaced)');
  const spec = reqObject(head.root.spec, 'spec');
  const minMember = optInt(spec.minMember, 'spec.minMember', 1, MAX_POD_GROUP_MIN_MEMBER);
  if (minMember === undefined) throw new FieldIssue('spec.minMember', 'required value');
  return {
    ...identity,
    minMember,
    scheduleTimeoutSeconds: optInt(spec.scheduleTimeoutSeconds, 'spec.scheduleTimeoutSeconds', 0, MAX_PERMIT_WAIT_MS / 1000) ?? 0,
  };
}
