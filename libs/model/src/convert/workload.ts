/**
 * Services, ReplicaSets, StatefulSets and ReplicationControllers at the edge:
 * only their selectors, which default pod topology spreading reads (upstream
 * helper.DefaultSelector).
 */
import type { LabelSelector, WorkloadSelector } from '@schedmesh/proto/v1/types';
import { optObject, stringMap, sub } from '../fields.js';
import { labelSelectorOf } from './affinity.js';
import { convertAtEdge } from './edge.js';
import type { WorkloadKind } from './edge.js';
import { namespacedIdentity, objectHead } from './metadata.js';

/**
 * Converts a Service or ReplicationController (spec.selector is a label map)
 * or a ReplicaSet or StatefulSet (spec.selector is a metav1.LabelSelector),
 * as client-node models or the API server's JSON. An absent or empty
 * selector is left out: it adds nothing to a pod's default selector.
 *
 * @throws EdgeError for a malformed object (no name, a selector value that
 * is no string, a selector that is no valid label selector).
 */
export function convertWorkloadSelector(kind: WorkloadKind, obj: unknown): WorkloadSelector {
  return convertAtEdge(kind, 'namespaced', obj, (o) => workloadFrom(kind, o));
}

function workloadFrom(kind: WorkloadKind, obj: unknown): WorkloadSelector {
  const head = objectHead(obj);
  const spec = optObject(head.root.spec, 'spec');
  const selector = kind === 'Service' || kind === 'ReplicationController' ? fromMap(stringMap(spec?.selector, 'spec.selector')) : sub('spec.selector', spec?.selector, labelSelectorOf);
  const empty = selector === undefined || (Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0);
  return { ...namespacedIdentity(head), ...(empty ? {} : { selector }) };
}

function fromMap(matchLabels: { [key: string]: string }): LabelSelector {
  return { matchLabels, matchExpressions: [] };
}
