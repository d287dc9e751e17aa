/**
 * What every kind reads first, in this order: the object, its metadata and
 * its name (all required), and for the namespaced kinds that carry it
 * through as is (ConfigMap, AdmissionPolicy), their identity.
 */
import { optString, reqObject, reqString } from '../fields.js';
import type { JsonObject } from '../fields.js';

/** An object's root, its metadata and its name. */
export interface ObjectHead {
  readonly root: JsonObject;
  readonly meta: JsonObject;
  readonly name: string;
}

/** Reads the object, its metadata and its name, each required. */
export function objectHead(obj: unknown): ObjectHead {
  const root = reqObject(obj, '');
  const meta = reqObject(root.metadata, 'metadata');
  return { root, meta, name: reqString(meta.name, 'metadata.name') };
}

/** The name, namespace ("" when absent) and resourceVersion of a namespaced object. */
export function namespacedIdentity({ meta, name }: ObjectHead): { name: string; namespace: string; resourceVersion: string } {
  return { name, namespace: optString(meta.namespace, 'metadata.namespace'), resourceVersion: optString(meta.resourceVersion, 'metadata.resourceVersion') };
}
