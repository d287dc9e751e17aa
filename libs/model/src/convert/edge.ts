/**
 * The edge: Kubernetes objects (as the API server serves them: raw JSON with
 * RFC 3339 strings, or @kubernetes/client-node models with Date timestamps)
 * converted once into the compact proto messages, one module per kind
 * (pod.ts, node.ts, namespace.ts, policy.ts, configmap.ts, pdb.ts, pod-group.ts,
 * workload.ts).
 *
 * A malformed object is rejected with an EdgeError naming the object and the
 * field; it is never passed on, and no input, however odd (null, arrays where
 * objects belong, wrong types), makes a conversion throw anything else.
 *
 * Each object is read in one pass, without JSON round trips; paths for error
 * messages are only built when something is wrong (FieldIssue, fields.ts).
 */
import { FieldIssue, isObject } from '../fields.js';
import { objectKey, podKey } from '../keys.js';
import type { FieldProblem } from '../problem.js';

/** The kinds whose selectors default pod topology spreading reads (workload.ts). */
export type WorkloadKind = 'Service' | 'ReplicaSet' | 'StatefulSet' | 'ReplicationController';

/** The kind of object an EdgeError is about. */
export type EdgeObjectKind = 'Pod' | 'Node' | 'Namespace' | 'AdmissionPolicy' | 'ConfigMap' | 'PodDisruptionBudget' | 'PodGroup' | WorkloadKind;

/**
 * EdgeError rejects a Kubernetes object that cannot be converted: the object,
 * the field (its path in the Kubernetes object, e.g.
 * "spec.containers[0].resources.requests[cpu]") and why.
 */
export class EdgeError extends Error implements FieldProblem {
  override readonly name = 'EdgeError';
  /** The kind of the object. */
  readonly kind: EdgeObjectKind;
  /** "namespace/name" for a namespaced object, the name for a node or namespace (as far as the object tells). */
  readonly object: string;
  /** The field path; "" when the object itself is not an object. */
  readonly field: string;
  /** Why the field is rejected. */
  readonly reason: string;

  constructor(fields: { kind: EdgeObjectKind; object: string; field: string; reason: string }, options?: { cause?: unknown }) {
    const where = fields.field === '' ? '' : `${fields.field}: `;
    super(`${fields.kind} ${JSON.stringify(fields.object)}: ${where}${fields.reason}`, options);
    this.kind = fields.kind;
    this.object = fields.object;
    this.field = fields.field;
    this.reason = fields.reason;
  }
}

/** How an object names itself in an EdgeError: "namespace/name" (pods always), or just the name. */
export type EdgeNaming = 'pod' | 'namespaced' | 'cluster';

/**
 * Runs the conversion fn of one object of kind and turns whatever it throws
 * into an EdgeError naming the object (as far as its metadata tells).
 */
export function convertAtEdge<T>(kind: EdgeObjectKind, naming: EdgeNaming, obj: unknown, fn: (obj: unknown) => T): T {
  try {
    return fn(obj);
  } catch (err) {
    throw edgeError(kind, describe(obj, naming), err);
  }
}

function edgeError(kind: EdgeObjectKind, object: string, err: unknown): EdgeError {
  if (err instanceof FieldIssue) return new EdgeError({ kind, object, field: err.field, reason: err.reason }, { cause: err.cause ?? err });
  // A bug of the conversion, not of the object: still typed, never a crash of the caller.
  const reason = `conversion failed: ${err instanceof Error ? err.message : String(err)}`;
  return new EdgeError({ kind, object, field: '', reason }, { cause: err });
}

function metaString(obj: unknown, key: string): string {
  if (!isObject(obj) || !isObject(obj.metadata)) return '';
  const v = obj.metadata[key];
  return typeof v === 'string' ? v : '';
}

function describe(obj: unknown, naming: EdgeNaming): string {
  const name = metaString(obj, 'name');
  switch (naming) {
    case 'pod':
      return podKey({ namespace: metaString(obj, 'namespace'), name });
    case 'namespaced':
      return objectKey(metaString(obj, 'namespace'), name);
    case 'cluster':
      return name;
  }
}
