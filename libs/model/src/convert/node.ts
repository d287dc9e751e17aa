/**
 * The Node at the edge: allocatable and capacity rounded up to their unit,
 * taints, conditions and readiness, images, and the topology read from labels
 * (zone and region with their legacy fallbacks, rack and pool by option).
 */
import type { ContainerImage, Node, NodeCondition } from '@schedmesh/proto/v1/types';
import { mapArray, optBool, optInt, optObject, optString, reqObject, reqString, stringList, stringMap } from '../fields.js';
import { convertAtEdge } from './edge.js';
import { LABEL_REGION, LABEL_REGION_LEGACY, LABEL_ZONE, LABEL_ZONE_LEGACY } from './labels.js';
import { objectHead } from './metadata.js';
import { resourcesOf } from './quantities.js';
import { taintOf } from './taints.js';

/** Options of the node conversion. */
export interface NodeConvertOptions {
  /** The node label whose value is the rack (default "schedmesh.io/rack"). */
  readonly rackLabelKey?: string;
  /** The node label whose value is the node pool (default "schedmesh.io/node-pool"). */
  readonly poolLabelKey?: string;
}

/** The defaults of NodeConvertOptions. */
export const DEFAULT_NODE_CONVERT_OPTIONS: Required<NodeConvertOptions> = Object.freeze({
  rackLabelKey: 'schedmesh.io/rack',
  poolLabelKey: 'schedmesh.io/node-pool',
});

/**
 * Converts a Kubernetes Node (a client-node V1Node or the API server's JSON).
 *
 * @throws EdgeError for a malformed node.
 */
export function convertNode(obj: unknown, options?: NodeConvertOptions): Node {
  const rackLabelKey = options?.rackLabelKey ?? DEFAULT_NODE_CONVERT_OPTIONS.rackLabelKey;
  const poolLabelKey = options?.poolLabelKey ?? DEFAULT_NODE_CONVERT_OPTIONS.poolLabelKey;
  return convertAtEdge('Node', 'cluster', obj, (o) => nodeFrom(o, rackLabelKey, poolLabelKey));
}

function conditionOf(v: unknown): NodeCondition {
  const c = reqObject(v, '');
  return { type: reqString(c.type, 'type'), status: optString(c.status, 'status'), reason: optString(c.reason, 'reason') };
}

function imageOf(v: unknown): ContainerImage {
  const i = reqObject(v, '');
  return { names: stringList(i.names, 'names'), sizeBytes: optInt(i.sizeBytes, 'sizeBytes', 0, Number.MAX_SAFE_INTEGER) ?? 0 };
}

function labelOr(labels: { [key: string]: string }, key: string, fallback: string): string {
  const v = labels[key];
  if (typeof v === 'string' && v !== '') return v;
  const w = labels[fallback];
  return typeof w === 'string' ? w : '';
}

function label(labels: { [key: string]: string }, key: string): string {
  const v = labels[key];
  return typeof v === 'string' ? v : '';
}

function nodeFrom(obj: unknown, rackLabelKey: string, poolLabelKey: string): Node {
  const { root, meta, name } = objectHead(obj);
  const labels = stringMap(meta.labels, 'metadata.labels');
  const spec = optObject(root.spec, 'spec');
  const status = optObject(root.status, 'status');
  const conditions = status === undefined ? [] : mapArray(status.conditions, 'status.conditions', conditionOf);
  let ready = false;
  for (const c of conditions) if (c.type === 'Ready') ready = c.status === 'True';
  return {
    name,
    uid: optString(meta.uid, 'metadata.uid'),
    labels,
    resourceVersion: optString(meta.resourceVersion, 'metadata.resourceVersion'),
    unschedulable: spec === undefined ? false : optBool(spec.unschedulable, 'spec.unschedulable'),
    taints: spec === undefined ? [] : mapArray(spec.taints, 'spec.taints', taintOf),
    allocatable: resourcesOf(status?.allocatable, 'status.allocatable'),
    capacity: resourcesOf(status?.capacity, 'status.capacity'),
    conditions,
    ready,
    images: status === undefined ? [] : mapArray(status.images, 'status.images', imageOf),
    zone: labelOr(labels, LABEL_ZONE, LABEL_ZONE_LEGACY),
    region: labelOr(labels, LABEL_REGION, LABEL_REGION_LEGACY),
    rack: label(labels, rackLabelKey),
    pool: label(labels, poolLabelKey),
  };
}
