import { getEventListeners } from 'node:events';

import { describe, expect, test } from '@jest/globals';
import { ClusterEvent } from '@schedmesh/proto/v1/types';
import { WatchHub, WatcherOverflowError } from './watch-hub.js';

describe('WatchHub subscriptions', () => {
  test('a long watch leaves no abort listener behind on its signal after each wait', async () => {
    const hub = new WatchHub(100, 100);
    const sub = hub.subscribe();
    const stream = new AbortController();
    for (let generation = 1; generation <= 50; generation++) {
      const batch = sub.next(10, stream.signal);
      hub.publish(ClusterEvent.fromPartial({ generation }));
      expect((await batch).map((e) => e.generation)).toEqual([generation]);
    }
    expect(getEventListeners(stream.signal, 'abort')).toHaveLength(0);
    sub.close();
  });

  test('an abort still ends a waiting next with no events', async () => {
    const hub = new WatchHub(100, 100);
    const sub = hub.subscribe();
    const stream = new AbortController();
    const batch = sub.next(10, stream.signal);
    stream.abort();
    await expect(batch).resolves.toEqual([]);
    sub.close();
  });
});

describe('WatchHub byte budget', () => {
  const small = (generation: number): ClusterEvent =>
    ClusterEvent.fromPartial({ generation, object: { $case: 'namespace', value: { name: `ns-${generation}` } } });
  const large = (generation: number): ClusterEvent =>
    ClusterEvent.fromPartial({ generation, object: { $case: 'namespace', value: { name: 'big', labels: { blob: 'x'.repeat(64 * 1024) } } } });
  const size = (event: ClusterEvent): number => ClusterEvent.encode(event).finish().byteLength;

  test('a watcher that does not read keeps many small events within its budget', async () => {
    const budget = 100 * size(small(1000));
    const hub = new WatchHub(0, budget);
    const sub = hub.subscribe();
    for (let generation = 1; generation <= 90; generation++) hub.publish(small(generation));
    const events = await sub.next(1000, new AbortController().signal);
    expect(events.map((e) => e.generation)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
    sub.close();
  });

  test('few events over the budget in bytes cut the watcher off, to resume after the last it was sent', async () => {
    const hub = new WatchHub(0, 2 * size(large(1)) + 100);
    const sub = hub.subscribe();
    const signal = new AbortController().signal;
    hub.publish(small(1));
    expect((await sub.next(10, signal)).map((e) => e.generation)).toEqual([1]);
    hub.publish(large(2));
    hub.publish(large(3));
    expect(hub.watchers).toBe(1);
    hub.publish(large(4));
    expect(hub.watchers).toBe(0);
    const cut = sub.next(10, signal);
    await expect(cut).rejects.toThrow(WatcherOverflowError);
    await expect(cut).rejects.toMatchObject({ generation: 1 });
  });

  test('what a watcher reads is given back to its budget', async () => {
    const hub = new WatchHub(0, 2 * size(large(1)) + 100);
    const sub = hub.subscribe();
    const signal = new AbortController().signal;
    for (let generation = 1; generation <= 20; generation++) {
      hub.publish(large(generation));
      expect((await sub.next(10, signal)).map((e) => e.generation)).toEqual([generation]);
    }
    expect(hub.watchers).toBe(1);
    sub.close();
  });
});
