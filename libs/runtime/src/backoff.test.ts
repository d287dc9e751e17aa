import { expect, test } from '@jest/globals';
import { Backoff, sleep } from './backoff.js';

test('Backoff doubles up to its maximum and starts again after reset', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 350 });
  expect([b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 350, 350]);
  b.reset();
  expect(b.next()).toBe(100);
});

test('sleep ends early, without rejecting, when its signal aborts', async () => {
  const ac = new AbortController();
  const started = Date.now();
  const sleeping = sleep(ac.signal, 60_000);
  ac.abort();
  await expect(sleeping).resolves.toBeUndefined();
  expect(Date.now() - started).toBeLessThan(1_000);
  await expect(sleep(new AbortController().signal, 5)).resolves.toBeUndefined();
});
