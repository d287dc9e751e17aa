import { getEventListeners } from 'node:events';

import { describe, expect, test } from '@jest/globals';
import { ClusterEvent } from '@schedmesh/proto/v1/types';
import { WatchHub } from './watch-hub.js';

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
