import { describe, expect, test } from '@jest/globals';
import { KubeApiError } from '@schedmesh/mesh';
import type { Pod } from '@schedmesh/proto/v1/types';
import { createLogger } from '@schedmesh/runtime';
import { makePod, pollUntil } from '@schedmesh/testkit';
import { OutcomeWrites } from './outcome-writes.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const pod: Pod = makePod('p').build();
const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
/** Short delays; every wait below is on a condition. */
const fast = { logger, initialBackoffMs: 5, maxBackoffMs: 20 };
const settled = (w: OutcomeWrites): Promise<true> => pollUntil(async () => (w.pending === 0 ? true : undefined), { what: 'every outcome written or given up', timeoutMs: 10_000, intervalMs: 5 });

describe('OutcomeWrites', () => {
  test('a write that fails while the API server is away is retried until it lands', async () => {
    const w = new OutcomeWrites(fast);
    let tries = 0;
    w.submit(pod, 'FailedScheduling', async () => {
      if (++tries < 4) throw refused();
    });
    await settled(w);
    expect(tries).toBe(4);
    await w.close();
  });

  test('the latest outcome of a pod wins: a newer one replaces the one waiting for its retry, and the old one is not written after it', async () => {
    const w = new OutcomeWrites(fast);
    const written: string[] = [];
    let apiUp = false;
    let failedOnce!: () => void;
    const failed = new Promise<void>((r) => (failedOnce = r));
    const write = (what: string) => async (): Promise<void> => {
      if (!apiUp) {
        failedOnce();
        throw refused();
      }
      written.push(what);
    };
    w.submit(pod, 'FailedScheduling', write('FailedScheduling'));
    await failed;
    w.submit(pod, 'Scheduled', write('Scheduled'));
    apiUp = true;
    await settled(w);
    expect(written).toEqual(['Scheduled']);
    await w.close();
  });

  test('outcomes of different pods do not replace each other', async () => {
    const w = new OutcomeWrites(fast);
    const written: string[] = [];
    for (const name of ['a', 'b', 'c']) w.submit(makePod(name).build(), name, async () => void written.push(name));
    await settled(w);
    expect(written.sort()).toEqual(['a', 'b', 'c']);
    await w.close();
  });

  test.each([
    ['the pod is gone (404)', 404, 1],
    ['the write is invalid (422)', 422, 1],
    ['the API server is overloaded (429): retried', 429, 3],
    ['the API server fails (503): retried', 503, 3],
  ])('%s', async (_, status, expectedTries) => {
    const w = new OutcomeWrites({ ...fast, maxTries: 3 });
    let tries = 0;
    w.submit(pod, 'FailedScheduling', async () => {
      tries++;
      throw new KubeApiError('PATCH', '/api/v1/namespaces/default/pods/p/status', status, 'Reason', 'refused');
    });
    await settled(w);
    expect(tries).toBe(expectedTries);
    await w.close();
  });

  test('retries are bounded: after maxTries the outcome is given up', async () => {
    const w = new OutcomeWrites({ ...fast, maxTries: 5 });
    let tries = 0;
    w.submit(pod, 'FailedScheduling', async () => {
      tries++;
      throw refused();
    });
    await settled(w);
    expect(tries).toBe(5);
    await w.close();
  });

  test('close() stops the retries and takes no new outcome', async () => {
    const w = new OutcomeWrites({ logger, initialBackoffMs: 60_000, maxBackoffMs: 60_000 });
    let tries = 0;
    let failedOnce!: () => void;
    const failed = new Promise<void>((r) => (failedOnce = r));
    w.submit(pod, 'FailedScheduling', async () => {
      tries++;
      failedOnce();
      throw refused();
    });
    await failed;
    // The loop now waits a minute for its next try: close() ends that wait (one last try, then it stops).
    await w.close();
    const after = tries;
    w.submit(pod, 'Scheduled', async () => void tries++);
    expect(after).toBeLessThanOrEqual(2);
    expect(tries).toBe(after);
  });
});
