// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/nodeports/node_ports_test.go (TestNodePorts).
import { expect, test } from '@jest/globals';
import { PluginNames, StatusCode } from '@schedmesh/framework';
import { snapshotOf } from '@schedmesh/scheduling';
import { filterEach, node, pod, singlePluginFramework } from '../testing/index.js';
import type { PodBuilder } from '../testing/index.js';
import { REASON_PORTS } from './plugin.js';

type Port = [protocol: 'TCP' | 'UDP', ip: string, port: number];
const withPorts = (b: PodBuilder, ports: Port[]) => ports.reduce((acc, [proto, ip, port]) => acc.hostPort(port, proto, ip), b);

test.each<[string, Port[], Port[], boolean]>([
  ['nothing running', [], [], true],
  ['other port', [['UDP', '127.0.0.1', 8080]], [['UDP', '127.0.0.1', 9090]], true],
  ['same udp port', [['UDP', '127.0.0.1', 8080]], [['UDP', '127.0.0.1', 8080]], false],
  ['same tcp port', [['TCP', '127.0.0.1', 8080]], [['TCP', '127.0.0.1', 8080]], false],
  ['different host ip', [['TCP', '127.0.0.1', 8080]], [['TCP', '127.0.0.2', 8080]], true],
  ['different protocol', [['UDP', '127.0.0.1', 8080]], [['TCP', '127.0.0.1', 8080]], true],
  ['second udp port conflict', [['UDP', '127.0.0.1', 8000], ['UDP', '127.0.0.1', 8080]], [['UDP', '127.0.0.1', 8080]], false],
  ['first tcp port conflict', [['TCP', '127.0.0.1', 8001], ['UDP', '127.0.0.1', 8080]], [['TCP', '127.0.0.1', 8001], ['UDP', '127.0.0.1', 8081]], false],
  ['first tcp port conflict due to 0.0.0.0 hostIP', [['TCP', '0.0.0.0', 8001]], [['TCP', '127.0.0.1', 8001]], false],
  ['TCP hostPort conflict due to 0.0.0.0 hostIP', [['TCP', '10.0.10.10', 8001], ['TCP', '0.0.0.0', 8001]], [['TCP', '127.0.0.1', 8001]], false],
  ['second tcp port conflict to 0.0.0.0 hostIP', [['TCP', '127.0.0.1', 8001]], [['TCP', '0.0.0.0', 8001]], false],
  ['second different protocol', [['UDP', '0.0.0.0', 8001]], [['TCP', '0.0.0.0', 8001]], true],
  ['UDP hostPort conflict due to 0.0.0.0 hostIP', [['UDP', '0.0.0.0', 8001]], [['TCP', '0.0.0.0', 8001], ['UDP', '0.0.0.0', 8001]], false],
])('%s', async (_name, podPorts, existingPorts, fits) => {
  const existing = withPorts(pod('existing').node('n'), existingPorts).build();
  const fwk = singlePluginFramework(PluginNames.NodePorts, snapshotOf([node('n').build()], [existing]));
  const { statuses } = await filterEach(fwk, withPorts(pod('p'), podPorts).build());
  const status = statuses.get('n');
  if (fits) expect(status?.isSuccess()).toBe(true);
  else expect({ code: status?.code, reasons: status?.reasons }).toEqual({ code: StatusCode.Unschedulable, reasons: [REASON_PORTS] });
});

