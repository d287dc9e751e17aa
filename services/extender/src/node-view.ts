/**
 * The extender's replica of the cluster's nodes, kept from the cluster stream
 * (nodeCacheCapable: true sends names only; the gateway's REST plugins need
 * the objects), with the generation at which each node was last written, so
 * a verb can ask filterscore for a generation that covers every node named;
 * each pending pod's latest write and its generation, the state a verb about
 * that pod must see at least (and the pod bind decides on); and scheduler-plugins' PodGroup objects, which
 * attempts resolve gangs from.
 */
import { PodGroupIndex } from '@schedmesh/model';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Node, Pod } from '@schedmesh/proto/v1/types';

/** Options of {@link NodeView.waitForNodes}. */
export interface WaitForNodesOptions {
  /** The longest wait, in ms. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** What {@link NodeView.waitForNodes} found. */
export interface NodesCovered {
  /** The generation of the latest write among the nodes held (0 when none is). */
  readonly generation: number;
  /** The names still not held when the wait ended, in request order. */
  readonly missing: readonly string[];
}

/** Node objects by name, in stream order. */
export class NodeView {
  private readonly nodes = new Map<string, { readonly node: Node; readonly generation: number }>();
  /** Pending pods by UID: their latest write and its generation (bound and deleted pods leave). */
  private readonly pendingPods = new Map<string, { readonly pod: Pod; readonly generation: number }>();
  /** Each pending wait's names still missing; emptied as the nodes arrive. */
  private readonly waits = new Set<{ readonly missing: Set<string>; readonly wake: () => void }>();
  /** The PodGroup objects; `podGroups.get` is the attempts' lookup. */
  readonly podGroups = new PodGroupIndex();

  node(name: string): Node | undefined {
    return this.nodes.get(name)?.node;
  }

  get size(): number {
    return this.nodes.size;
  }

  /** How many pending pods the replica holds. */
  get pending(): number {
    return this.pendingPods.size;
  }

  /**
   * The generation of the pod's latest write, while it is pending; undefined
   * when the replica has not seen it (kube-scheduler's informer can be ahead
   * of the stream) or no longer holds it.
   */
  podGeneration(uid: string): number | undefined {
    return this.pendingPods.get(uid)?.generation;
  }

  /** The pod's latest write while it is pending (undefined as for {@link podGeneration}). */
  pendingPod(uid: string): Pod | undefined {
    return this.pendingPods.get(uid)?.pod;
  }

  /** How many {@link waitForNodes} calls are waiting for a node right now. */
  get waiting(): number {
    return this.waits.size;
  }

  /** Forgets everything (the stream was recreated). */
  reset(): void {
    this.nodes.clear();
    this.pendingPods.clear();
    this.podGroups.clear();
  }

  /** Applies one event in stream order; kinds other than nodes, pods and PodGroups are ignored. */
  apply(event: ClusterEvent): void {
    const o = event.object;
    const deleted = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    if (o?.$case === 'podGroup') this.podGroups.apply(o.value, deleted);
    if (o?.$case === 'pod') {
      if (deleted || o.value.nodeName !== '') this.pendingPods.delete(o.value.uid);
      else this.pendingPods.set(o.value.uid, { pod: o.value, generation: event.generation });
      return;
    }
    if (o?.$case !== 'node') return;
    const name = o.value.name;
    if (deleted) {
      this.nodes.delete(name);
      return;
    }
    this.nodes.set(name, { node: o.value, generation: event.generation });
    for (const wait of this.waits) if (wait.missing.delete(name) && wait.missing.size === 0) wait.wake();
  }

  /**
   * Waits, at most `timeoutMs` (or until `signal` aborts), until every named
   * node is held — a node kube-scheduler already knows may not have reached
   * the stream yet. Never fails: the names still missing are returned.
   */
  async waitForNodes(names: readonly string[], options: WaitForNodesOptions): Promise<NodesCovered> {
    const now = this.covered(names);
    if (now.missing.length === 0 || options.signal.aborted) return now;
    await this.arrival(new Set(now.missing), options);
    return this.covered(names);
  }

  // One pass, no copies: a request names thousands of nodes, and usually every one is held.
  private covered(names: readonly string[]): NodesCovered {
    let generation = 0;
    let missing: string[] | undefined;
    for (const n of names) {
      const held = this.nodes.get(n);
      if (held === undefined) (missing ??= []).push(n);
      else if (held.generation > generation) generation = held.generation;
    }
    return { generation, missing: missing ?? [] };
  }

  /** Resolves once every name in `missing` arrived, or after the timeout, or on abort. */
  private arrival(missing: Set<string>, options: WaitForNodesOptions): Promise<void> {
    return new Promise<void>((resolve) => {
      const wait = { missing, wake: () => finish() };
      const finish = (): void => {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', finish);
        this.waits.delete(wait);
        resolve();
      };
      const timer = setTimeout(finish, options.timeoutMs);
      options.signal.addEventListener('abort', finish, { once: true });
      this.waits.add(wait);
    });
  }
}
