import { expect, test } from '@jest/globals';
import { TtlLruCache } from './result-cache.js';

test('entries expire after the ttl', () => {
  let now = 0;
  const cache = new TtlLruCache<string>({ ttlMs: 100, maxEntries: 10, now: () => now });
  cache.set('a', 'A');
  now = 99;
  expect(cache.get('a')).toBe('A');
  now = 100;
  expect(cache.get('a')).toBeUndefined();
  expect(cache.size).toBe(0);
});

test('when full, the least recently used entry goes', () => {
  const cache = new TtlLruCache<number>({ ttlMs: 1000, maxEntries: 2, now: () => 0 });
  cache.set('a', 1);
  cache.set('b', 2);
  expect(cache.get('a')).toBe(1); // a is now the most recently used
  cache.set('c', 3);
  expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
  expect(cache.size).toBe(2);
});
