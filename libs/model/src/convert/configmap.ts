/** The ConfigMap at the edge (the mesh reads the plugin configuration from one): its identity and its data. */
import type { ConfigMap } from '@schedmesh/proto/v1/types';
import { optString, reqObject, reqString, stringMap } from '../fields.js';
import { convertAtEdge } from './edge.js';

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
  const root = reqObject(obj, '');
  const meta = reqObject(root.metadata, 'metadata');
  return {
    name: reqString(meta.name, 'metadata.name'),
    namespace: optString(meta.namespace, 'metadata.namespace'),
    resourceVersion: optString(meta.resourceVersion, 'metadata.resourceVersion'),
    data: stringMap(root.data, 'data'),
  };
}
