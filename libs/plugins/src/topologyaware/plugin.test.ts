// TopologyAware is schedmesh's own plugin: no upstream test to mirror. Rows cover
// the preference sources, the weights and the normalization.
import { expect, test } from '@jest/globals';
import { PluginNames } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { inTreeRegistry } from '../registry.js';
import { node, pod, preScoreSkips, scoreEach, singlePluginFramework } from '../testing/index.js';
import type { PodBuilder } from '../testing/index.js';
import { PREFERRED_RACK_KEY, PREFERRED_ZONE_KEY } from './args.js';

const ZONE = 'topology.kubernetes.io/zone';
const RACK = 'schedmesh.io/rack';
const nodes = () => [
  node('a1-r1').label(ZONE, 'a').label(RACK, 'r1').build(),
  node('a1-r2').label(ZONE, 'a').label(RACK, 'r2').build(),
  node('b1-r1').label(ZONE, 'b').label(RACK, 'r1').build(),
  node('none').build(),
];

test.each<[string, PodBuilder, number[], unknown]>([
  ['zone preference from an annotation', pod('p').annotation(PREFERRED_ZONE_KEY, 'a'), [100, 100, 0, 0], undefined],
  ['zone preference from a label', pod('p').label(PREFERRED_ZONE_KEY, 'b'), [0, 0, 100, 0], undefined],
  ['the annotation wins over the label', pod('p').label(PREFERRED_ZONE_KEY, 'b').annotation(PREFERRED_ZONE_KEY, 'a'), [100, 100, 0, 0], undefined],
  ['rack preference only', pod('p').annotation(PREFERRED_RACK_KEY, 'r1'), [100, 0, 100, 0], undefined],
  // zone 2 + rack 1 out of 3
  ['zone and rack, default weights 2:1', pod('p').annotation(PREFERRED_ZONE_KEY, 'a').annotation(PREFERRED_RACK_KEY, 'r1'), [100, 66, 33, 0], undefined],
  ['zone and rack, custom weights 1:3', pod('p').annotation(PREFERRED_ZONE_KEY, 'a').annotation(PREFERRED_RACK_KEY, 'r1'), [100, 25, 75, 0], { zoneWeight: 1, rackWeight: 3 }],
  ['custom labels', pod('p').annotation(PREFERRED_ZONE_KEY, 'r2'), [0, 100, 0, 0], { zoneLabel: RACK }],
])('%s', async (_name, p, want, args) => {
  const fwk = singlePluginFramework(PluginNames.TopologyAware, snapshotOf(nodes()), args);
  expect((await scoreEach(fwk, p.build(), ['a1-r1', 'a1-r2', 'b1-r1', 'none'])).map((s) => s.score)).toEqual(want);
});

test('a pod without a preference skips the plugin', async () => {
  const fwk = singlePluginFramework(PluginNames.TopologyAware, snapshotOf(nodes()));
  expect(await preScoreSkips(fwk, pod('p').build())).toBe(true);
  expect(await preScoreSkips(fwk, pod('p').annotation(PREFERRED_ZONE_KEY, '').build())).toBe(true);
});

test('both weights 0 is an invalid config', () => {
  const issues = inTreeRegistry().get(PluginNames.TopologyAware)?.validateArgs({ zoneWeight: 0, rackWeight: 0 }) ?? [];
  expect(issues.map((i) => i.path.join('.'))).toEqual(['zoneWeight']);
});
