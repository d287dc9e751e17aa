import { describe, expect, test } from '@jest/globals';
import { extenderConfigSchema } from './config.js';

const base = { filterscore: { address: '127.0.0.1:1' } };

describe('extenderConfigSchema', () => {
  test('defaults: a node wait well under the verb deadline', () => {
    const config = extenderConfigSchema.parse(base);
    expect(config.extender).toMatchObject({ nodeWait: 1_000, verbTimeout: 4_000, port: 8888 });
  });

  test.each([
    ['as long as the verb deadline', { nodeWait: '4s' }],
    ['longer than a shortened deadline', { nodeWait: '2s', verbTimeout: '1s' }],
  ])('a node wait %s is refused, naming the field', (_, extender) => {
    const parsed = extenderConfigSchema.safeParse({ ...base, extender });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['extender.nodeWait', 'must be shorter than extender.verbTimeout']]);
  });
});
