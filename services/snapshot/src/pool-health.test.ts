import { expect, test } from '@jest/globals';
import type { Node } from '@schedmesh/proto/v1/types';
import { makeNode } from '@schedmesh/testkit';
import { aggregate, PoolHealthReconciler } from './pool-health.js';

test('health per pool and zone counts ready, schedulable nodes', () => {
  const nodes = [
    makeNode('a1').pool('gpu').zone('a').build(),
    makeNode('a2').pool('gpu').zone('a').notReady().build(),
    makeNode('b1').pool('gpu').zone('b').cordoned().build(),
    makeNode('c1').pool('cpu').zone('a').build(),
    makeNode('x').build(),
  ];
  expect(aggregate(nodes, 0.5)).toEqual([
    { pool: '', totalNodes: 1, healthyNodes: 1, healthy: true, zones: [{ zone: '', totalNodes: 1, healthyNodes: 1 }] },
    { pool: 'cpu', totalNodes: 1, healthyNodes: 1, healthy: true, zones: [{ zone: 'a', totalNodes: 1, healthyNodes: 1 }] },
    {
      pool: 'gpu',
      totalNodes: 3,
      healthyNodes: 1,
      healthy: false,
      zones: [
        { zone: 'a', totalNodes: 2, healthyNodes: 1 },
        { zone: 'b', totalNodes: 1, healthyNodes: 0 },
      ],
    },
  ]);
});

test('a burst of node changes yields one recomputation after the debounce', async () => {
  let nodes: Node[] = [];
  const reconciler = new PoolHealthReconciler({ debounceMs: 50, healthyThreshold: 0.8, source: () => ({ generation: nodes.length, nodes }) });
  for (let i = 0; i < 200; i++) {
    nodes = [...nodes, makeNode(`n${i}`).pool('p').build()];
    reconciler.markDirty();
  }
  expect(reconciler.recomputeCount).toBe(0);
  await new Promise((r) => setTimeout(r, 120));
  expect(reconciler.recomputeCount).toBe(1);
  expect(reconciler.report.pools[0]).toMatchObject({ pool: 'p', totalNodes: 200, healthyNodes: 200, healthy: true });
  expect(reconciler.report.generation).toBe(200);
});

test('a steady stream of changes still recomputes within the maximum delay', async () => {
  const reconciler = new PoolHealthReconciler({ debounceMs: 30, maxDelayMs: 100, healthyThreshold: 0.8, source: () => ({ generation: 0, nodes: [] }) });
  const started = Date.now();
  while (reconciler.recomputeCount === 0 && Date.now() - started < 1000) {
    reconciler.markDirty();
    await new Promise((r) => setTimeout(r, 10));
  }
  reconciler.stop();
  expect(reconciler.recomputeCount).toBe(1);
  expect(Date.now() - started).toBeLessThan(400);
});
