import { expect, test } from '@jest/globals';
import { createMetricsRegistry, gauge } from './metrics.js';

test('gauge: read at each scrape, not set on the hot path', async () => {
  const registry = createMetricsRegistry('gauge-test');
  let generation = 3;
  gauge(registry, 'schedmesh_test_generation', 'A generation.', () => generation);
  expect(await registry.getSingleMetricAsString('schedmesh_test_generation')).toMatch(/^schedmesh_test_generation\{service="gauge-test"\} 3$/m);
  generation = 7;
  expect(await registry.getSingleMetricAsString('schedmesh_test_generation')).toMatch(/ 7$/m);
});
