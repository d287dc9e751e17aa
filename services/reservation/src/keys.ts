/**
 * The Redis key layout (see the README's "Key layout").
 *
 * Every key of one node's ledger carries the hash tag `{<node>}`, so a Redis
 * Cluster keeps them in one slot and a node script never crosses slots; pods
 * on different nodes never touch the same key. The pod index and the gang
 * keys carry their own tags. Of the few global keys, node scripts touch
 * only the due set (each keeps its node's entry) and the reserve script reads
 * the restore barrier; epoch and gangs are touched by single commands.
 */

/** Position of each node key in a node script's KEYS. */
export const NODE_KEY_NAMES = ['alloc', 'bound', 'leased', 'exp', 'leases', 'pods', 'fence', 'gen'] as const;

/** Position of each gang key in a gang script's KEYS. */
export const GANG_KEY_NAMES = ['state', 'members', 'released'] as const;

/** The key names of one service deployment, under one prefix. */
export class KeyLayout {
  private readonly nodeKeys = new Map<string, readonly string[]>();

  /** @param prefix e.g. "schedmesh:rsv"; tests use one per test. */
  constructor(readonly prefix: string) {}

  /** The keys of a node script: the node's 8, in {@link NODE_KEY_NAMES} order, then the due set. */
  node(name: string): readonly string[] {
    let keys = this.nodeKeys.get(name);
    if (keys === undefined) {
      const base = `${this.prefix}:node:{${name}}:`;
      keys = [...NODE_KEY_NAMES.map((k) => base + k), this.due];
      if (this.nodeKeys.size > 100_000) this.nodeKeys.clear();
      this.nodeKeys.set(name, keys);
    }
    return keys;
  }

  /** Pod uid → the node of its lease (a hint: the node's ledger decides). */
  podIndex(uid: string): string {
    return `${this.prefix}:pod:{${uid}}`;
  }

  /** The 3 keys of a gang, in {@link GANG_KEY_NAMES} order; `group` is "namespace/name". */
  gang(group: string): readonly string[] {
    const base = `${this.prefix}:gang:{${group}}:`;
    return GANG_KEY_NAMES.map((k) => base + k);
  }

  /** The pub/sub channel on which a gang's changes are announced. */
  gangChannel(group: string): string {
    return `${this.prefix}:gang:{${group}}:events`;
  }

  /** Sorted set: node → its earliest lease expiry (ms), for the sweeper. */
  get due(): string {
    return `${this.prefix}:due`;
  }

  /** Sorted set: gang → the deadline (ms) of its waiting round, for the sweeper. */
  get gangs(): string {
    return `${this.prefix}:gangs`;
  }

  /** A node script's keys and the pod's index entry: the keys of the renew, confirm and apply_pod scripts. */
  nodeAndPod(name: string, uid: string): readonly string[] {
    return [...this.node(name), this.podIndex(uid)];
  }

  /** A node script's keys, the restore barrier and the pod's index entry: the keys of the reserve script. */
  reserve(name: string, uid: string): readonly string[] {
    return [...this.node(name), this.restore, this.podIndex(uid)];
  }

  /**
   * Hash: the restore barrier after a Redis loss (`run`, `open`, `deadline`,
   * `x:<replica>` awaited, `a:<replica>` acknowledged). While open, no grant.
   */
  get restore(): string {
    return `${this.prefix}:restore`;
  }

  /** Hash: replica id → when it last checked Redis (ms): who must restore after a loss. */
  get replicas(): string {
    return `${this.prefix}:replicas`;
  }

  /** The epoch marker: written after a (re)build; its absence means Redis lost its data. */
  get epoch(): string {
    return `${this.prefix}:epoch`;
  }
}
