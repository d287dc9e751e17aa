/** The ConfigMap at the edge (the mesh reads the plugin configuration from one): its identity and its data. */
import type { ConfigMap } from '@schedmesh/proto/v1/types';
import { stringMap } from '../fields.js';
import { convertAtEdge } from './edge.js';
import { namespacedIdentity, objectHead } from './metadata.js';

/**
 * Converts a Kubernetes ConfigMap (a client-node V1ConfigMap or the API
 * server's JSON). Only `data` is carried: `binaryData` is not read.
 *
 * @throws EdgeError for a malformed config map (one without a name, or with
 * a data value that is not a string).
 */
export function convertConfigMap(obj: unknown): ConfigMap {
  return convertAtEdge('ConfigMap', 'namespaced', obj, configMapFrom);
}

function configMapFrom(obj: unknown): ConfigMap {
  const head = objectHead(obj);
  return {
    ...namespacedIdentity(head),
    data: stringMap(head.root.data, 'data'),
  };
}
