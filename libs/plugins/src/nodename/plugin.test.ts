// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/nodename/node_name_test.go (TestNodeName).
import { expect, test } from '@jest/globals';
import { PluginNames, StatusCode } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { filterEach, node, pod, singlePluginFramework } from '../testing/index.js';
import type { PodBuilder } from '../testing/index.js';
import { REASON_NODE_NAME } from './plugin.js';

test.each<[string, PodBuilder, StatusCode, string[]]>([
  ['no host specified', pod('p'), StatusCode.Success, []],
  ['host matches', pod('p').node('foo'), StatusCode.Success, []],
  ["host doesn't match", pod('p').node('bar'), StatusCode.UnschedulableAndUnresolvable, [REASON_NODE_NAME]],
])('%s', async (_name, p, code, reasons) => {
  const fwk = singlePluginFramework(PluginNames.NodeName, snapshotOf([node('foo').build()]));
  const status = (await filterEach(fwk, p.build())).statuses.get('foo');
  expect({ code: status?.code, reasons: status?.reasons }).toEqual({ code, reasons });
});
