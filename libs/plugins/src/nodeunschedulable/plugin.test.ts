// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable_test.go (TestNodeUnschedulable).
import { expect, test } from '@jest/globals';
import { PluginNames, StatusCode } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { filterEach, node, pod, singlePluginFramework } from '../testing/index.js';
import type { NodeBuilder, PodBuilder } from '../testing/index.js';
import { REASON_UNSCHEDULABLE } from './plugin.js';

test.each<[string, PodBuilder, NodeBuilder, StatusCode]>([
  ['Does not schedule pod to unschedulable node (node.Spec.Unschedulable==true)', pod('p'), node('n').unschedulable(), StatusCode.UnschedulableAndUnresolvable],
  ['Schedule pod to normal node', pod('p'), node('n'), StatusCode.Success],
  [
    'Schedule pod with toleration to unschedulable node (node.Spec.Unschedulable==true)',
    pod('p').toleration('node.kubernetes.io/unschedulable', 'Exists', '', 'NoSchedule'),
    node('n').unschedulable(),
    StatusCode.Success,
  ],
])('%s', async (_name, p, n, code) => {
  const fwk = singlePluginFramework(PluginNames.NodeUnschedulable, snapshotOf([n.build()]));
  const status = (await filterEach(fwk, p.build())).statuses.get('n');
  expect(status?.code).toBe(code);
  if (code !== StatusCode.Success) expect(status?.reasons).toEqual([REASON_UNSCHEDULABLE]);
});
