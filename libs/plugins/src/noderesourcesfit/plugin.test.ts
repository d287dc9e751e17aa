// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/noderesources:
// fit_test.go (TestEnoughRequests), least_allocated_test.go (TestLeastAllocatedScoringStrategy),
// most_allocated_test.go (TestMostAllocatedScoringStrategy) and
// requested_to_capacity_ratio_test.go (TestRequestedToCapacityRatioScoringStrategy,
// TestResourceBinPackingSingleExtended, TestBrokenLinearFunction).
import { describe, expect, test } from '@jest/globals';
import { PluginNames, StatusCode } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { brokenLinearFunction } from '../helpers/normalize.js';
import { inTreeRegistry } from '../registry.js';
import { filterEach, node, pod, scoreEach, singlePluginFramework } from '../testing/index.js';
import type { NodeBuilder, PodBuilder } from '../testing/index.js';

const NAME = PluginNames.NodeResourcesFit;
const EXT = 'example.com/aaa';

describe('NodeResourcesFit Filter', () => {
  // Upstream makeAllocatableResources(10, 20, 32, 5, ...): 10 milli-CPU, 20 bytes, 32 pods, 5 of the extended resource.
  const theNode = () => node('n').capacity({ cpu: '10m', memory: '20', pods: 32, [EXT]: 5 });
  const p = (cpu: string, memory: string) => pod('p').req({ cpu, memory });
  test.each<[string, PodBuilder, PodBuilder[], StatusCode, string[], unknown]>([
    ['no resources requested always fits', pod('p'), [pod('e').node('n').req({ cpu: '10m', memory: '20' })], StatusCode.Success, [], undefined],
    ['too many resources fails', p('1m', '1'), [pod('e').node('n').req({ cpu: '10m', memory: '20' })], StatusCode.Unschedulable, ['Insufficient cpu', 'Insufficient memory'], undefined],
    ['both resources fit', p('1m', '1'), [pod('e').node('n').req({ cpu: '5m', memory: '5' })], StatusCode.Success, [], undefined],
    ['one resource memory fits', p('2m', '1'), [pod('e').node('n').req({ cpu: '9m', memory: '5' })], StatusCode.Unschedulable, ['Insufficient cpu'], undefined],
    ['one resource cpu fits', p('1m', '2'), [pod('e').node('n').req({ cpu: '5m', memory: '19' })], StatusCode.Unschedulable, ['Insufficient memory'], undefined],
    ['equal edge case', p('5m', '1'), [pod('e').node('n').req({ cpu: '5m', memory: '19' })], StatusCode.Success, [], undefined],
    ['extended resource fits', pod('p').req({ cpu: '0', memory: '0', [EXT]: 1 }), [], StatusCode.Success, [], undefined],
    ['extended resource capacity enforced', pod('p').req({ cpu: '0', memory: '0', [EXT]: 10 }), [], StatusCode.UnschedulableAndUnresolvable, [`Insufficient ${EXT}`], undefined],
    ['extended resource allocatable enforced', pod('p').req({ cpu: '0', memory: '0', [EXT]: 1 }), [pod('e').node('n').req({ cpu: '0', memory: '0', [EXT]: 5 })], StatusCode.Unschedulable, [`Insufficient ${EXT}`], undefined],
    ['nvidia.com/gpu the node lacks', pod('p').req({ cpu: '0', memory: '0', 'nvidia.com/gpu': 1 }), [], StatusCode.UnschedulableAndUnresolvable, ['Insufficient nvidia.com/gpu'], undefined],
    ['skip checking ignored extended resource', pod('p').req({ cpu: '0', memory: '0', 'example.com/bbb': 1 }), [], StatusCode.Success, [], { ignoredResources: ['example.com/bbb'] }],
    ['skip checking ignored extended resource via resource groups', pod('p').req({ cpu: '0', memory: '0', 'example.com/bbb': 1 }), [], StatusCode.Success, [], { ignoredResourceGroups: ['example.com'] }],
    ['request exceeds the node allocatable: preemption cannot help', p('11m', '1'), [], StatusCode.UnschedulableAndUnresolvable, ['Insufficient cpu'], undefined],
  ])('%s', async (_name, incoming, existing, code, reasons, args) => {
    const fwk = singlePluginFramework(NAME, snapshotOf([theNode().build()], existing.map((e) => e.build())), args);
    const status = (await filterEach(fwk, incoming.build())).statuses.get('n');
    expect({ code: status?.code, reasons: status?.reasons }).toEqual({ code, reasons });
  });

  test('Too many pods', async () => {
    const n = node('n').capacity({ cpu: '10m', memory: '20', pods: 1 }).build();
    const fwk = singlePluginFramework(NAME, snapshotOf([n], [pod('e').node('n').build()]));
    const status = (await filterEach(fwk, pod('p').build())).statuses.get('n');
    expect({ code: status?.code, reasons: status?.reasons }).toEqual({ code: StatusCode.Unschedulable, reasons: ['Too many pods'] });
  });
});

type ScoreRow = [string, PodBuilder, NodeBuilder[], PodBuilder[], number[]];
const cap = (name: string, cpu: string, memory: string, extra: Record<string, number> = {}) => node(name).capacity({ cpu, memory, ...extra });
const twoContainers = () => pod('p').req({ cpu: '1000', memory: '2000' }).req({ cpu: '2000', memory: '3000' });

async function scores(args: unknown, incoming: PodBuilder, nodes: NodeBuilder[], existing: PodBuilder[]): Promise<number[]> {
  const fwk = singlePluginFramework(NAME, snapshotOf(nodes.map((n) => n.build()), existing.map((e, i) => e.uid(`e${i}`).build())), args);
  return (await scoreEach(fwk, incoming.build())).map((s) => s.score);
}

describe('NodeResourcesFit Score: LeastAllocated', () => {
  test.each<ScoreRow>([
    ['nothing scheduled, nothing requested', pod('p'), [cap('node1', '4000', '10000'), cap('node2', '4000', '10000')], [], [100, 100]],
    ['nothing scheduled, resources requested, differently sized nodes', twoContainers(), [cap('node1', '4000', '10000'), cap('node2', '6000', '10000')], [], [37, 50]],
    ['no resources requested, pods scheduled', pod('p'), [cap('node1', '4000', '10000'), cap('node2', '4000', '10000')], [pod('a').node('node1'), pod('b').node('node1'), pod('c').node('node2'), pod('d').node('node2')], [100, 100]],
    [
      'no resources requested, pods scheduled with resources',
      pod('p'),
      [cap('node1', '10000', '20000'), cap('node2', '10000', '20000')],
      [
        pod('a').node('node1').req({ cpu: '3000', memory: '0' }),
        pod('b').node('node1').req({ cpu: '3000', memory: '0' }),
        pod('c').node('node2').req({ cpu: '3000', memory: '0' }),
        pod('d').node('node2').req({ cpu: '3000', memory: '5000' }),
      ],
      [70, 57],
    ],
    [
      'resources requested, pods scheduled with resources',
      twoContainers(),
      [cap('node1', '10000', '20000'), cap('node2', '10000', '20000')],
      [pod('a').node('node1').req({ cpu: '3000', memory: '0' }), pod('b').node('node2').req({ cpu: '3000', memory: '5000' })],
      [57, 45],
    ],
    [
      'resources requested, pods scheduled with resources, differently sized nodes',
      twoContainers(),
      [cap('node1', '10000', '20000'), cap('node2', '10000', '50000')],
      [pod('a').node('node1').req({ cpu: '3000', memory: '0' }), pod('b').node('node2').req({ cpu: '3000', memory: '5000' })],
      [57, 60],
    ],
    [
      'requested resources exceed node capacity',
      pod('p').req({ cpu: '3000', memory: '0' }),
      [cap('node1', '4000', '10000'), cap('node2', '4000', '10000')],
      [pod('a').node('node1').req({ cpu: '3000', memory: '0' }), pod('b').node('node2').req({ cpu: '3000', memory: '5000' })],
      [50, 25],
    ],
    ['zero node resources, pods scheduled with resources', pod('p'), [node('node1'), node('node2')], [pod('a').node('node1').req({ cpu: '3000', memory: '0' })], [0, 0]],
  ])('%s', async (_name, incoming, nodes, existing, want) => {
    expect(await scores(undefined, incoming, nodes, existing)).toEqual(want);
  });

  test('nothing scheduled, resources requested with different weight on CPU and memory, differently sized nodes', async () => {
    const args = { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'memory', weight: 2 }, { name: 'cpu', weight: 1 }] } };
    expect(await scores(args, twoContainers(), [cap('node1', '4000', '10000'), cap('node2', '6000', '10000')], [])).toEqual([41, 50]);
  });

  test('honor extended resource if the pod requests', async () => {
    // node1: (50 + 50 + 50) / 3 = 50; node2: (50 + 50 + 80) / 3 = 60
    const args = { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }, { name: 'extended.com/foo', weight: 1 }] } };
    const incoming = pod('p').req({ cpu: '3000', memory: '5000', 'extended.com/foo': 2 });
    expect(await scores(args, incoming, [cap('node1', '6000', '10000', { 'extended.com/foo': 4 }), cap('node2', '6000', '10000', { 'extended.com/foo': 10 })], [])).toEqual([50, 60]);
  });

  test('bypass extended resource if the pod does not request', async () => {
    const args = { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }, { name: 'extended.com/foo', weight: 1 }] } };
    expect(await scores(args, twoContainers(), [cap('node1', '6000', '10000'), cap('node2', '6000', '10000', { 'extended.com/foo': 4 })], [])).toEqual([50, 50]);
  });
});

describe('NodeResourcesFit Score: MostAllocated', () => {
  const most = { scoringStrategy: { type: 'MostAllocated' } };
  test.each<ScoreRow>([
    ['nothing scheduled, nothing requested', pod('p'), [cap('node1', '4000', '10000'), cap('node2', '4000', '10000')], [], [0, 0]],
    ['nothing scheduled, resources requested, differently sized nodes', twoContainers(), [cap('node1', '4000', '10000'), cap('node2', '6000', '10000')], [], [62, 50]],
    [
      'no resources requested, pods scheduled with resources',
      pod('p'),
      [cap('node1', '10000', '20000'), cap('node2', '10000', '20000')],
      [
        pod('a').node('node1').req({ cpu: '3000', memory: '0' }),
        pod('b').node('node1').req({ cpu: '3000', memory: '0' }),
        pod('c').node('node2').req({ cpu: '3000', memory: '0' }),
        pod('d').node('node2').req({ cpu: '3000', memory: '5000' }),
      ],
      [30, 42],
    ],
    [
      'resources requested, pods scheduled with resources',
      twoContainers(),
      [cap('node1', '10000', '20000'), cap('node2', '10000', '20000')],
      [pod('a').node('node1').req({ cpu: '3000', memory: '0' }), pod('b').node('node2').req({ cpu: '3000', memory: '5000' })],
      [42, 55],
    ],
    [
      'resources requested equal node capacity',
      pod('p').req({ cpu: '2000', memory: '4000' }).req({ cpu: '3000', memory: '5000' }),
      [cap('node1', '5000', '10000'), cap('node2', '10000', '9000')],
      [],
      [95, 75],
    ],
    [
      'no resources requested, pods scheduled, nonzero request for resource',
      pod('p').req({}),
      [cap('node1', '250m', '1000Mi'), cap('node2', '250m', '1000Mi')],
      [pod('a').node('node1').req({}), pod('b').node('node1').req({})],
      [80, 30],
    ],
  ])('%s', async (_name, incoming, nodes, existing, want) => {
    expect(await scores(most, incoming, nodes, existing)).toEqual(want);
  });

  test('honor extended resource if the pod request', async () => {
    const args = { scoringStrategy: { type: 'MostAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }, { name: 'extended.com/foo', weight: 1 }] } };
    const incoming = pod('p').req({ cpu: '3000', memory: '5000', 'extended.com/foo': 2 });
    expect(await scores(args, incoming, [cap('node1', '6000', '10000', { 'extended.com/foo': 4 }), cap('node2', '6000', '10000', { 'extended.com/foo': 10 })], [])).toEqual([50, 40]);
  });
});

describe('NodeResourcesFit Score: RequestedToCapacityRatio', () => {
  const shape = [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }];
  const rtcr = { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape } } };
  test.each<ScoreRow>([
    ['nothing scheduled, nothing requested (default - least requested nodes have priority)', pod('p'), [cap('node1', '4000', '10000'), cap('node2', '4000', '10000')], [pod('a').node('node1'), pod('b').node('node1')], [100, 100]],
    ['nothing scheduled, resources requested, differently sized nodes (default - least requested nodes have priority)', twoContainers(), [cap('node1', '4000', '10000'), cap('node2', '6000', '10000')], [pod('a').node('node1'), pod('b').node('node1')], [38, 50]],
    [
      'no resources requested, pods scheduled with resources (default - least requested nodes have priority)',
      pod('p'),
      [cap('node1', '4000', '10000'), cap('node2', '6000', '10000')],
      [pod('a').node('node1').req({ cpu: '3000', memory: '5000' }), pod('b').node('node2').req({ cpu: '3000', memory: '5000' })],
      [38, 50],
    ],
  ])('%s', async (_name, incoming, nodes, existing, want) => {
    expect(await scores(rtcr, incoming, nodes, existing)).toEqual(want);
  });

  // TestResourceBinPackingSingleExtended: shape (0,0),(100,1) over intel.com/foo only.
  const binPacking = {
    scoringStrategy: { type: 'RequestedToCapacityRatio', resources: [{ name: 'intel.com/foo', weight: 1 }], requestedToCapacityRatio: { shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 1 }] } },
  };
  const gpuNodes = () => [cap('node1', '4000', '10000Mi', { 'intel.com/foo': 8 }), cap('node2', '4000', '10000Mi', { 'intel.com/foo': 4 })];
  test.each<ScoreRow>([
    ['nothing scheduled, nothing requested', pod('p'), gpuNodes(), [], [0, 0]],
    ['resources requested, pods scheduled with less resources', pod('p').req({ 'intel.com/foo': 2 }), gpuNodes(), [pod('a')], [2, 5]],
    ['resources requested, pods scheduled with resources, on node with existing pod running ', pod('p').req({ 'intel.com/foo': 2 }), gpuNodes(), [pod('a').node('node2').req({ 'intel.com/foo': 2 })], [2, 10]],
    ['resources requested, pods scheduled with more resources', pod('p').req({ 'intel.com/foo': 4 }), gpuNodes(), [pod('a')], [5, 10]],
  ])('bin packing: %s', async (_name, incoming, nodes, existing, want) => {
    expect(await scores(binPacking, incoming, nodes, existing)).toEqual(want);
  });

  test.each<[[number, number][], [number, number][]]>([
    [
      [[10, 1], [90, 9]],
      [[-10, 1], [0, 1], [9, 1], [10, 1], [15, 1], [19, 1], [20, 2], [89, 8], [90, 9], [99, 9], [100, 9], [110, 9]],
    ],
    [
      [[0, 2], [40, 10], [100, 0]],
      [[-10, 2], [0, 2], [20, 6], [30, 8], [40, 10], [70, 5], [100, 0], [110, 0]],
    ],
  ])('TestBrokenLinearFunction %j', (points, assertions) => {
    const f = brokenLinearFunction(points.map(([utilization, score]) => ({ utilization, score })));
    for (const [p, want] of assertions) expect(f(p)).toBe(want);
  });
});

describe('NodeResourcesFitArgs', () => {
  const issues = (args: unknown) => (inTreeRegistry().get(NAME)?.validateArgs(args) ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
  test.each<[string, unknown, string]>([
    ['resource with negative weight', { scoringStrategy: { resources: [{ name: 'memory', weight: -1 }, { name: 'cpu', weight: 1 }] } }, 'scoringStrategy.resources.0.weight'],
    ['resource with zero weight', { scoringStrategy: { resources: [{ name: 'memory', weight: 1 }, { name: 'cpu', weight: 0 }] } }, 'scoringStrategy.resources.1.weight'],
    ['resource weight larger than MaxNodeScore', { scoringStrategy: { resources: [{ name: 'memory', weight: 101 }] } }, 'scoringStrategy.resources.0.weight'],
    ['unknown strategy', { scoringStrategy: { type: 'Random' } }, 'scoringStrategy.type'],
    ['shape not increasing', { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 50, score: 1 }, { utilization: 10, score: 2 }] } } }, 'scoringStrategy.requestedToCapacityRatio.shape.1.utilization'],
    ['shape score over 10', { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 50, score: 11 }] } } }, 'scoringStrategy.requestedToCapacityRatio.shape.0.score'],
    ['RequestedToCapacityRatio without a shape', { scoringStrategy: { type: 'RequestedToCapacityRatio' } }, 'scoringStrategy.requestedToCapacityRatio'],
  ])('%s', (_name, args, path) => {
    expect(issues(args).some((i) => i.startsWith(`${path}:`))).toBe(true);
  });
});
