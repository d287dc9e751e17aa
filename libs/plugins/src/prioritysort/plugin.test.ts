// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/queuesort/priority_sort_test.go (TestLess).
import { expect, test } from '@jest/globals';
import { PluginNames } from '@schedmesh/framework';
import type { QueueSortPlugin } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { pod, singlePluginFramework } from '../testing/index.js';

const lowPriority = 10;
const highPriority = 20;
const t1 = 1_000;
const t2 = 2_000;

test.each<[string, number, number, number, number, boolean]>([
  ['p1.priority less than p2.priority', lowPriority, t1, highPriority, t2, false],
  ['p1.priority greater than p2.priority', highPriority, t1, lowPriority, t2, true],
  ['equal priority. p1 is added to schedulingQ earlier than p2', highPriority, t1, highPriority, t2, true],
  ['equal priority. p2 is added to schedulingQ earlier than p1', highPriority, t2, highPriority, t1, false],
])('%s', (_name, p1, ts1, p2, ts2, want) => {
  const fwk = singlePluginFramework(PluginNames.PrioritySort, snapshotOf([]));
  const sorter = fwk.queueSortPlugin as QueueSortPlugin;
  expect(sorter.less({ pod: pod('a').priority(p1).build(), timestamp: ts1, attempts: 0 }, { pod: pod('b').priority(p2).build(), timestamp: ts2, attempts: 0 })).toBe(want);
});
