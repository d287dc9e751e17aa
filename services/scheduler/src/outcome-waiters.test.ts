import { describe, expect, test } from '@jest/globals';
import { Status } from '@schedmesh/framework';
import type { AttemptResult } from '@schedmesh/mesh';
import { makePod } from '@schedmesh/testkit';
import { OutcomeWaiters } from './outcome-waiters.js';

const result = { outcome: 'scheduled', status: Status.SUCCESS, nodeName: 'n1' } as unknown as AttemptResult;

describe('OutcomeWaiters', () => {
  test('every caller waiting for the pod gets its next outcome; other pods are not touched', async () => {
    const waiters = new OutcomeWaiters();
    const signal = new AbortController().signal;
    const a = waiters.wait('uid-a', signal);
    const b = waiters.wait('uid-a', signal);
    const other = waiters.wait('uid-b', signal);
    waiters.resolve('uid-a', { kind: 'attempt', result });
    await expect(a).resolves.toEqual({ kind: 'attempt', result });
    await expect(b).resolves.toEqual({ kind: 'attempt', result });
    expect(waiters.size).toBe(1);
    const bound = makePod('b').uid('uid-b').on('n2').build();
    waiters.resolve('uid-b', { kind: 'settled', pod: bound });
    await expect(other).resolves.toEqual({ kind: 'settled', pod: bound });
    expect(waiters.size).toBe(0);
  });

  test('an aborted wait rejects with the reason and leaves nothing behind; a later outcome goes nowhere', async () => {
    const waiters = new OutcomeWaiters();
    const ctl = new AbortController();
    const waiting = waiters.wait('uid-a', ctl.signal);
    ctl.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    expect(waiters.size).toBe(0);
    waiters.resolve('uid-a', { kind: 'attempt', result });
    await expect(waiters.wait('uid-a', ctl.signal)).rejects.toThrow('deadline');
  });
});
