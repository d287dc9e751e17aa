/** The Namespace at the edge: its labels (namespace selectors match them) and its schedmesh.io annotations. */
import type { Namespace } from '@schedmesh/proto/v1/types';
import { stringMap } from '../fields.js';
import { convertAtEdge } from './edge.js';
import { objectHead } from './metadata.js';
import { isSchedmeshKey } from './labels.js';

/**
 * Converts a Kubernetes Namespace (a client-node V1Namespace or the API server's JSON).
 *
 * @throws EdgeError for a malformed namespace.
 */
export function convertNamespace(obj: unknown): Namespace {
  return convertAtEdge('Namespace', 'cluster', obj, namespaceFrom);
}

function namespaceFrom(obj: unknown): Namespace {
  const { meta, name } = objectHead(obj);
  return {
    name,
    labels: stringMap(meta.labels, 'metadata.labels'),
    annotations: stringMap(meta.annotations, 'metadata.annotations', isSchedmeshKey),
  };
}
