/**
 * The extender's replica of the cluster's nodes, kept from the cluster stream
 * (nodeCacheCapable: true sends names only; the gateway's REST plugins need
 * the objects), and the generation it has applied, which filterscore must
 * have at least before it decides.
 */
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Node } from '@schedmesh/proto/v1/types';

/** Node objects by name, in stream order. */
export class NodeView {
  private readonly nodes = new Map<string, Node>();

  node(name: string): Node | undefined {
    return this.nodes.get(name);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Forgets everything (the stream was recreated). */
  reset(): void {
    this.nodes.clear();
  }

  /** Applies one event in stream order; other kinds are ignored. */
  apply(event: ClusterEvent): void {
    const o = event.object;
    if (o?.$case !== 'node') return;
    if (event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE) this.nodes.delete(o.value.name);
    else this.nodes.set(o.value.name, o.value);
  }
}
