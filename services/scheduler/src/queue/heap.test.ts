import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { KeyedHeap } from './heap.js';

interface Item {
  readonly key: string;
  readonly v: number;
}

type Op = readonly ['push', string, number] | readonly ['delete', string];

function heapOf(): KeyedHeap<Item> {
  return new KeyedHeap<Item>(
    (i) => i.key,
    (a, b) => a.v < b.v,
  );
}

function drain(heap: KeyedHeap<Item>): string[] {
  const out: string[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item.key);
  return out;
}

function apply(heap: KeyedHeap<Item>, ops: readonly Op[]): void {
  for (const op of ops) {
    if (op[0] === 'push') heap.upsert({ key: op[1], v: op[2] });
    else heap.delete(op[1]);
  }
}

test.each<[string, Op[], string[]]>([
  ['pops the smallest first', [['push', 'a', 5], ['push', 'b', 3], ['push', 'c', 8], ['push', 'd', 1]], ['d', 'b', 'a', 'c']],
  ['ties leave first in, first out', [['push', 'a', 1], ['push', 'b', 1], ['push', 'c', 0], ['push', 'd', 1]], ['c', 'a', 'b', 'd']],
  ['an update moves an item up', [['push', 'a', 5], ['push', 'b', 6], ['push', 'c', 7], ['push', 'c', 1]], ['c', 'a', 'b']],
  ['an update moves an item down', [['push', 'a', 1], ['push', 'b', 2], ['push', 'c', 3], ['push', 'a', 9]], ['b', 'c', 'a']],
  ['an updated item keeps its insertion order among ties', [['push', 'a', 2], ['push', 'b', 1], ['push', 'a', 1]], ['a', 'b']],
  ['delete from the middle', [['push', 'a', 1], ['push', 'b', 2], ['push', 'c', 3], ['push', 'd', 4], ['push', 'e', 5], ['delete', 'b']], ['a', 'c', 'd', 'e']],
  ['delete the head', [['push', 'a', 1], ['push', 'b', 2], ['push', 'c', 3], ['delete', 'a']], ['b', 'c']],
  ['delete the last', [['push', 'a', 1], ['push', 'b', 2], ['delete', 'b']], ['a']],
  ['delete an unknown key changes nothing', [['push', 'a', 1], ['delete', 'x']], ['a']],
  ['a deleted key can come back, as the newest of its ties', [['push', 'a', 1], ['push', 'b', 1], ['delete', 'a'], ['push', 'a', 1]], ['b', 'a']],
])('%s', (_name, ops, want) => {
  const heap = heapOf();
  apply(heap, ops);
  expect(heap.size).toBe(want.length);
  expect(drain(heap)).toEqual(want);
  expect(heap.size).toBe(0);
});

test('get, has, peek and values see the items in place', () => {
  const heap = heapOf();
  apply(heap, [
    ['push', 'a', 2],
    ['push', 'b', 1],
  ]);
  expect(heap.has('a')).toBe(true);
  expect(heap.has('x')).toBe(false);
  expect(heap.get('a')).toEqual({ key: 'a', v: 2 });
  expect(heap.get('x')).toBeUndefined();
  expect(heap.peek()).toEqual({ key: 'b', v: 1 });
  expect(heap.values().map((i) => i.key).sort()).toEqual(['a', 'b']);
  expect(heap.delete('a')).toEqual({ key: 'a', v: 2 });
  expect(heap.has('a')).toBe(false);
});

test('any sequence of pushes, updates and deletes pops like a sorted list', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
  const op = fc.oneof(
    fc.tuple(fc.constant('push' as const), key, fc.integer({ min: 0, max: 5 })),
    fc.tuple(fc.constant('delete' as const), key),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const heap = heapOf();
      apply(heap, ops);
      // The model: value, then first insertion (an update keeps it, a delete forgets it).
      const model = new Map<string, { v: number; seq: number }>();
      ops.forEach((o, seq) => {
        if (o[0] === 'delete') model.delete(o[1]);
        else model.set(o[1], { v: o[2], seq: model.get(o[1])?.seq ?? seq });
      });
      const want = [...model.entries()].sort(([, x], [, y]) => x.v - y.v || x.seq - y.seq).map(([k]) => k);
      expect(drain(heap)).toEqual(want);
    }),
  );
});
