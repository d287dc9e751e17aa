import { ExtensionPoint } from '@schedmesh/proto/v1/types';

/** An extension point by the name plugin configuration and the plugin protocol use. */
export type PointName = 'preFilter' | 'filter' | 'postFilter' | 'preScore' | 'score' | 'reserve' | 'permit' | 'preBind' | 'bind' | 'postBind';

/** Every point, in the order of the scheduling cycle. */
export const pointNames = ['preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind'] as const satisfies readonly PointName[];

const toEnum: Record<PointName, ExtensionPoint> = {
  preFilter: ExtensionPoint.EXTENSION_POINT_PRE_FILTER,
  filter: ExtensionPoint.EXTENSION_POINT_FILTER,
  postFilter: ExtensionPoint.EXTENSION_POINT_POST_FILTER,
  preScore: ExtensionPoint.EXTENSION_POINT_PRE_SCORE,
  score: ExtensionPoint.EXTENSION_POINT_SCORE,
  reserve: ExtensionPoint.EXTENSION_POINT_RESERVE,
  permit: ExtensionPoint.EXTENSION_POINT_PERMIT,
  preBind: ExtensionPoint.EXTENSION_POINT_PRE_BIND,
  bind: ExtensionPoint.EXTENSION_POINT_BIND,
  postBind: ExtensionPoint.EXTENSION_POINT_POST_BIND,
};
const fromEnum = new Map<ExtensionPoint, PointName>(Object.entries(toEnum).map(([name, value]) => [value, name as PointName]));

/** The proto enum value of a point. */
export function pointToEnum(point: PointName): ExtensionPoint {
  return toEnum[point];
}

/** The point of a proto enum value; undefined for UNSPECIFIED and unknown values. */
export function pointFromEnum(point: ExtensionPoint): PointName | undefined {
  return fromEnum.get(point);
}

/**
 * Points at which a plugin only computes an answer from the pod and the nodes
 * and changes nothing: a call may be repeated (retries) and its answer reused
 * (the result cache). Every other point may have side effects at the plugin
 * (a budget charged at preBind, a slot taken at reserve), so it is called at
 * most once per invocation and never answered from the cache.
 */
export const readOnlyPoints: ReadonlySet<PointName> = new Set<PointName>(['preFilter', 'filter', 'preScore', 'score']);
