/**
 * The extension points on the wire: the mapping between the framework's point
 * names (KubeSchedulerConfiguration's `plugins.<point>`) and the proto
 * ExtensionPoint enum that remote plugins (the gateway's protocol) and the
 * scheduler's replies carry. QueueSort never leaves the scheduler, so the
 * proto enum has no value for it.
 */
import { ExtensionPoint as ProtoExtensionPoint } from '@schedmesh/proto/v1/types';
import { EXTENSION_POINTS } from './interfaces.js';
import type { ExtensionPoint } from './interfaces.js';

/** An extension point the proto ExtensionPoint enum names: every point but QueueSort. */
export type WireExtensionPoint = Exclude<ExtensionPoint, 'queueSort'>;

const [, ...wirePoints] = EXTENSION_POINTS;

/**
 * The wire points, in cycle order: EXTENSION_POINTS after QueueSort, which
 * comes first (the `satisfies` fails to compile if it ever does not).
 */
export const WIRE_EXTENSION_POINTS: Readonly<typeof wirePoints> = wirePoints satisfies readonly WireExtensionPoint[];

const TO_PROTO: Readonly<Record<WireExtensionPoint, ProtoExtensionPoint>> = {
  preFilter: ProtoExtensionPoint.EXTENSION_POINT_PRE_FILTER,
  filter: ProtoExtensionPoint.EXTENSION_POINT_FILTER,
  postFilter: ProtoExtensionPoint.EXTENSION_POINT_POST_FILTER,
  preScore: ProtoExtensionPoint.EXTENSION_POINT_PRE_SCORE,
  score: ProtoExtensionPoint.EXTENSION_POINT_SCORE,
  reserve: ProtoExtensionPoint.EXTENSION_POINT_RESERVE,
  permit: ProtoExtensionPoint.EXTENSION_POINT_PERMIT,
  preBind: ProtoExtensionPoint.EXTENSION_POINT_PRE_BIND,
  bind: ProtoExtensionPoint.EXTENSION_POINT_BIND,
  postBind: ProtoExtensionPoint.EXTENSION_POINT_POST_BIND,
};

const FROM_PROTO: ReadonlyMap<ProtoExtensionPoint, WireExtensionPoint> = new Map(
  WIRE_EXTENSION_POINTS.map((point) => [TO_PROTO[point], point] as const),
);

/** The proto enum value of a point. */
export function extensionPointToProto(point: WireExtensionPoint): ProtoExtensionPoint {
  return TO_PROTO[point];
}

/** The point of a proto enum value; undefined for UNSPECIFIED and unknown values. */
export function extensionPointFromProto(value: ProtoExtensionPoint): WireExtensionPoint | undefined {
  return FROM_PROTO.get(value);
}
