import { describe, expect, test } from '@jest/globals';
import { extenderConfigSchema } from './config.js';

const base = { filterscore: { address: '127.0.0.1:1' } };

describe('extenderConfigSchema', () => {
  test('defaults: a node wait well under the verb deadline', () => {
    const config = extenderConfigSchema.parse(base);
    expect(config.extender).toMatchObject({ nodeWait: 1_000, verbTimeout: 4_000, port: 8888, maxFeasibleNodes: 0 });
  });

  test.each([-1, 1.5, 'ten'])('maxFeasibleNodes %p is refused, naming the field', (maxFeasibleNodes) => {
    const parsed = extenderConfigSchema.safeParse({ ...base, extender: { maxFeasibleNodes } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['extender.maxFeasibleNodes']);
  });

  test.each([
    ['as long as the verb deadline', { nodeWait: '4s' }],
    ['longer than a shortened deadline', { nodeWait: '2s', verbTimeout: '1s' }],
  ])('a node wait %s is refused, naming the field', (_, extender) => {
    const parsed = extenderConfigSchema.safeParse({ ...base, extender });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['extender.nodeWait', 'must be shorter than extender.verbTimeout']]);
  });

  test("the reservation batch: Confirm's own window, by default longer than Reserve's; more than 50ms is refused, naming the field", () => {
    const reservation = { address: '127.0.0.1:2' };
    expect(extenderConfigSchema.parse({ ...base, reservation }).reservation?.batch).toEqual({ maxPods: 32, window: 1, confirmWindow: 10 });
    expect(extenderConfigSchema.parse({ ...base, reservation: { ...reservation, batch: { confirmWindow: '25ms' } } }).reservation?.batch?.confirmWindow).toBe(25);
    const parsed = extenderConfigSchema.safeParse({ ...base, reservation: { ...reservation, batch: { confirmWindow: '1s' } } });
    expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['reservation.batch.confirmWindow', 'must be at most 50ms: every pod of a batch waits for it']]);
  });
});
