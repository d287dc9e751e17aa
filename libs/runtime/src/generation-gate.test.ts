import { describe, expect, test } from '@jest/globals';
import { DeadlineExceededError, UnavailableError } from './errors.js';
import { GenerationGate } from './generation-gate.js';

const open = (): AbortSignal => new AbortController().signal;

describe('GenerationGate', () => {
  test('a wait resolves when its generation is applied; a reached one at once', async () => {
    const gate = new GenerationGate({ name: 'the store' });
    gate.advance(2);
    expect(await gate.waitFor(1, open())).toBe(2);
    const waiting = gate.waitFor(4, open());
    gate.advance(3);
    expect(gate.waiting).toBe(1);
    gate.advance(5);
    expect(await waiting).toBe(5);
    expect(gate.waiting).toBe(0);
  });

  test('the generation only moves forward, except by rewind or reset', () => {
    const gate = new GenerationGate({ name: 'the store' });
    gate.advance(7);
    gate.advance(3);
    expect(gate.generation).toBe(7);
    gate.rewind(3);
    expect(gate.generation).toBe(3);
    gate.reset();
    expect(gate.generation).toBe(0);
  });

  test.each([
    ['the caller aborts', (ac: AbortController) => setTimeout(() => ac.abort(), 20), {}, /^the store is at generation 1; generation 9 was not reached before the deadline$/],
    ['the server-side limit passes', () => undefined, { maxWaitMs: 30 }, /^the store is at generation 1; generation 9 was not reached within the server's limit of 30 ms$/],
  ])('a wait fails DEADLINE_EXCEEDED naming both generations when %s', async (_, abortSoon, options, message) => {
    const gate = new GenerationGate({ name: 'the store', maxWaitMs: 5_000 });
    gate.advance(1);
    const ac = new AbortController();
    const started = Date.now();
    const waiting = gate.waitFor(9, ac.signal, options);
    abortSoon(ac);
    const err = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect((err as Error).message).toMatch(message);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(gate.waiting).toBe(0);
  });

  test('the gate-wide limit bounds a caller without a deadline', async () => {
    const gate = new GenerationGate({ name: 'the store', maxWaitMs: 25 });
    await expect(gate.waitFor(1, open())).rejects.toThrow("within the server's limit of 25 ms");
  });

  test('an already aborted signal fails at once', async () => {
    const gate = new GenerationGate({ name: 'the store' });
    await expect(gate.waitFor(1, AbortSignal.abort())).rejects.toBeInstanceOf(DeadlineExceededError);
  });

  test('waits survive a reset and are released by the new numbering (bounded by their limit)', async () => {
    const gate = new GenerationGate({ name: 'the store' });
    gate.advance(10);
    const waiting = gate.waitFor(12, open());
    gate.reset();
    gate.advance(12);
    expect(await waiting).toBe(12);
  });

  test('sync changes reach listeners once each; requireSynced names the state and the source', () => {
    const gate = new GenerationGate({ name: 'the store', source: 'the snapshot service' });
    const seen: boolean[] = [];
    const off = gate.onSyncChange((s) => seen.push(s));
    expect(() => gate.requireSynced()).toThrow(new UnavailableError('the store is not in sync with the snapshot service; retry shortly'));
    expect(() => gate.requireSynced('the ledger')).toThrow('the ledger is not in sync');
    gate.setSynced(true);
    gate.setSynced(true);
    gate.requireSynced();
    gate.reset();
    off();
    gate.setSynced(true);
    expect(seen).toEqual([true, false]);
    expect(gate.synced).toBe(true);
  });
});
