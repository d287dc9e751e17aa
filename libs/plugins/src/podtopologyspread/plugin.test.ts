// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/podtopologyspread:
// filtering_test.go (TestSingleConstraint, TestMultipleConstraints, the minDomains and
// node-inclusion-policy rows) and scoring_test.go (TestPodTopologySpreadScore).
import { describe, expect, test } from '@jest/globals';
import { PluginNames, StatusCode } from '@schedmesh/framework';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { LabelSelector } from '@schedmesh/proto/v1/types';
import { ClusterSnapshot, snapshotOf } from '@schedmesh/scheduling';
import type { WorkloadObject } from '@schedmesh/scheduling';
import { inTreeRegistry } from '../registry.js';
import { existsReq, filterEach, inReq, node, pod, preScoreSkips, scoreEach, selector, singlePluginFramework } from '../testing/index.js';
import type { NodeBuilder, PodBuilder } from '../testing/index.js';

const NAME = PluginNames.PodTopologySpread;
const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const foo = selector({}, existsReq('foo'));
const bar = selector({}, existsReq('bar'));
const zn = (name: string, zone: string) => node(name).label('zone', zone).label('node', name);
const fourNodes = () => [zn('node-a', 'zone1'), zn('node-b', 'zone1'), zn('node-x', 'zone2'), zn('node-y', 'zone2')];
const at = (name: string, nodeName: string, ...labels: string[]) => labels.reduce((b, l) => b.label(l, ''), pod(name).node(nodeName));
const spread2103 = () => [at('p-a1', 'node-a', 'foo'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo'), at('p-y1', 'node-y', 'foo'), at('p-y2', 'node-y', 'foo'), at('p-y3', 'node-y', 'foo')];

const service = (name: string, matchLabels: Record<string, string>, namespace = 'default'): WorkloadObject => ({ $case: 'service', value: { namespace, name, resourceVersion: '1', selector: { matchLabels, matchExpressions: [] } } });
const replicaSet = (name: string, sel: LabelSelector): WorkloadObject => ({ $case: 'replicaSet', value: { namespace: 'default', name, resourceVersion: '1', selector: sel } });
function withWorkloads(snapshot: ClusterSnapshot, ...objects: WorkloadObject[]): ClusterSnapshot {
  for (const object of objects) snapshot.apply({ generation: 0, type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object });
  return snapshot;
}

async function codes(incoming: PodBuilder, nodes: NodeBuilder[], existing: PodBuilder[], args?: unknown): Promise<Record<string, StatusCode>> {
  const fwk = singlePluginFramework(NAME, snapshotOf(nodes.map((n) => n.build()), existing.map((e) => e.build())), args);
  const { statuses } = await filterEach(fwk, incoming.build());
  return Object.fromEntries([...statuses].map(([n, s]) => [n, s.code]));
}

const S = StatusCode.Success;
const U = StatusCode.Unschedulable;
const UU = StatusCode.UnschedulableAndUnresolvable;

describe('PodTopologySpread Filter', () => {
  test.each<[string, PodBuilder, NodeBuilder[], PodBuilder[], Record<string, StatusCode>]>([
    ['no existing pods', pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', foo), fourNodes(), [], { 'node-a': S, 'node-b': S, 'node-x': S, 'node-y': S }],
    ["no existing pods, incoming pod doesn't match itself", pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', bar), fourNodes(), [], { 'node-a': S, 'node-b': S, 'node-x': S, 'node-y': S }],
    [
      'existing pods in a different namespace do not count',
      pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', foo),
      fourNodes(),
      [pod('p-a1', 'ns1').node('node-a').label('foo', ''), pod('p-b1', 'ns2').node('node-a').label('foo', ''), at('p-x1', 'node-x', 'foo'), at('p-y1', 'node-y', 'foo')],
      { 'node-a': S, 'node-b': S, 'node-x': U, 'node-y': U },
    ],
    ['pods spread across zones as 3/3, all nodes fit', pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', foo), fourNodes(), spread2103(), { 'node-a': S, 'node-b': S, 'node-x': S, 'node-y': S }],
    [
      "pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
      pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', foo),
      [zn('node-a', 'zone1'), node('node-b').label('zon', 'zone1').label('node', 'node-b'), zn('node-x', 'zone2'), zn('node-y', 'zone2')],
      [at('p-a1', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo'), at('p-x1', 'node-x', 'foo'), at('p-y1', 'node-y', 'foo')],
      { 'node-a': S, 'node-b': UU, 'node-x': U, 'node-y': U },
    ],
    ["pod cannot be scheduled as all nodes don't have label 'rack'", pod('p').label('foo', '').spread(1, 'rack', 'DoNotSchedule', foo), [zn('node-a', 'zone1'), zn('node-x', 'zone2')], [], { 'node-a': UU, 'node-x': UU }],
    ['pods spread across nodes as 2/1/0/3, only node-x fits', pod('p').label('foo', '').spread(1, 'node', 'DoNotSchedule', foo), fourNodes(), spread2103(), { 'node-a': U, 'node-b': U, 'node-x': S, 'node-y': U }],
    ['pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit', pod('p').label('foo', '').spread(2, 'node', 'DoNotSchedule', foo), fourNodes(), spread2103(), { 'node-a': U, 'node-b': S, 'node-x': S, 'node-y': U }],
    ["pods spread across nodes as 2/1/0/3, but pod doesn't match itself", pod('p').label('bar', '').spread(1, 'node', 'DoNotSchedule', foo), fourNodes(), spread2103(), { 'node-a': U, 'node-b': S, 'node-x': S, 'node-y': U }],
    [
      'incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits',
      pod('p').label('foo', '').requiredNodeTerm({ matchExpressions: [inReq('node', 'node-a', 'node-y')] }).spread(1, 'node', 'DoNotSchedule', foo),
      fourNodes(),
      spread2103(),
      { 'node-a': S, 'node-b': S, 'node-x': S, 'node-y': U },
    ],
    [
      'terminating Pods should be excluded',
      pod('p').label('foo', '').spread(1, 'node', 'DoNotSchedule', foo),
      [node('node-a').label('node', 'node-a'), node('node-b').label('node', 'node-b')],
      [at('p-a', 'node-a', 'foo').terminating(), at('p-b', 'node-b', 'foo')],
      { 'node-a': S, 'node-b': U },
    ],
    [
      'two Constraints on zone and node, spreads = [3/3, 2/1/0/3]',
      pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', foo).spread(1, 'node', 'DoNotSchedule', foo),
      fourNodes(),
      spread2103(),
      { 'node-a': U, 'node-b': U, 'node-x': S, 'node-y': U },
    ],
    [
      'two Constraints on zone and node, spreads = [3/4, 2/1/0/4]',
      pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', foo).spread(1, 'node', 'DoNotSchedule', foo),
      fourNodes(),
      [...spread2103(), at('p-y4', 'node-y', 'foo')],
      { 'node-a': U, 'node-b': U, 'node-x': U, 'node-y': U },
    ],
    // minDomains: fewer domains than minDomains make the global minimum 0.
    [
      'pods spread across nodes as 2/1, maxSkew is 2, and the number of domains < minDomains, then node-a does not fit',
      pod('p').label('foo', '').spread(2, 'node', 'DoNotSchedule', foo, { minDomains: 3 }),
      [node('node-a').label('node', 'node-a'), node('node-b').label('node', 'node-b')],
      [at('p-a1', 'node-a', 'foo'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo')],
      { 'node-a': U, 'node-b': S },
    ],
    [
      'pods spread across nodes as 2/1, maxSkew is 2, and the number of domains >= minDomains, then both fit',
      pod('p').label('foo', '').spread(2, 'node', 'DoNotSchedule', foo, { minDomains: 2 }),
      [node('node-a').label('node', 'node-a'), node('node-b').label('node', 'node-b')],
      [at('p-a1', 'node-a', 'foo'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo')],
      { 'node-a': S, 'node-b': S },
    ],
    // Node inclusion policies: a tainted node's domain counts only with the Ignore taints policy.
    [
      // (TaintToleration, not this plugin, keeps the pod off node-x itself.)
      'NodeTaintsPolicy honored: the tainted node-x does not count, zone2 looks empty',
      pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', foo, { nodeTaintsPolicy: 'Honor' }),
      [zn('node-a', 'zone1'), zn('node-x', 'zone2').taint('foo', '', 'NoSchedule'), zn('node-y', 'zone3')],
      [at('p-a1', 'node-a', 'foo'), at('p-x1', 'node-x', 'foo')],
      { 'node-a': U, 'node-x': S, 'node-y': S },
    ],
    [
      'NodeTaintsPolicy ignored: the tainted node-x counts',
      pod('p').label('foo', '').spread(1, 'zone', 'DoNotSchedule', foo),
      [zn('node-a', 'zone1'), zn('node-x', 'zone2').taint('foo', '', 'NoSchedule'), zn('node-y', 'zone3')],
      [at('p-a1', 'node-a', 'foo'), at('p-x1', 'node-x', 'foo')],
      { 'node-a': U, 'node-x': U, 'node-y': S },
    ],
    [
      'NodeAffinityPolicy ignored: node-b counts although the pod cannot go there',
      pod('p').label('foo', '').requiredNodeTerm({ matchExpressions: [inReq('node', 'node-a', 'node-x')] }).spread(1, 'node', 'DoNotSchedule', foo, { nodeAffinityPolicy: 'Ignore' }),
      [node('node-a').label('node', 'node-a'), node('node-b').label('node', 'node-b'), node('node-x').label('node', 'node-x')],
      [at('p-a1', 'node-a', 'foo'), at('p-x1', 'node-x', 'foo')],
      { 'node-a': U, 'node-b': S, 'node-x': U },
    ],
    // matchLabelKeys: only pods with the incoming pod's value of the key count.
    [
      'matchLabelKeys narrow the selector to the pod revision',
      pod('p').label('foo', '').label('rev', 'v2').spread(1, 'node', 'DoNotSchedule', foo, { matchLabelKeys: ['rev'] }),
      [node('node-a').label('node', 'node-a'), node('node-b').label('node', 'node-b')],
      [at('p-a1', 'node-a', 'foo').label('rev', 'v1'), at('p-a2', 'node-a', 'foo').label('rev', 'v1'), at('p-b1', 'node-b', 'foo').label('rev', 'v2')],
      { 'node-a': S, 'node-b': U },
    ],
  ])('%s', async (_name, incoming, nodes, existing, want) => {
    expect(await codes(incoming, nodes, existing)).toEqual(want);
  });
});

describe('PodTopologySpread Score', () => {
  const host = (name: string) => node(name).label(HOST, name);
  // `nodes` are the candidates (passed the filters), `failed` the other nodes of the cluster.
  test.each<[string, PodBuilder, PodBuilder[], NodeBuilder[], NodeBuilder[], number[]]>([
    ['one constraint on node, no existing pods', pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', foo), [], [host('node-a'), host('node-b')], [], [100, 100]],
    ['one constraint on node, only one node is candidate', pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', foo), [at('p-a1', 'node-a', 'foo'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo')], [host('node-a')], [host('node-b')], [100]],
    ['one constraint on node, all nodes have the same number of matching pods', pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', foo), [at('p-a1', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo')], [host('node-a'), host('node-b')], [], [100, 100]],
    [
      'one constraint on node, all 4 nodes are candidates',
      pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', foo),
      [at('p-a1', 'node-a', 'foo'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo'), at('p-d1', 'node-d', 'foo'), at('p-d2', 'node-d', 'foo'), at('p-d3', 'node-d', 'foo')],
      [host('node-a'), host('node-b'), host('node-c'), host('node-d')],
      [],
      [20, 60, 100, 0],
    ],
    [
      'one constraint on node, null selector',
      pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', undefined),
      [at('p-a1', 'node-a', 'foo'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo'), at('p-d1', 'node-d', 'foo')],
      [host('node-a'), host('node-b'), host('node-c'), host('node-d')],
      [],
      [100, 100, 100, 100],
    ],
    [
      'one constraint on node, all 4 nodes are candidates, maxSkew=2',
      pod('p').label('foo', '').spread(2, HOST, 'ScheduleAnyway', foo),
      [at('p-a1', 'node-a', 'foo'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo'), at('p-d1', 'node-d', 'foo'), at('p-d2', 'node-d', 'foo'), at('p-d3', 'node-d', 'foo')],
      [host('node-a'), host('node-b'), host('node-c'), host('node-d')],
      [],
      [33, 66, 100, 16],
    ],
    [
      'one constraint on node, all 4 nodes are candidates, maxSkew=3',
      pod('p').label('foo', '').spread(3, HOST, 'ScheduleAnyway', foo),
      [
        ...['a1', 'a2', 'a3', 'a4'].map((n) => at(`p-${n}`, 'node-a', 'foo')),
        ...['b1', 'b2', 'b3'].map((n) => at(`p-${n}`, 'node-b', 'foo')),
        ...['c1', 'c2'].map((n) => at(`p-${n}`, 'node-c', 'foo')),
        at('p-d1', 'node-d', 'foo'),
      ],
      [host('node-a'), host('node-b'), host('node-c'), host('node-d')],
      [],
      [44, 66, 77, 100],
    ],
    [
      'one constraint on node, 3 out of 4 nodes are candidates',
      pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', foo),
      [...['a1', 'a2', 'a3', 'a4'].map((n) => at(`p-${n}`, 'node-a', 'foo')), at('p-b1', 'node-b', 'foo'), at('p-b2', 'node-b', 'foo'), at('p-x1', 'node-x', 'foo'), ...['y1', 'y2', 'y3'].map((n) => at(`p-${n}`, 'node-y', 'foo'))],
      [host('node-a'), host('node-b'), host('node-x')],
      [host('node-y')],
      [33, 83, 100],
    ],
    [
      "one constraint on node, 3 out of 4 nodes are candidates, one node doesn't match topology key",
      pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', foo),
      [...['a1', 'a2', 'a3', 'a4'].map((n) => at(`p-${n}`, 'node-a', 'foo')), at('p-b1', 'node-b', 'foo'), at('p-b2', 'node-b', 'foo'), at('p-x1', 'node-x', 'foo'), ...['y1', 'y2', 'y3'].map((n) => at(`p-${n}`, 'node-y', 'foo'))],
      [host('node-a'), node('node-b').label('n', 'node-b'), host('node-x')],
      [host('node-y')],
      [16, 0, 100],
    ],
    [
      'one constraint on zone, 3 out of 4 nodes are candidates',
      pod('p').label('foo', '').spread(1, 'zone', 'ScheduleAnyway', foo),
      [...['a1', 'a2', 'a3', 'a4'].map((n) => at(`p-${n}`, 'node-a', 'foo')), at('p-b1', 'node-b', 'foo'), at('p-b2', 'node-b', 'foo'), at('p-x1', 'node-x', 'foo'), ...['y1', 'y2', 'y3'].map((n) => at(`p-${n}`, 'node-y', 'foo'))],
      [host('node-a').label('zone', 'zone1'), host('node-b').label('zone', 'zone1'), host('node-x').label('zone', 'zone2')],
      [host('node-y').label('zone', 'zone2')],
      [75, 75, 100],
    ],
    [
      'two Constraints on zone and node, 2 out of 4 nodes are candidates',
      pod('p').label('foo', '').spread(1, 'zone', 'ScheduleAnyway', foo).spread(1, HOST, 'ScheduleAnyway', foo),
      [at('p-a1', 'node-a', 'foo'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo'), at('p-x1', 'node-x', 'foo'), at('p-x2', 'node-x', 'foo'), ...['y1', 'y2', 'y3', 'y4'].map((n) => at(`p-${n}`, 'node-y', 'foo'))],
      [host('node-a').label('zone', 'zone1'), host('node-x').label('zone', 'zone2')],
      [host('node-b').label('zone', 'zone1'), host('node-y').label('zone', 'zone2')],
      [100, 63],
    ],
    [
      'two Constraints on zone, 2 out of 4 nodes are candidates',
      pod('p').label('foo', '').label('bar', '').spread(1, 'zone', 'ScheduleAnyway', foo).spread(1, 'zone', 'ScheduleAnyway', bar),
      [at('p-a1', 'node-a', 'foo', 'bar'), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo', 'bar'), at('p-y1', 'node-y', 'foo'), at('p-y2', 'node-y', 'foo', 'bar'), at('p-y3', 'node-y', 'foo')],
      [node('node-a').label('zone', 'zone1'), node('node-x').label('zone', 'zone2')],
      [node('node-b').label('zone', 'zone1'), node('node-y').label('zone', 'zone2')],
      [85, 100],
    ],
    [
      'two Constraints on zone and node, with different labelSelectors',
      pod('p').label('foo', '').label('bar', '').spread(1, 'zone', 'ScheduleAnyway', foo).spread(1, HOST, 'ScheduleAnyway', bar),
      [at('p-a1', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo', 'bar'), at('p-y1', 'node-y', 'foo'), at('p-y2', 'node-y', 'bar')],
      [host('node-a').label('zone', 'zone1'), host('node-b').label('zone', 'zone1'), host('node-x').label('zone', 'zone2'), host('node-y').label('zone', 'zone2')],
      [],
      [60, 20, 100, 60],
    ],
    [
      'two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods',
      pod('p').label('foo', '').label('bar', '').spread(1, 'zone', 'ScheduleAnyway', foo).spread(1, HOST, 'ScheduleAnyway', bar),
      [at('p-b1', 'node-b', 'bar'), at('p-x1', 'node-x', 'foo'), at('p-y1', 'node-y', 'foo', 'bar')],
      [host('node-a').label('zone', 'zone1'), host('node-b').label('zone', 'zone1'), host('node-x').label('zone', 'zone2'), host('node-y').label('zone', 'zone2')],
      [],
      [100, 60, 40, 0],
    ],
    [
      'two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are candidates',
      pod('p').label('foo', '').label('bar', '').spread(1, 'zone', 'ScheduleAnyway', foo).spread(1, HOST, 'ScheduleAnyway', bar),
      [at('p-a1', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo', 'bar'), at('p-y1', 'node-y', 'foo'), at('p-y2', 'node-y', 'bar')],
      [host('node-a').label('zone', 'zone1'), host('node-b').label('zone', 'zone1'), host('node-x').label('zone', 'zone2')],
      [host('node-y').label('zone', 'zone2')],
      [50, 25, 100],
    ],
    [
      'existing pods in a different namespace do not count',
      pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', foo),
      [pod('p-a1', 'ns1').node('node-a').label('foo', ''), at('p-a2', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo'), at('p-b2', 'node-b', 'foo')],
      [host('node-a'), host('node-b')],
      [],
      [100, 33],
    ],
    ['terminating Pods should be excluded', pod('p').label('foo', '').spread(1, HOST, 'ScheduleAnyway', foo), [at('p-a', 'node-a', 'foo').terminating(), at('p-b', 'node-b', 'foo')], [host('node-a'), host('node-b')], [], [100, 0]],
  ])('%s', async (_name, incoming, existing, candidates, failed, want) => {
    const all = [...candidates, ...failed].map((n) => n.build());
    const fwk = singlePluginFramework(NAME, snapshotOf(all, existing.map((e) => e.build())));
    const names = candidates.map((n) => n.build().name);
    expect((await scoreEach(fwk, incoming.build(), names)).map((s) => s.score)).toEqual(want);
  });

  test("system defaulting, nodes don't have zone, pods match service", async () => {
    // Pods of one Service count whatever their owners (or none).
    const owners = ['ReplicaSet/web-1', 'ReplicaSet/web-2', ''];
    const mine = (name: string, nodeName: string, i: number) => at(name, nodeName, 'foo').owner(owners[i % 3] as string);
    const existing = [...['a1', 'a2', 'a3', 'a4'].map((n, i) => mine(`p-${n}`, 'node-a', i)), ...['b1', 'b2', 'b3'].map((n, i) => mine(`p-${n}`, 'node-b', i)), mine('p-c1', 'node-c', 0), mine('p-c2', 'node-c', 1), mine('p-d1', 'node-d', 2)];
    const nodes = ['node-a', 'node-b', 'node-c', 'node-d'].map((n) => node(n).label(HOST, n).build());
    const snapshot = withWorkloads(snapshotOf(nodes, existing.map((e) => e.build())), service('svc', { foo: '' }));
    const fwk = singlePluginFramework(NAME, snapshot);
    expect((await scoreEach(fwk, pod('p').label('foo', '').owner('ReplicaSet/web-3').build(), ['node-a', 'node-b', 'node-c', 'node-d'])).map((s) => s.score)).toEqual([44, 66, 77, 100]);
  });

  test('system defaulting: pods of one Service, of different owners, are spread across zones', async () => {
    const nodes = [['node-a', 'zone1'], ['node-b', 'zone1'], ['node-x', 'zone2'], ['node-y', 'zone2']].map(([n, z]) => node(n as string).label(HOST, n as string).label(ZONE, z as string).build());
    const existing = [pod('web-1').node('node-a').label('app', 'web').owner('ReplicaSet/web-1'), pod('web-2').node('node-a').label('app', 'web').owner('StatefulSet/web-2'), pod('web-3').node('node-b').label('app', 'web')];
    const snapshot = withWorkloads(snapshotOf(nodes, existing.map((e) => e.build())), service('web', { app: 'web' }));
    const incoming = pod('p').label('app', 'web').owner('ReplicaSet/web-4').build();
    // hostname counts 2/1/0/0 (weight log 6), zone counts 3/0 (weight log 4): raw 14, 12, 6, 6.
    expect((await scoreEach(singlePluginFramework(NAME, snapshot), incoming, ['node-a', 'node-b', 'node-x', 'node-y'])).map((s) => s.score)).toEqual([42, 57, 100, 100]);
  });

  test('system default constraints and a replicaset: nodes with no zone are a zone of their own', async () => {
    // Upstream TestPreScoreStateEmptyNodes: zone counts {mars, ""}, hostname over 4 nodes.
    const nodes = [node('node-a').label(HOST, 'node-a').label(ZONE, 'mars'), node('node-b').label(HOST, 'node-b').label(ZONE, 'mars'), node('node-c').label(HOST, 'node-c'), node('node-d').label(HOST, 'node-d')];
    const existing = [at('p-a1', 'node-a', 'foo'), at('p-b1', 'node-b', 'foo'), at('p-b2', 'node-b', 'foo')];
    const snapshot = withWorkloads(snapshotOf(nodes.map((n) => n.build()), existing.map((e) => e.build())), replicaSet('rs1', foo));
    const incoming = pod('p').label('foo', 'tar').label('baz', 'sup').owner('ReplicaSet/rs1').build();
    // hostname 1/2/0/0 (log 6), zone mars 3, "" 0 (log 4; nodes without the key score no zone term): raw 12, 14, 2, 2.
    expect((await scoreEach(singlePluginFramework(NAME, snapshot), incoming, ['node-a', 'node-b', 'node-c', 'node-d'])).map((s) => s.score)).toEqual([28, 14, 100, 100]);
  });

  test('system defaulting: a ReplicaSet selector and a Service selector are merged (both must match)', async () => {
    const nodes = ['node-a', 'node-b', 'node-c'].map((n) => node(n).label(HOST, n).build());
    const existing = [
      ...['a1', 'a2'].map((n) => pod(`p-${n}`).node('node-a').label('foo', 'tar').label('baz', 'sup')),
      ...['b1', 'b2', 'b3'].map((n) => pod(`p-${n}`).node('node-b').label('baz', 'sup')),
      ...['c1', 'c2', 'c3'].map((n) => pod(`p-${n}`).node('node-c').label('foo', 'tar')),
    ];
    const snapshot = withWorkloads(snapshotOf(nodes, existing.map((e) => e.build())), service('svc', { baz: 'sup' }), replicaSet('rs1', foo));
    const incoming = pod('p').label('foo', 'tar').label('baz', 'sup').owner('ReplicaSet/rs1').build();
    // Only node-a's pods match both: hostname counts 2/0/0 (log 5), no zone key: raw 5, 2, 2.
    expect((await scoreEach(singlePluginFramework(NAME, snapshot), incoming, ['node-a', 'node-b', 'node-c'])).map((s) => s.score)).toEqual([40, 100, 100]);
  });

  test.each<[string, string, WorkloadObject]>([
    ['a StatefulSet', 'StatefulSet/db', { $case: 'statefulSet', value: { namespace: 'default', name: 'db', resourceVersion: '1', selector: foo } }],
    ['a ReplicationController', 'ReplicationController/db', { $case: 'replicationController', value: { namespace: 'default', name: 'db', resourceVersion: '1', selector: { matchLabels: { foo: '' }, matchExpressions: [] } } }],
  ])('system defaulting: the pods of %s found by the controllerRef', async (_name, owner, workload) => {
    const nodes = ['node-a', 'node-b'].map((n) => node(n).label(HOST, n).build());
    const snapshot = withWorkloads(snapshotOf(nodes, [at('p-a1', 'node-a', 'foo').build()]), workload);
    // hostname counts 1/0 (log 4): raw 3, 2.
    expect((await scoreEach(singlePluginFramework(NAME, snapshot), pod('p').label('foo', '').owner(owner).build(), ['node-a', 'node-b'])).map((s) => s.score)).toEqual([66, 100]);
  });

  test.each<[string, PodBuilder, WorkloadObject[]]>([
    ['a pod without constraints, Service or controller', pod('p').label('foo', ''), [service('other', { bar: '' })]],
    ["default constraints and a replicaset that doesn't match", pod('p').label('foo', 'bar').owner('ReplicaSet/rs2'), [replicaSet('rs1', selector({}, existsReq('tar')))]],
    ['a controller of a kind default spreading does not read', pod('p').label('foo', '').owner('Job/rs1'), [replicaSet('rs1', foo)]],
    ['a ReplicaSet of the same name is not the StatefulSet', pod('p').label('foo', '').owner('StatefulSet/rs1'), [replicaSet('rs1', foo)]],
    ['a StatefulSet of another namespace', pod('p').label('foo', '').owner('StatefulSet/db'), [{ $case: 'statefulSet', value: { namespace: 'other', name: 'db', resourceVersion: '1', selector: foo } }]],
    ['a Service without a selector selects no pod', pod('p').label('foo', ''), [{ $case: 'service', value: { namespace: 'default', name: 'headless', resourceVersion: '1' } }]],
    ['a Service of another namespace', pod('p').label('foo', ''), [service('web', { foo: '' }, 'other')]],
  ])('%s skips scoring', async (_name, incoming, workloads) => {
    const snapshot = withWorkloads(snapshotOf([node('a').label(HOST, 'a').build()], [at('p-a1', 'a', 'foo').owner('ReplicaSet/rs1').build()]), ...workloads);
    expect(await preScoreSkips(singlePluginFramework(NAME, snapshot), incoming.build())).toBe(true);
  });

  test('List defaulting with a DoNotSchedule default filters the pods of the Service', async () => {
    const args = { defaultingType: 'List', defaultConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }] };
    const snapshot = withWorkloads(snapshotOf(fourNodes().map((n) => n.build()), spread2103().map((e) => e.build())), service('svc', { foo: '' }));
    const fwk = singlePluginFramework(NAME, snapshot, args);
    const { statuses } = await filterEach(fwk, pod('p').label('foo', '').build());
    // zones 3/3: the incoming pod fits anywhere; one more pod on node-y makes zone2 4, so zone1 alone fits.
    expect(Object.fromEntries([...statuses].map(([n, st]) => [n, st.code]))).toEqual({ 'node-a': S, 'node-b': S, 'node-x': S, 'node-y': S });
    const fuller = withWorkloads(snapshotOf(fourNodes().map((n) => n.build()), [...spread2103(), at('p-y4', 'node-y', 'foo')].map((e) => e.build())), service('svc', { foo: '' }));
    const again = await filterEach(singlePluginFramework(NAME, fuller, args), pod('p').label('foo', '').build());
    expect(Object.fromEntries([...again.statuses].map(([n, st]) => [n, st.code]))).toEqual({ 'node-a': S, 'node-b': S, 'node-x': U, 'node-y': U });
  });
});

describe('PodTopologySpreadArgs', () => {
  const issues = (args: unknown) => (inTreeRegistry().get(NAME)?.validateArgs(args) ?? []).map((i) => i.path.join('.'));
  test.each<[string, unknown, string]>([
    ['System defaulting with constraints', { defaultingType: 'System', defaultConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }] }, 'defaultConstraints'],
    ['maxSkew 0', { defaultingType: 'List', defaultConstraints: [{ maxSkew: 0, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }] }, 'defaultConstraints.0.maxSkew'],
    ['a selector in a default constraint', { defaultingType: 'List', defaultConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: {} }] }, 'defaultConstraints.0.labelSelector'],
    ['unknown action', { defaultingType: 'List', defaultConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'Maybe' }] }, 'defaultConstraints.0.whenUnsatisfiable'],
  ])('%s', (_name, args, path) => {
    expect(issues(args)).toContain(path);
  });
});

test('the count memo follows the snapshot: a pod added between cycles is counted', async () => {
  const s = new ClusterSnapshot();
  const upsert = (value: ReturnType<ReturnType<typeof node>['build']> | ReturnType<ReturnType<typeof pod>['build']>, generation: number) =>
    s.apply('unschedulable' in value ? { generation, type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'node', value } } : { generation, type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'pod', value } });
  upsert(node('node-a').label('zone', 'z1').build(), 1);
  upsert(node('node-b').label('zone', 'z2').build(), 2);
  upsert(at('p-a1', 'node-a', 'foo').build(), 3);
  const fwk = singlePluginFramework(NAME, s);
  const incoming = pod('p').label('foo', '').spread(1, 'zone', 'ScheduleAnyway', foo).build();
  expect((await scoreEach(fwk, incoming, ['node-a', 'node-b'])).map((x) => x.score)).toEqual([0, 100]);
  upsert(at('p-b1', 'node-b', 'foo').build(), 4);
  upsert(at('p-b2', 'node-b', 'foo').build(), 5);
  // zone counts 1/2, weight log(4): raw 1 and 3, normalized 100 and 33.
  expect((await scoreEach(fwk, incoming, ['node-a', 'node-b'])).map((x) => x.score)).toEqual([100, 33]);
});
