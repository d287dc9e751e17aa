// --extender-max-feasible: parsed and checked like every count flag, and the
// variable the benchmark sets on the extender's process reaches its key as the
// process loads its configuration.
import { expect, test } from '@jest/globals';
import { extenderConfigSchema } from '@schedmesh/extender-service';
import { loadConfig } from '@schedmesh/runtime';
import { BenchOptionError, parseOptions } from '../../bench/scheduling/options.js';

test('--extender-max-feasible defaults to 0 (every feasible node, as deployed) and takes a count', () => {
  expect(parseOptions([]).extenderMaxFeasible).toBe(0);
  expect(parseOptions(['--extender-max-feasible', '25']).extenderMaxFeasible).toBe(25);
});

test.each(['-1', '2.5', 'all'])('--extender-max-feasible %s is refused, naming the flag', (value) => {
  expect(() => parseOptions([`--extender-max-feasible=${value}`])).toThrow(BenchOptionError);
  expect(() => parseOptions([`--extender-max-feasible=${value}`])).toThrow(/--extender-max-feasible must be an integer ≥ 0/);
});

test("the extender's variable sets extender.maxFeasibleNodes", () => {
  const env = { SCHEDMESH_FILTERSCORE__ADDRESS: '127.0.0.1:1', SCHEDMESH_EXTENDER__MAX_FEASIBLE_NODES: '25' };
  expect(loadConfig(extenderConfigSchema, { env }).extender.maxFeasibleNodes).toBe(25);
});
