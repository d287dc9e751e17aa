import { createHash } from 'node:crypto';
import { Node, Pod } from '@schedmesh/proto/v1/types';

/**
 * The pod and nodes of one invocation as every plugin receives them (the
 * proto3 JSON mapping), serialized once and only if some plugin is called.
 * {@link contentKey} is the result cache's key: a digest of exactly these
 * bytes, so an answer is reused only for the content it was given — never for
 * another node that shares a name and resourceVersion (M5).
 */
export class InvocationPayload {
  readonly #pod: Pod;
  readonly #nodes: readonly Node[];
  #podJson: string | undefined;
  #nodeJsons: string[] | undefined;
  #nodesJson: string | undefined;
  #contentKey: string | undefined;

  constructor(pod: Pod, nodes: readonly Node[]) {
    this.#pod = pod;
    this.#nodes = nodes;
  }

  /** The pod, as the proto3 JSON mapping of schedmesh.v1.Pod. */
  get podJson(): string {
    return (this.#podJson ??= JSON.stringify(Pod.toJSON(this.#pod)));
  }

  /** The nodes, a JSON array of schedmesh.v1.Node in request order. */
  get nodesJson(): string {
    return (this.#nodesJson ??= `[${this.#nodeList().join(',')}]`);
  }

  /**
   * Digest of the pod and of the node set as sent, independent of the nodes'
   * order (names are unique, so sorting their JSON orders them by content).
   */
  get contentKey(): string {
    if (this.#contentKey === undefined) {
      const hash = createHash('sha256').update(this.podJson);
      for (const node of [...this.#nodeList()].sort()) hash.update('\n').update(node);
      this.#contentKey = hash.digest('base64url');
    }
    return this.#contentKey;
  }

  #nodeList(): string[] {
    return (this.#nodeJsons ??= this.#nodes.map((n) => JSON.stringify(Node.toJSON(n))));
  }
}
