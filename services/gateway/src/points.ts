/**
 * The extension points as the gateway's plugins see them: the framework's
 * wire points (every point but QueueSort; the list and its proto enum mapping
 * live in @schedmesh/framework), and which of them are read-only for the
 * gateway's retries and result cache.
 */
import type { WireExtensionPoint } from '@schedmesh/framework';

/** An extension point by the name plugin configuration and the plugin protocol use. */
export type PointName = WireExtensionPoint;

/**
 * Points at which a plugin only computes an answer from the pod and the nodes
 * and changes nothing: a call may be repeated (retries) and its answer reused
 * (the result cache). Every other point may have side effects at the plugin
 * (a budget charged at preBind, a slot taken at reserve), so it is called at
 * most once per invocation and never answered from the cache.
 */
export const readOnlyPoints: ReadonlySet<PointName> = new Set<PointName>(['preFilter', 'filter', 'preScore', 'score']);
