// Rows mirror kubernetes/kubernetes v1.36 pkg/scheduler/framework/plugins/noderesources/balanced_allocation_test.go
// (TestNodeResourcesBalancedAllocation). Upstream's makeNode(name, milliCPU, memory, scalar).
import { expect, test } from '@jest/globals';
import { PluginNames } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { node, pod, preScoreSkips, scoreEach, singlePluginFramework } from '../testing/index.js';
import type { PodBuilder } from '../testing/index.js';

const NAME = PluginNames.NodeResourcesBalancedAllocation;
const makeNode = (name: string, milliCpu: number, memory: number, gpu?: number) =>
  node(name).capacity({ cpu: `${milliCpu}m`, memory: String(memory), ...(gpu === undefined ? {} : { 'nvidia.com/gpu': gpu }) }).build();
const cpuAndMemory = (name: string, nodeName?: string) => {
  const b = pod(name).req({ cpu: '1000m', memory: '2000' }).req({ cpu: '2000m', memory: '3000' });
  return nodeName === undefined ? b : b.node(nodeName);
};
const cpuOnly = (name: string, nodeName?: string) => {
  const b = pod(name).req({ cpu: '1000m', memory: '0' }).req({ cpu: '2000m', memory: '0' });
  return nodeName === undefined ? b : b.node(nodeName);
};
const cpuAndMemoryAndGpu = (name: string, nodeName: string) => pod(name).req({ cpu: '1000m', memory: '2000' }).req({ cpu: '2000m', memory: '3000', 'nvidia.com/gpu': 3 }).node(nodeName);
const withGpu = { resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }, { name: 'nvidia.com/gpu', weight: 1 }] };

test.each<[string, PodBuilder, ReturnType<typeof makeNode>[], PodBuilder[], number[], unknown]>([
  ['nothing scheduled, resources requested, differently sized nodes', cpuAndMemory('p'), [makeNode('node1', 4000, 10000), makeNode('node2', 6000, 10000)], [], [68, 75], undefined],
  ['resources requested, pods scheduled with resources', cpuAndMemory('p'), [makeNode('node1', 10000, 20000), makeNode('node2', 10000, 20000)], [cpuOnly('a', 'node1'), cpuAndMemory('b', 'node2')], [73, 74], undefined],
  [
    'resources requested, pods scheduled with resources, differently sized nodes',
    cpuAndMemory('p'),
    [makeNode('node1', 10000, 20000), makeNode('node2', 10000, 50000)],
    [cpuOnly('a', 'node1'), cpuAndMemory('b', 'node2')],
    [73, 70],
    undefined,
  ],
  [
    'resources requested, pods scheduled with resources, nodes to reach min/max score',
    pod('p').req({ memory: '2000' }).req({ memory: '3000' }),
    [makeNode('node1', 3000, 5000), makeNode('node2', 3000, 5000)],
    [cpuOnly('a', 'node1')],
    [100, 50],
    undefined,
  ],
  ['requested resources at node capacity', cpuOnly('p'), [makeNode('node1', 6000, 10000), makeNode('node2', 6000, 10000)], [cpuOnly('a', 'node1'), cpuAndMemory('b', 'node2')], [62, 62], undefined],
  [
    'include scalar resource on a node for balanced resource allocation',
    pod('p').req({ memory: '0', 'nvidia.com/gpu': 1 }),
    [makeNode('node1', 3500, 40000, 8), makeNode('node2', 3500, 40000, 8)],
    [cpuAndMemory('a', 'node2'), cpuAndMemoryAndGpu('b', 'node1')],
    [75, 76],
    withGpu,
  ],
  ['node without the scalar resource should skip the scalar resource', cpuAndMemory('p'), [makeNode('node1', 3500, 40000, 8), makeNode('node2', 3500, 40000)], [], [56, 56], withGpu],
])('%s', async (_name, incoming, nodes, existing, want, args) => {
  const fwk = singlePluginFramework(NAME, snapshotOf(nodes, existing.map((e) => e.build())), args);
  expect((await scoreEach(fwk, incoming.build())).map((s) => s.score)).toEqual(want);
});

test('nothing scheduled, nothing requested, skip in PreScore', async () => {
  const fwk = singlePluginFramework(NAME, snapshotOf([makeNode('node1', 4000, 10000), makeNode('node2', 4000, 10000)]));
  expect(await preScoreSkips(fwk, pod('p').build())).toBe(true);
});
