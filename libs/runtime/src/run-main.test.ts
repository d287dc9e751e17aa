import { describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { runMain } from './run-main.js';
import type { RunMainOptions } from './run-main.js';

const schema = z.object({ source: z.object({ fixture: z.string().min(1).optional() }).strict().prefault({}), port: z.number().int().default(1) }).strict();

/** Runs a main with captured output; resolves with what it started and how it ended. */
async function run(start: (config: z.output<typeof schema>) => Promise<unknown>, options: Partial<RunMainOptions> = {}) {
  let stderr = '';
  let code: number | undefined;
  await runMain('schedmesh-test', schema, start, {
    argv: [],
    sources: { env: {} },
    stderr: { write: (text: string) => (stderr += text) },
    exit: (c) => (code = c),
    ...options,
  });
  return { stderr, code };
}

describe('runMain', () => {
  test('loads the configuration and starts the service', async () => {
    const started: unknown[] = [];
    const result = await run(async (config) => started.push(config), { sources: { env: { SCHEDMESH_PORT: '9' } } });
    expect(started).toEqual([{ source: {}, port: 9 }]);
    expect(result).toEqual({ stderr: '', code: undefined });
  });

  test.each([
    [['--fixture', 'a.yaml']],
    [['--fixture=a.yaml']],
  ])('a flag sets its configuration key: %j', async (argv) => {
    const started: unknown[] = [];
    await run(async (config) => started.push(config.source.fixture), { argv, flags: { fixture: 'source.fixture' }, sources: { env: { SCHEDMESH_SOURCE__FIXTURE: 'env.yaml' } } });
    expect(started).toEqual(['a.yaml']);
  });

  test.each([
    ['an invalid key', { sources: { env: { SCHEDMESH_PORT: 'x' } } }, /^schedmesh-test: invalid configuration:\n {2}- port: .*\(from SCHEDMESH_PORT\)\n$/],
    ['an unknown argument', { argv: ['--bogus'], flags: { fixture: 'source.fixture' } }, /unknown argument "--bogus"; accepted: --fixture VALUE/],
    ['a flag without its value', { argv: ['--fixture'], flags: { fixture: 'source.fixture' } }, /--fixture: expected a value/],
  ])('%s prints the configuration error alone and exits 1', async (_, options, message) => {
    let started = false;
    const result = await run(async () => (started = true), options);
    expect(started).toBe(false);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('any other failure prints its stack and exits 1', async () => {
    const result = await run(async () => {
      throw new TypeError('listen EADDRINUSE');
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^schedmesh-test: TypeError: listen EADDRINUSE\n\s+at /);
  });
});
