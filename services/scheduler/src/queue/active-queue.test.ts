import { expect, jest, test } from '@jest/globals';
import type { QueuedPodInfo } from '@schedmesh/framework';
import { Pod } from '@schedmesh/proto/v1/types';
import { ActiveQueue } from './active-queue.js';
import { newQueuedPod } from './queued-pod.js';
import type { QueuedPod } from './queued-pod.js';

// PrioritySort's ordering, written out: the queue takes less from the profile, not from the plugin code.
const prioritySort = (a: QueuedPodInfo, b: QueuedPodInfo): boolean =>
  a.pod.priority > b.pod.priority || (a.pod.priority === b.pod.priority && a.timestamp < b.timestamp);

function entry(name: string, priority = 0, timestamp = 0): QueuedPod {
  return newQueuedPod(Pod.fromPartial({ uid: `uid-${name}`, namespace: 'default', name, priority }), timestamp);
}

function drain(queue: ActiveQueue): string[] {
  const out: string[] = [];
  while (queue.size > 0) {
    void queue.pop().then((e) => out.push(e!.pod.name));
  }
  return out;
}

/** Lets pending promise callbacks run; a pending pop stays pending. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function watch<T>(promise: Promise<T>): { settled: () => boolean; value: () => T | undefined; error: () => unknown } {
  let settled = false;
  let value: T | undefined;
  let error: unknown;
  promise.then(
    (v) => {
      settled = true;
      value = v;
    },
    (e: unknown) => {
      settled = true;
      error = e;
    },
  );
  return { settled: () => settled, value: () => value, error: () => error };
}

test.each<[string, [string, number, number][], string[]]>([
  ['higher priority first', [['low', 1, 0], ['high', 9, 5], ['mid', 5, 1]], ['high', 'mid', 'low']],
  ['equal priority: the earlier timestamp first', [['late', 5, 20], ['early', 5, 10]], ['early', 'late']],
  ['equal priority and timestamp: first added, first out', [['b', 5, 10], ['a', 5, 10], ['c', 5, 10]], ['b', 'a', 'c']],
  ['negative priorities sort below zero', [['neg', -10, 0], ['zero', 0, 9]], ['zero', 'neg']],
])('ordering: %s', async (_name, pods, want) => {
  const queue = new ActiveQueue({ less: prioritySort });
  for (const [name, priority, ts] of pods) queue.add(entry(name, priority, ts));
  const order = drain(queue);
  await settle();
  expect(order).toEqual(want);
});

test.each<[string, number, string[]]>([
  ['raised above the others', 10, ['a', 'b', 'c']],
  ['lowered below the others', 0, ['b', 'c', 'a']],
  ['unchanged', 5, ['b', 'a', 'c']],
])('a priority change through update: %s', async (_name, newPriority, want) => {
  const queue = new ActiveQueue({ less: prioritySort });
  queue.add(entry('a', 5, 2));
  queue.add(entry('b', 5, 1));
  queue.add(entry('c', 3, 0));
  const a = queue.get('uid-a')!;
  expect(queue.update({ ...a, pod: { ...a.pod, priority: newPriority } })).toBe(true);
  const order = drain(queue);
  await settle();
  expect(order).toEqual(want);
});

test('update of a pod that is not queued adds nothing', () => {
  const queue = new ActiveQueue({ less: prioritySort });
  expect(queue.update(entry('ghost'))).toBe(false);
  expect(queue.size).toBe(0);
});

test('delete by uid', async () => {
  const queue = new ActiveQueue({ less: prioritySort });
  queue.add(entry('a', 3));
  queue.add(entry('b', 2));
  queue.add(entry('c', 1));
  expect(queue.delete('uid-b')?.pod.name).toBe('b');
  expect(queue.delete('uid-b')).toBeUndefined();
  expect(queue.has('uid-b')).toBe(false);
  const order = drain(queue);
  await settle();
  expect(order).toEqual(['a', 'c']);
});

test('pop waits for a pod, then gets the head as soon as one is added', async () => {
  const queue = new ActiveQueue({ less: prioritySort });
  const pop = watch(queue.pop());
  await settle();
  expect(pop.settled()).toBe(false);
  queue.add(entry('a'));
  await settle();
  expect(pop.value()?.pod.name).toBe('a');
  expect(queue.size).toBe(0);
});

test('waiting pops are served first come, first served', async () => {
  const queue = new ActiveQueue({ less: prioritySort });
  const first = watch(queue.pop());
  const second = watch(queue.pop());
  queue.add(entry('x'));
  queue.add(entry('y'));
  await settle();
  expect([first.value()?.pod.name, second.value()?.pod.name]).toEqual(['x', 'y']);
});

test.each<[string, unknown, (e: unknown) => void]>([
  ['the default reason', undefined, (e) => expect((e as Error).name).toBe('AbortError')],
  ['the caller’s reason', new Error('shutting down'), (e) => expect((e as Error).message).toBe('shutting down')],
])('an aborted pop rejects with %s and takes nothing later', async (_name, reason, check) => {
  const queue = new ActiveQueue({ less: prioritySort });
  const controller = new AbortController();
  const pop = watch(queue.pop(controller.signal));
  controller.abort(reason);
  await settle();
  expect(pop.settled()).toBe(true);
  check(pop.error());
  queue.add(entry('a'));
  await settle();
  expect(queue.size).toBe(1);
});

test('a pop with an already aborted signal rejects and leaves the head in place', async () => {
  const queue = new ActiveQueue({ less: prioritySort });
  queue.add(entry('a'));
  await expect(queue.pop(AbortSignal.abort())).rejects.toHaveProperty('name', 'AbortError');
  expect(queue.size).toBe(1);
});

test('a served pop stops listening to its signal', async () => {
  const queue = new ActiveQueue({ less: prioritySort });
  const controller = new AbortController();
  const remove = jest.spyOn(controller.signal, 'removeEventListener');
  const pop = queue.pop(controller.signal);
  queue.add(entry('a'));
  await expect(pop).resolves.toHaveProperty('pod.name', 'a');
  expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
  controller.abort();
});

test('close resolves waiting and later pops with undefined, keeps the entries, and is idempotent', async () => {
  const queue = new ActiveQueue({ less: prioritySort });
  const waiting = watch(queue.pop());
  queue.close();
  await settle();
  expect(waiting.settled()).toBe(true);
  expect(waiting.value()).toBeUndefined();
  queue.add(entry('a'));
  await expect(queue.pop()).resolves.toBeUndefined();
  expect(queue.closed).toBe(true);
  expect(queue.list().map((e) => e.pod.name)).toEqual(['a']);
  queue.close();
  expect(queue.closed).toBe(true);
});

test('onPop runs synchronously as a waiting pop is served, and pop resolves with its result', async () => {
  const seen: string[] = [];
  const queue = new ActiveQueue({
    less: prioritySort,
    onPop: (e) => {
      seen.push(e.pod.name);
      return { ...e, attempts: e.attempts + 1 };
    },
  });
  const pop = queue.pop();
  queue.add(entry('a'));
  expect(seen).toEqual(['a']); // before any await: nothing can fall between the pop and the hook
  await expect(pop).resolves.toHaveProperty('attempts', 1);
});
