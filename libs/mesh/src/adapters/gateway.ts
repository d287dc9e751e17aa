/**
 * The gateway's REST plugins in a cycle: Filter and Score over the nodes
 * filterscore ranked (one batched call each), and PreBind patches. Which
 * points have plugins is read from ListPlugins and cached briefly, so a mesh
 * without REST plugins pays no call per attempt.
 */
import { Status } from '@schedmesh/framework';
import type { Node, Pod } from '@schedmesh/proto/v1/types';
import { ExtensionPoint } from '@schedmesh/proto/v1/types';
import type { GatewayClient } from '../clients.js';
import { statusFrom } from './status.js';

/** The plugin name of gateway statuses that name no REST plugin. */
export const GATEWAY_PLUGIN = 'SchedmeshGateway';

/** Options of {@link GatewayPlugins}. */
export interface GatewayPluginsOptions {
  /** How long the list of points with plugins is reused, in ms (default 5 s; the gateway hot-reloads its plugins). */
  readonly pointsTtlMs?: number;
  readonly now?: () => number;
}

/** A Filter answer. */
export interface GatewayFilter {
  readonly status: Status;
  /** Nodes every plugin accepted, in the order given. */
  readonly feasible: readonly string[];
  /** Nodes rejected, with the first plugin's status. */
  readonly rejected: ReadonlyMap<string, Status>;
}

/** The labels and annotations PreBind plugins want on the pod. */
export interface GatewayPatch {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The gateway as Filter, Score and PreBind steps. */
export class GatewayPlugins {
  private points: { at: number; set: Set<ExtensionPoint> } | undefined;
  /** The ListPlugins call in flight: the attempts that find the list stale meanwhile share it. */
  private listing: Promise<Set<ExtensionPoint>> | undefined;
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(
    private readonly client: GatewayClient,
    options: GatewayPluginsOptions = {},
  ) {
    this.ttl = options.pointsTtlMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether any REST plugin serves the point. One ListPlugins call refreshes
   * the list for every attempt that finds it stale while the call runs (each
   * still stops waiting when its own signal aborts); a failed call fails
   * them all, and the next attempt tries again.
   */
  async serves(point: ExtensionPoint, signal: AbortSignal): Promise<boolean> {
    if (this.points && this.now() - this.points.at <= this.ttl) return this.points.set.has(point);
    this.listing ??= this.list().finally(() => (this.listing = undefined));
    return (await abortable(this.listing, signal)).has(point);
  }

  private async list(): Promise<Set<ExtensionPoint>> {
    // Shared by many attempts, so bound by the client's default deadline, not by one attempt's signal.
    const res = await this.client.listPlugins({});
    const set = new Set(res.plugins.flatMap((p) => p.points));
    this.points = { at: this.now(), set };
    return set;
  }

  /** REST PreFilter plugins: pod-level checks before any node is looked at. */
  async preFilter(pod: Pod, signal: AbortSignal): Promise<Status> {
    const res = await this.client.invoke({ point: ExtensionPoint.EXTENSION_POINT_PRE_FILTER, pod, nodes: [], plugins: [] }, { signal });
    const status = statusFrom(res.status, GATEWAY_PLUGIN);
    return status.isSkip() ? Status.SUCCESS : status;
  }

  /** REST Filter plugins over `nodes` (one call). */
  async filter(pod: Pod, nodes: readonly Node[], signal: AbortSignal): Promise<GatewayFilter> {
    const res = await this.client.invoke({ point: ExtensionPoint.EXTENSION_POINT_FILTER, pod, nodes: [...nodes], plugins: [] }, { signal });
    const status = statusFrom(res.status, GATEWAY_PLUGIN);
    const rejected = new Map<string, Status>();
    for (const r of res.results) for (const n of r.rejected) if (!rejected.has(n.nodeName)) rejected.set(n.nodeName, statusFrom(n.status, r.plugin));
    if (status.isError()) return { status, feasible: [], rejected };
    return { status: Status.SUCCESS, feasible: res.feasible, rejected };
  }

  /** REST Score plugins over `nodes` (one call): node → weighted score. */
  async score(pod: Pod, nodes: readonly Node[], signal: AbortSignal): Promise<{ status: Status; scores: ReadonlyMap<string, number> }> {
    const res = await this.client.invoke({ point: ExtensionPoint.EXTENSION_POINT_SCORE, pod, nodes: [...nodes], plugins: [] }, { signal });
    const status = statusFrom(res.status, GATEWAY_PLUGIN);
    if (status.isError()) return { status, scores: new Map() };
    return { status: Status.SUCCESS, scores: new Map(Object.entries(res.scores)) };
  }

  /** REST PreBind plugins: the merged patch for the pod on `node`. */
  async preBind(pod: Pod, node: Node | undefined, signal: AbortSignal): Promise<{ status: Status; patch: GatewayPatch }> {
    const res = await this.client.invoke({ point: ExtensionPoint.EXTENSION_POINT_PRE_BIND, pod, nodes: node ? [node] : [], plugins: [] }, { signal });
    const status = statusFrom(res.status, GATEWAY_PLUGIN);
    const patch = { labels: res.patch?.labels ?? {}, annotations: res.patch?.annotations ?? {} };
    return { status: status.isSkip() ? Status.SUCCESS : status, patch };
  }
}

/** `promise`, or the signal's reason once it aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = (): Error => (signal.reason instanceof Error ? signal.reason : new Error(`aborted: ${String(signal.reason)}`));
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
