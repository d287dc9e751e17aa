import { describe, expect, test } from '@jest/globals';
import { BindCalls } from './bind.js';

describe('BindCalls: which bind calls of a pod may share its lease', () => {
  test('a lone call is not concurrent, and leaves nothing behind', () => {
    const calls = new BindCalls();
    const one = calls.begin('uid-a');
    expect(one.concurrent()).toBe(false);
    one.end();
    expect(calls.size).toBe(0);
  });

  test("a retry while the first runs makes both concurrent; the first stays so after the retry ended (its failure may have released the lease)", () => {
    const calls = new BindCalls();
    const first = calls.begin('uid-a');
    const retry = calls.begin('uid-a');
    expect(first.concurrent()).toBe(true);
    expect(retry.concurrent()).toBe(true);
    retry.end();
    expect(first.concurrent()).toBe(true);
    first.end();
    expect(calls.size).toBe(0);
  });

  test('a retry that starts after the first ended, and another pod, are not concurrent; end is idempotent', () => {
    const calls = new BindCalls();
    const first = calls.begin('uid-a');
    const other = calls.begin('uid-b');
    expect(other.concurrent()).toBe(false);
    first.end();
    first.end();
    const later = calls.begin('uid-a');
    expect(later.concurrent()).toBe(false);
    expect(calls.size).toBe(2);
    later.end();
    other.end();
    expect(calls.size).toBe(0);
  });
});
