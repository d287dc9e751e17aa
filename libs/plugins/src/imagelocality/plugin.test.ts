// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/imagelocality/image_locality_test.go
// (TestImageLocalityPriority, TestNormalizedImageName), current version (max threshold per container).
import { expect, test } from '@jest/globals';
import { PluginNames } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { node, pod, scoreEach, singlePluginFramework } from '../testing/index.js';
import type { NodeBuilder, PodBuilder } from '../testing/index.js';
import { normalizedImageName } from './plugin.js';

const MB = 1024 * 1024;
const node403002000 = (name: string) =>
  node(name).image(40 * MB, 'gcr.io/40:latest', 'gcr.io/40:v1', 'gcr.io/40:v1').image(300 * MB, 'gcr.io/300:latest', 'gcr.io/300:v1').image(2000 * MB, 'gcr.io/2000:latest');
const node25010 = (name: string) => node(name).image(250 * MB, 'gcr.io/250:latest').image(10 * MB, 'gcr.io/10:latest', 'gcr.io/10:v1');
const node400030 = (name: string) => node(name).image(4000 * MB, 'gcr.io/4000:latest').image(30 * MB, 'gcr.io/30:latest');
const node203040 = (name: string) => node(name).image(20 * MB, 'gcr.io/20:latest').image(30 * MB, 'gcr.io/30:latest').image(40 * MB, 'gcr.io/40:latest');

test.each<[string, PodBuilder, NodeBuilder[], number[]]>([
  ['two images spread on two nodes, prefer the larger image one', pod('p').image('gcr.io/40', 'gcr.io/250'), [node403002000('node1'), node25010('node2')], [0, 5]],
  ['two images on one node, prefer this node', pod('p').image('gcr.io/40', 'gcr.io/300'), [node403002000('node1'), node25010('node2')], [7, 0]],
  ['if exceed limit, use limit', pod('p').image('gcr.io/10', 'gcr.io/4000'), [node400030('node1'), node25010('node2')], [100, 0]],
  ['if exceed limit, use limit (with node which has no images present)', pod('p').image('gcr.io/10', 'gcr.io/4000'), [node400030('node1'), node25010('node2'), node('node3')], [66, 0, 0]],
  ['pod with multiple small images', pod('p').image('gcr.io/30', 'gcr.io/40'), [node203040('node1'), node400030('node2')], [1, 0]],
  ['include InitContainers: two images spread on two nodes, prefer the larger image one', pod('p').image('gcr.io/30', 'gcr.io/300'), [node403002000('node1'), node203040('node2')], [6, 0]],
])('%s', async (_name, p, nodes, want) => {
  const fwk = singlePluginFramework(PluginNames.ImageLocality, snapshotOf(nodes.map((n) => n.build())));
  expect((await scoreEach(fwk, p.build())).map((s) => s.score)).toEqual(want);
});

test.each([
  ['add :latest postfix 1', 'root', 'root:latest'],
  ['add :latest postfix 2', 'gcr.io:5000/root', 'gcr.io:5000/root:latest'],
  ['keep it as is 1', 'root:tag', 'root:tag'],
  ['keep it as is 2', 'root@sha256:abc', 'root@sha256:abc'],
])('normalizedImageName: %s', (_name, input, output) => {
  expect(normalizedImageName(input)).toBe(output);
});
