import { expect, test } from '@jest/globals';
import { Pod } from '@schedmesh/proto/v1/types';
import { backoffDuration, BackoffQueue, DEFAULT_POD_INITIAL_BACKOFF_MS, DEFAULT_POD_MAX_BACKOFF_MS } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { QueuedPod } from './queued-pod.js';

const defaults: BackoffOptions = { initialMs: DEFAULT_POD_INITIAL_BACKOFF_MS, maxMs: DEFAULT_POD_MAX_BACKOFF_MS };

function entry(name: string, attempts: number, timestamp: number): QueuedPod {
  const pod = Pod.fromPartial({ uid: `uid-${name}`, namespace: 'default', name });
  return { pod, timestamp, attempts, initialAttemptTimestamp: 0, unschedulablePlugins: new Set(), lastFailure: undefined };
}

test.each<[string, number, BackoffOptions, number]>([
  ['no attempt yet: no backoff', 0, defaults, 0],
  ['first attempt: the initial backoff', 1, defaults, 1_000],
  ['second attempt: doubled', 2, defaults, 2_000],
  ['third attempt: doubled again', 3, defaults, 4_000],
  ['fourth attempt', 4, defaults, 8_000],
  ['fifth attempt: capped at the maximum', 5, defaults, 10_000],
  ['many attempts stay at the cap', 60, defaults, 10_000],
  ['a huge attempt count does not overflow', Number.MAX_SAFE_INTEGER, defaults, 10_000],
  ['configured: initial 100 ms, first attempt', 1, { initialMs: 100, maxMs: 1_000 }, 100],
  ['configured: fourth attempt', 4, { initialMs: 100, maxMs: 1_000 }, 800],
  ['configured: fifth attempt hits the cap', 5, { initialMs: 100, maxMs: 1_000 }, 1_000],
  ['initial equal to the maximum: flat', 3, { initialMs: 5_000, maxMs: 5_000 }, 5_000],
  ['a cap that is not a power of two of the initial', 3, { initialMs: 1_000, maxMs: 3_000 }, 3_000],
])('backoffDuration: %s', (_name, attempts, options, want) => {
  expect(backoffDuration(attempts, options)).toBe(want);
});

test.each<[string, number, number, number, boolean]>([
  ['one attempt, 999 ms later: still backing off', 1, 10_000, 10_999, true],
  ['one attempt, exactly 1 s later: done (expiry is not after now)', 1, 10_000, 11_000, false],
  ['three attempts, 3.9 s later: still backing off', 3, 10_000, 13_900, true],
  ['three attempts, 4 s later: done', 3, 10_000, 14_000, false],
  ['never attempted: never backs off', 0, 10_000, 10_000, false],
])('isBackingOff: %s', (_name, attempts, timestamp, now, want) => {
  const queue = new BackoffQueue(defaults);
  expect(queue.isBackingOff(entry('a', attempts, timestamp), now)).toBe(want);
});

test('entries leave in order of backoff expiry, and only once expired', () => {
  const queue = new BackoffQueue(defaults);
  queue.add(entry('late', 4, 0)); // expires at 8000
  queue.add(entry('early', 1, 500)); // 1500
  queue.add(entry('mid', 2, 1_000)); // 3000
  queue.add(entry('tie', 1, 2_000)); // 3000, added after mid
  expect(queue.nextExpiry()).toBe(1_500);
  expect(queue.popExpired(1_499)).toEqual([]);
  expect(queue.popExpired(3_000).map((e) => e.pod.name)).toEqual(['early', 'mid', 'tie']);
  expect(queue.size).toBe(1);
  expect(queue.nextExpiry()).toBe(8_000);
  expect(queue.popExpired(100_000).map((e) => e.pod.name)).toEqual(['late']);
  expect(queue.nextExpiry()).toBeUndefined();
});

test('update replaces a queued entry only; delete removes it', () => {
  const queue = new BackoffQueue(defaults);
  queue.add(entry('a', 1, 0));
  const renamed = { ...entry('a', 1, 0), pod: Pod.fromPartial({ uid: 'uid-a', name: 'a', priority: 7 }) };
  expect(queue.update(renamed)).toBe(true);
  expect(queue.get('uid-a')?.pod.priority).toBe(7);
  expect(queue.update(entry('b', 1, 0))).toBe(false);
  expect(queue.has('uid-b')).toBe(false);
  expect(queue.delete('uid-a')?.pod.name).toBe('a');
  expect(queue.delete('uid-a')).toBeUndefined();
  expect(queue.list()).toEqual([]);
});
