// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/nodeaffinity/node_affinity_test.go
// (TestNodeAffinity for Filter/PreFilter, TestNodeAffinityPriority for Score).
import { describe, expect, test } from '@jest/globals';
import { PluginNames, StatusCode } from '@schedmesh/framework';
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import type { SelectorRequirement } from '@schedmesh/proto/v1/types';
import { snapshotOf } from '@schedmesh/scheduling';
import { inTreeRegistry } from '../registry.js';
import { existsReq, filterEach, inReq, node, notInReq, pod, preScoreSkips, scoreEach, singlePluginFramework } from '../testing/index.js';
import type { PodBuilder } from '../testing/index.js';
import { REASON_CONFLICT, REASON_ENFORCED, REASON_POD } from './plugin.js';

const NAME = PluginNames.NodeAffinity;
const gt = (key: string, v: string): SelectorRequirement => ({ key, operator: SelectorOperator.SELECTOR_OPERATOR_GT, values: [v] });
const nameIn = (...names: string[]): SelectorRequirement => ({ key: 'metadata.name', operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: names });

interface FilterRow {
  pod: PodBuilder;
  labels: Record<string, string>;
  nodeName?: string;
  want: StatusCode;
  reason?: string;
  preFilterNodes?: string[];
  args?: unknown;
}

describe('NodeAffinity Filter and PreFilter', () => {
  test.each<[string, FilterRow]>([
    ['no selector', { pod: pod('p'), labels: {}, want: StatusCode.Success }],
    ['missing labels', { pod: pod('p').nodeSelector('foo', 'bar'), labels: {}, want: StatusCode.UnschedulableAndUnresolvable, reason: REASON_POD }],
    ['same labels', { pod: pod('p').nodeSelector('foo', 'bar'), labels: { foo: 'bar' }, want: StatusCode.Success }],
    ['node labels are superset', { pod: pod('p').nodeSelector('foo', 'bar'), labels: { foo: 'bar', baz: 'blah' }, want: StatusCode.Success }],
    ['node labels are subset', { pod: pod('p').nodeSelector('foo', 'bar').nodeSelector('baz', 'blah'), labels: { foo: 'bar' }, want: StatusCode.UnschedulableAndUnresolvable, reason: REASON_POD }],
    [
      'Pod with matchExpressions using In operator that matches the existing node',
      { pod: pod('p').requiredNodeTerm({ matchExpressions: [inReq('foo', 'bar', 'value2')] }), labels: { foo: 'bar' }, want: StatusCode.Success },
    ],
    [
      'Pod with matchExpressions using Gt operator that matches the existing node',
      { pod: pod('p').requiredNodeTerm({ matchExpressions: [gt('kernel-version', '0204')] }), labels: { 'kernel-version': '0206' }, want: StatusCode.Success },
    ],
    [
      'Pod with matchExpressions using NotIn operator that matches the existing node',
      { pod: pod('p').requiredNodeTerm({ matchExpressions: [notInReq('mem-type', 'DDR', 'DDR2')] }), labels: { 'mem-type': 'DDR3' }, want: StatusCode.Success },
    ],
    [
      'Pod with matchExpressions using Exists operator that matches the existing node',
      { pod: pod('p').requiredNodeTerm({ matchExpressions: [existsReq('GPU')] }), labels: { GPU: 'NVIDIA-GRID-K1' }, want: StatusCode.Success },
    ],
    [
      "Pod with affinity that don't match node's labels won't schedule onto the node",
      { pod: pod('p').requiredNodeTerm({ matchExpressions: [inReq('foo', 'value1', 'value2')] }), labels: { foo: 'bar' }, want: StatusCode.UnschedulableAndUnresolvable, reason: REASON_POD },
    ],
    [
      'Pod with empty MatchExpressions is not a valid value will match no objects and won\'t schedule onto the node',
      { pod: pod('p').requiredNodeTerm({}), labels: { foo: 'bar' }, want: StatusCode.UnschedulableAndUnresolvable, reason: REASON_POD },
    ],
    [
      'Pod with affinity that matches node\'s labels but the nodeSelector doesn\'t',
      { pod: pod('p').nodeSelector('foo', 'bar').requiredNodeTerm({ matchExpressions: [existsReq('GPU')] }), labels: { GPU: 'NVIDIA-GRID-K1' }, want: StatusCode.UnschedulableAndUnresolvable, reason: REASON_POD },
    ],
    [
      'Pod with matchFields using In operator that matches the existing node',
      { pod: pod('p').requiredNodeTerm({ matchFields: [nameIn('node1')] }), labels: {}, nodeName: 'node1', want: StatusCode.Success, preFilterNodes: ['node1'] },
    ],
    [
      'Pod with matchFields using In operator that does not match the existing node',
      { pod: pod('p').requiredNodeTerm({ matchFields: [nameIn('node1')] }), labels: {}, nodeName: 'node2', want: StatusCode.UnschedulableAndUnresolvable, reason: REASON_POD, preFilterNodes: ['node1'] },
    ],
    [
      'Pod with two terms: matchFields does not match, but matchExpressions matches',
      {
        pod: pod('p').requiredNodeTerm({ matchFields: [nameIn('node1')] }).requiredNodeTerm({ matchExpressions: [inReq('foo', 'bar')] }),
        labels: { foo: 'bar' },
        nodeName: 'node2',
        want: StatusCode.Success,
      },
    ],
    [
      'Pod with one term: matchFields does not match, but matchExpressions matches',
      {
        pod: pod('p').requiredNodeTerm({ matchFields: [nameIn('node1')], matchExpressions: [inReq('foo', 'bar')] }),
        labels: { foo: 'bar' },
        nodeName: 'node2',
        want: StatusCode.UnschedulableAndUnresolvable,
        reason: REASON_POD,
        preFilterNodes: ['node1'],
      },
    ],
    [
      'Pod with two terms: both matchFields and matchExpressions match',
      {
        pod: pod('p').requiredNodeTerm({ matchFields: [nameIn('node1')] }).requiredNodeTerm({ matchFields: [nameIn('node2')] }),
        labels: {},
        nodeName: 'node1',
        want: StatusCode.Success,
        preFilterNodes: ['node1', 'node2'],
      },
    ],
    [
      'Pod with one term: both matchFields name requirements conflict',
      { pod: pod('p').requiredNodeTerm({ matchFields: [nameIn('node1'), nameIn('node2')] }), labels: {}, nodeName: 'node1', want: StatusCode.UnschedulableAndUnresolvable, reason: REASON_CONFLICT },
    ],
    [
      'Matches added affinity and Pod\'s node affinity',
      {
        pod: pod('p').requiredNodeTerm({ matchExpressions: [inReq('zone', 'foo')] }),
        labels: { zone: 'foo' },
        want: StatusCode.Success,
        args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['foo'] }] }] } } },
      },
    ],
    [
      'Matches nodeSelector but not added affinity',
      {
        pod: pod('p').nodeSelector('zone', 'foo'),
        labels: { zone: 'foo' },
        want: StatusCode.UnschedulableAndUnresolvable,
        reason: REASON_ENFORCED,
        args: { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['bar'] }] }] } } },
      },
    ],
  ])('%s', async (_name, row) => {
    const nodeName = row.nodeName ?? 'node1';
    const n = Object.entries(row.labels).reduce((b, [k, v]) => b.label(k, v), node(nodeName)).build();
    const fwk = singlePluginFramework(NAME, snapshotOf([n]), row.args);
    const { preFilter, statuses, nodeNames } = await filterEach(fwk, row.pod.build());
    const status = preFilter.isSuccess() ? statuses.get(nodeName) : preFilter;
    expect(status?.code).toBe(row.want);
    if (row.reason !== undefined) expect(status?.reasons).toEqual([row.reason]);
    expect(nodeNames === undefined ? undefined : [...nodeNames].sort()).toEqual(row.preFilterNodes);
  });
});

describe('NodeAffinity Score', () => {
  const label1 = { foo: 'bar' };
  const label2 = { key: 'value' };
  const label3 = { az: 'az1' };
  const label4 = { abc: 'az11', def: 'az22' };
  const label5 = { foo: 'bar', key: 'value', az: 'az1' };
  const affinity1 = (b: PodBuilder) => b.preferredNodeTerm(2, { matchExpressions: [inReq('foo', 'bar')] });
  const affinity2 = (b: PodBuilder) =>
    b
      .preferredNodeTerm(2, { matchExpressions: [inReq('foo', 'bar')] })
      .preferredNodeTerm(4, { matchExpressions: [inReq('key', 'value')] })
      .preferredNodeTerm(5, { matchExpressions: [inReq('foo', 'bar'), inReq('key', 'value'), inReq('az', 'az1')] });
  const nodes = (...specs: [string, Record<string, string>][]) => specs.map(([name, labels]) => Object.entries(labels).reduce((b, [k, v]) => b.label(k, v), node(name)).build());

  test.each<[string, PodBuilder, [string, Record<string, string>][], number[], unknown]>([
    ['all nodes are same priority as NodeAffinity is nil', pod('p'), [['node1', label1], ['node2', label2], ['node3', label3]], [0, 0, 0], undefined],
    ["no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' priority is zero", affinity1(pod('p')), [['node1', label4], ['node2', label2], ['node3', label3]], [0, 0, 0], undefined],
    ['only node1 matches the preferred scheduling requirements of pod', affinity1(pod('p')), [['node1', label1], ['node2', label2], ['node3', label3]], [100, 0, 0], undefined],
    ['all nodes matches the preferred scheduling requirements of pod but with different priorities ', affinity2(pod('p')), [['node1', label1], ['node5', label5], ['node2', label2]], [18, 100, 36], undefined],
    [
      'added affinity',
      pod('p'),
      [['node1', label1], ['node2', label2]],
      [100, 0],
      { addedAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 2, preference: { matchExpressions: [{ key: 'foo', operator: 'In', values: ['bar'] }] } }] } },
    ],
    [
      'added affinity and pod has default affinity',
      affinity1(pod('p')),
      [['node1', label1], ['node2', label2], ['node3', label5]],
      [40, 60, 100],
      { addedAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 3, preference: { matchExpressions: [{ key: 'key', operator: 'In', values: ['value'] }] } }] } },
    ],
  ])('%s', async (_name, p, specs, want, args) => {
    const fwk = singlePluginFramework(NAME, snapshotOf(nodes(...specs)), args);
    expect((await scoreEach(fwk, p.build())).map((s) => s.score)).toEqual(want);
  });

  test('Skip is returned in PreScore when NodeAffinity is nil', async () => {
    const fwk = singlePluginFramework(NAME, snapshotOf(nodes(['node1', label1])));
    expect(await preScoreSkips(fwk, pod('p').build())).toBe(true);
  });
});

describe('NodeAffinityArgs', () => {
  test.each<[string, unknown, string]>([
    ['unknown operator', { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Near', values: ['x'] }] }] } } }, 'addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.operator'],
    ['no terms', { addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } }, 'addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms'],
    ['weight out of range', { addedAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: {} }] } }, 'addedAffinity.preferredDuringSchedulingIgnoredDuringExecution.0.weight'],
    ['unknown field', { addedAffinities: {} }, ''],
  ])('%s', (_name, args, path) => {
    const issues = inTreeRegistry().get(NAME)?.validateArgs(args) ?? [];
    expect(issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
