// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/tainttoleration/taint_toleration_test.go.
import { describe, expect, test } from '@jest/globals';
import { PluginNames, StatusCode } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { filterEach, node, pod, preScoreSkips, scoreEach, singlePluginFramework } from '../testing/index.js';
import type { NodeBuilder, PodBuilder } from '../testing/index.js';
import { ERR_REASON_UNTOLERATED_TAINT } from './plugin.js';

const NAME = PluginNames.TaintToleration;

describe('TaintToleration Score', () => {
  // TestTaintTolerationScore rows (names as upstream).
  test.each<[string, PodBuilder, NodeBuilder[], number[]]>([
    [
      'node with taints tolerated by the pod, gets a higher score than those node with intolerable taints',
      pod('pod1').toleration('foo', 'Equal', 'bar', 'PreferNoSchedule'),
      [node('nodeA').taint('foo', 'bar', 'PreferNoSchedule'), node('nodeB').taint('foo', 'blah', 'PreferNoSchedule')],
      [100, 0],
    ],
    [
      'the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many tolerable taints a node has',
      pod('pod1').toleration('cpu-type', 'Equal', 'arm64', 'PreferNoSchedule').toleration('disk-type', 'Equal', 'ssd', 'PreferNoSchedule'),
      [
        node('nodeA'),
        node('nodeB').taint('cpu-type', 'arm64', 'PreferNoSchedule'),
        node('nodeC').taint('cpu-type', 'arm64', 'PreferNoSchedule').taint('disk-type', 'ssd', 'PreferNoSchedule'),
      ],
      [100, 100, 100],
    ],
    [
      'the more intolerable taints a node has, the lower score it gets.',
      pod('pod1').toleration('foo', 'Equal', 'bar', 'PreferNoSchedule'),
      [
        node('nodeA'),
        node('nodeB').taint('cpu-type', 'arm64', 'PreferNoSchedule'),
        node('nodeC').taint('cpu-type', 'arm64', 'PreferNoSchedule').taint('disk-type', 'ssd', 'PreferNoSchedule'),
      ],
      [100, 50, 0],
    ],
    [
      'only taints and tolerations that have effect PreferNoSchedule are checked by taints-tolerations priority function',
      pod('pod1').toleration('cpu-type', 'Equal', 'arm64', 'NoSchedule').toleration('disk-type', 'Equal', 'ssd', 'NoSchedule'),
      [
        node('nodeA'),
        node('nodeB').taint('cpu-type', 'arm64', 'NoSchedule'),
        node('nodeC').taint('cpu-type', 'arm64', 'PreferNoSchedule').taint('disk-type', 'ssd', 'PreferNoSchedule'),
      ],
      [100, 100, 0],
    ],
    [
      'Default behaviour No taints and tolerations, lands on node with no taints',
      pod('pod1'),
      [node('nodeA'), node('nodeB').taint('cpu-type', 'arm64', 'PreferNoSchedule')],
      [100, 0],
    ],
  ])('%s', async (_name, p, nodes, want) => {
    const fwk = singlePluginFramework(NAME, snapshotOf(nodes.map((n) => n.build())));
    expect((await scoreEach(fwk, p.build())).map((s) => s.score)).toEqual(want);
  });

  test('never skips PreScore (upstream writes its state for every pod)', async () => {
    const fwk = singlePluginFramework(NAME, snapshotOf([node('a').build()]));
    expect(await preScoreSkips(fwk, pod('p').build())).toBe(false);
  });
});

describe('TaintToleration Filter', () => {
  const rejected = { code: StatusCode.UnschedulableAndUnresolvable, reasons: [ERR_REASON_UNTOLERATED_TAINT] };
  // TestTaintTolerationFilter rows (v1.36: the reason does not name the taint).
  test.each<[string, PodBuilder, NodeBuilder, { code: StatusCode; reasons: string[] } | undefined]>([
    ["A pod having no tolerations can't be scheduled onto a node with nonempty taints", pod('pod1'), node('nodeA').taint('dedicated', 'user1', 'NoSchedule'), rejected],
    [
      'A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule',
      pod('pod1').toleration('dedicated', 'Equal', 'user1', 'NoSchedule'),
      node('nodeA').taint('dedicated', 'user1', 'NoSchedule'),
      undefined,
    ],
    [
      "A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule",
      pod('pod1').toleration('dedicated', 'Equal', 'user2', 'NoSchedule'),
      node('nodeA').taint('dedicated', 'user1', 'NoSchedule'),
      rejected,
    ],
    [
      'A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node',
      pod('pod1').toleration('foo', 'Exists', '', 'NoSchedule'),
      node('nodeA').taint('foo', 'bar', 'NoSchedule'),
      undefined,
    ],
    [
      'A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, pod can be scheduled onto the node',
      pod('pod1').toleration('dedicated', 'Equal', 'user2', 'NoSchedule').toleration('foo', 'Exists', '', 'NoSchedule'),
      node('nodeA').taint('dedicated', 'user2', 'NoSchedule').taint('foo', 'bar', 'NoSchedule'),
      undefined,
    ],
    [
      "A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match, can't be scheduled onto the node",
      pod('pod1').toleration('foo', 'Equal', 'bar', 'PreferNoSchedule'),
      node('nodeA').taint('foo', 'bar', 'NoSchedule'),
      rejected,
    ],
    [
      'The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be scheduled onto the node',
      pod('pod1').toleration('foo', 'Equal', 'bar'),
      node('nodeA').taint('foo', 'bar', 'NoSchedule'),
      undefined,
    ],
    [
      "The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
      pod('pod1').toleration('dedicated', 'Equal', 'user2', 'NoSchedule'),
      node('nodeA').taint('dedicated', 'user1', 'PreferNoSchedule'),
      undefined,
    ],
    ['The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node', pod('pod1'), node('nodeA').taint('dedicated', 'user1', 'PreferNoSchedule'), undefined],
    ['NoExecute taints filter too', pod('pod1'), node('nodeA').taint('k', 'v', 'NoExecute'), rejected],
  ])('%s', async (_name, p, n, want) => {
    const fwk = singlePluginFramework(NAME, snapshotOf([n.build()]));
    const status = (await filterEach(fwk, p.build())).statuses.get('nodeA');
    if (want === undefined) expect(status?.isSuccess()).toBe(true);
    else expect({ code: status?.code, reasons: status?.reasons }).toEqual(want);
  });
});
