/**
 * The AdmissionPolicy (schedmesh.io/v1alpha1) at the edge: its identity, and
 * its spec passed on as the JSON the API server served. The spec's schema
 * belongs to the admission service alone (it refuses an invalid policy whole,
 * with a status and a metric); the edge only makes sure the object can be
 * keyed and ordered.
 */
import type { AdmissionPolicy } from '@schedmesh/proto/v1/types';
import { optInt } from '../fields.js';
import { convertAtEdge } from './edge.js';
import { namespacedIdentity, objectHead } from './metadata.js';

/**
 * Converts an AdmissionPolicy object (the API server's JSON, or a client-node
 * custom object); its spec is kept as JSON ("{}" when absent).
 *
 * @throws EdgeError for a malformed policy (one without a name, or with
 * metadata fields of the wrong type).
 */
export function convertAdmissionPolicy(obj: unknown): AdmissionPolicy {
  return convertAtEdge('AdmissionPolicy', 'namespaced', obj, policyFrom);
}

function policyFrom(obj: unknown): AdmissionPolicy {
  const head = objectHead(obj);
  const { root, meta } = head;
  return {
    ...namespacedIdentity(head),
    generation: optInt(meta.generation, 'metadata.generation', 0, Number.MAX_SAFE_INTEGER) ?? 0,
    specJson: JSON.stringify(root.spec ?? {}),
  };
}
