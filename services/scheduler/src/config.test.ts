// The scheduler's bounds that fill with churn (the attempt records, their
// explanations, the settled uids) are configuration: the defaults the README
// states, set from SCHEDMESH_* variables, and a bad value names its key.
import { expect, test } from '@jest/globals';
import { loadConfig } from '@schedmesh/runtime';

import { schedulerConfigSchema } from './config.js';

test('the bounds default to 50,000 records, 10,000 explanations and 100,000 settled uids', () => {
  const { scheduler } = loadConfig(schedulerConfigSchema, { env: { SCHEDMESH_FILTERSCORE__ADDRESS: '127.0.0.1:1' } });
  expect({ records: scheduler.records, settledMemory: scheduler.settledMemory }).toEqual({ records: { capacity: 50_000, explained: 10_000 }, settledMemory: 100_000 });
});

test('the bounds are read from SCHEDMESH_* variables', () => {
  const { scheduler } = loadConfig(schedulerConfigSchema, {
    env: {
      SCHEDMESH_FILTERSCORE__ADDRESS: '127.0.0.1:1',
      SCHEDMESH_SCHEDULER__RECORDS__CAPACITY: '500',
      SCHEDMESH_SCHEDULER__RECORDS__EXPLAINED: '0',
      SCHEDMESH_SCHEDULER__SETTLED_MEMORY: '700',
    },
  });
  expect({ records: scheduler.records, settledMemory: scheduler.settledMemory }).toEqual({ records: { capacity: 500, explained: 0 }, settledMemory: 700 });
});

test.each([
  ['SCHEDMESH_SCHEDULER__RECORDS__CAPACITY', '0', /scheduler\.records\.capacity/],
  ['SCHEDMESH_SCHEDULER__RECORDS__EXPLAINED', '-1', /scheduler\.records\.explained/],
  ['SCHEDMESH_SCHEDULER__RECORDS__EXPLAINED', '60000', /scheduler\.records\.explained: explained must not exceed capacity/],
  ['SCHEDMESH_SCHEDULER__SETTLED_MEMORY', 'lots', /scheduler\.settledMemory/],
])('%s=%s is refused, naming the key', (variable, value, message) => {
  expect(() => loadConfig(schedulerConfigSchema, { env: { SCHEDMESH_FILTERSCORE__ADDRESS: '127.0.0.1:1', [variable]: value } })).toThrow(message);
});
