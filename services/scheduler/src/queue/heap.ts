/**
 * A binary min-heap whose items are found by key (upstream
 * pkg/scheduler/backend/heap): push, update and delete by key in O(log n),
 * peek in O(1). The active queue orders it by the QueueSort plugin's less and
 * the backoff queue by backoff expiry.
 *
 * Items that neither orders before the other leave in insertion order: the
 * heap keeps a sequence number per item, so equal pods are served first in,
 * first out and a test can rely on the order.
 */

interface Node<T> {
  item: T;
  /** Insertion order, kept across updates: the tie-break. */
  readonly seq: number;
}

/** A heap of items keyed by a string. */
export class KeyedHeap<T> {
  private readonly nodes: Node<T>[] = [];
  private readonly index = new Map<string, number>();
  private nextSeq = 0;

  /**
   * @param keyOf the item's key (a pod's uid).
   * @param less whether a comes out before b; a strict weak ordering.
   */
  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly less: (a: T, b: T) => boolean,
  ) {}

  /** How many items the heap holds. */
  get size(): number {
    return this.nodes.length;
  }

  /** Whether an item with this key is in the heap. */
  has(key: string): boolean {
    return this.index.has(key);
  }

  /** The item with this key. */
  get(key: string): T | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.nodes[i]!.item;
  }

  /** The first item, left in place. */
  peek(): T | undefined {
    return this.nodes[0]?.item;
  }

  /**
   * Adds the item, or replaces the item of the same key and moves it to its
   * new place (it keeps its insertion order for ties).
   */
  upsert(item: T): void {
    const key = this.keyOf(item);
    const i = this.index.get(key);
    if (i !== undefined) {
      this.nodes[i]!.item = item;
      this.fix(i);
      return;
    }
    this.nodes.push({ item, seq: this.nextSeq++ });
    this.index.set(key, this.nodes.length - 1);
    this.up(this.nodes.length - 1);
  }

  /** Removes and returns the first item. */
  pop(): T | undefined {
    const head = this.nodes[0];
    if (head === undefined) return undefined;
    this.removeAt(0);
    return head.item;
  }

  /** Removes and returns the item with this key. */
  delete(key: string): T | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const { item } = this.nodes[i]!;
    this.removeAt(i);
    return item;
  }

  /** Every item, in no particular order. */
  values(): T[] {
    return this.nodes.map((n) => n.item);
  }

  private before(a: Node<T>, b: Node<T>): boolean {
    if (this.less(a.item, b.item)) return true;
    if (this.less(b.item, a.item)) return false;
    return a.seq < b.seq;
  }

  private removeAt(i: number): void {
    const last = this.nodes.length - 1;
    this.index.delete(this.keyOf(this.nodes[i]!.item));
    if (i !== last) {
      this.nodes[i] = this.nodes[last]!;
      this.index.set(this.keyOf(this.nodes[i].item), i);
    }
    this.nodes.pop();
    if (i < this.nodes.length) this.fix(i);
  }

  private fix(i: number): void {
    if (!this.up(i)) this.down(i);
  }

  /** Moves node i towards the root; whether it moved. */
  private up(i: number): boolean {
    const start = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.nodes[i]!, this.nodes[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i !== start;
  }

  private down(i: number): void {
    const n = this.nodes.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.before(this.nodes[right]!, this.nodes[left]!) ? right : left;
      if (!this.before(this.nodes[child]!, this.nodes[i]!)) return;
      this.swap(i, child);
      i = child;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.nodes[i]!;
    const b = this.nodes[j]!;
    this.nodes[i] = b;
    this.nodes[j] = a;
    this.index.set(this.keyOf(b.item), i);
    this.index.set(this.keyOf(a.item), j);
  }
}
