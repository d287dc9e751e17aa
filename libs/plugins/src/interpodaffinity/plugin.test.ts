// Rows mirror kubernetes/kubernetes pkg/scheduler/framework/plugins/interpodaffinity:
// filtering_test.go (TestRequiredAffinitySingleNode) and scoring_test.go (TestPreferredAffinity,
// TestPreferredAffinityWithHardPodAffinitySymmetricWeight).
import { describe, expect, test } from '@jest/globals';
import { PluginNames, StatusCode } from '@schedmesh/framework';
import type { PodAffinityTerm } from '@schedmesh/proto/v1/types';
import { snapshotOf } from '@schedmesh/scheduling';
import { affinityTerm, doesNotExistReq, existsReq, filterEach, inReq, namespace, node, notInReq, pod, preScoreSkips, scoreEach, selector, singlePluginFramework } from '../testing/index.js';
import type { NodeBuilder, PodBuilder } from '../testing/index.js';
import { REASON_AFFINITY_RULES_NOT_MATCH, REASON_ANTI_AFFINITY_RULES_NOT_MATCH, REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH } from './plugin.js';

const NAME = PluginNames.InterPodAffinity;
const term = (topologyKey: string, ...reqs: Parameters<typeof selector>[1][]) => affinityTerm(topologyKey, selector({}, ...reqs));
const withTerms = (b: PodBuilder, affinity: PodAffinityTerm[], anti: PodAffinityTerm[] = []) => {
  for (const t of affinity) b.podAffinity('required', t);
  for (const t of anti) b.podAntiAffinity('required', t);
  return b;
};

describe('InterPodAffinity Filter (TestRequiredAffinitySingleNode)', () => {
  const node1 = () => node('machine1').label('region', 'r1').label('zone', 'z11');
  const securityscan = (name: string, nodeName: string) => pod(name).node(nodeName).label('service', 'securityscan');
  const incoming = (labels: Record<string, string>) => Object.entries(labels).reduce((b, [k, v]) => b.label(k, v), pod('p'));
  const podLabel = { service: 'securityscan' };
  const podLabel2 = { security: 'S1' };
  type Want = [StatusCode, string] | undefined;
  test.each<[string, PodBuilder, PodBuilder[], Want]>([
    ['A pod that has no required pod affinity scheduling rules can schedule onto a node with no existing pods', pod('p'), [], undefined],
    [
      'satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In operator that matches the existing pod',
      withTerms(incoming(podLabel2), [term('region', inReq('service', 'securityscan', 'value2'))]),
      [securityscan('e', 'machine1')],
      undefined,
    ],
    [
      'satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using not in operator in labelSelector that matches the existing pod',
      withTerms(incoming(podLabel2), [term('region', notInReq('service', 'securityscan3', 'value3'))]),
      [securityscan('e', 'machine1')],
      undefined,
    ],
    [
      'Does not satisfy the PodAffinity with labelSelector because of diff Namespace',
      withTerms(incoming(podLabel2), [affinityTerm('region', selector({}, inReq('service', 'securityscan', 'value2')), { namespaces: ['DiffNameSpace'] })]),
      [pod('e', 'ns').node('machine1').label('service', 'securityscan')],
      [StatusCode.UnschedulableAndUnresolvable, REASON_AFFINITY_RULES_NOT_MATCH],
    ],
    [
      "Doesn't satisfy the PodAffinity because of unmatching labelSelector with the existing pod",
      withTerms(incoming(podLabel), [term('region', inReq('service', 'antivirusscan', 'value2'))]),
      [securityscan('e', 'machine1')],
      [StatusCode.UnschedulableAndUnresolvable, REASON_AFFINITY_RULES_NOT_MATCH],
    ],
    [
      'satisfies the PodAffinity with different label Operators in multiple RequiredDuringSchedulingIgnoredDuringExecution ',
      withTerms(incoming(podLabel2), [term('region', existsReq('service'), doesNotExistReq('wrongkey')), term('region', inReq('service', 'securityscan'), notInReq('service', 'WrongValue'))]),
      [securityscan('e', 'machine1')],
      undefined,
    ],
    [
      "The labelSelector requirements(items of matchExpressions) are ANDed, the pod cannot schedule onto the node because one of the matchExpression item don't match.",
      withTerms(incoming(podLabel2), [term('region', existsReq('service'), doesNotExistReq('wrongkey')), term('region', inReq('service', 'securityscan2'), notInReq('service', 'WrongValue'))]),
      [securityscan('e', 'machine1')],
      [StatusCode.UnschedulableAndUnresolvable, REASON_AFFINITY_RULES_NOT_MATCH],
    ],
    [
      'satisfies the PodAffinity and PodAntiAffinity with the existing pod',
      withTerms(incoming(podLabel2), [term('region', inReq('service', 'securityscan', 'value2'))], [term('node', inReq('service', 'antivirusscan', 'value2'))]),
      [securityscan('e', 'machine1')],
      undefined,
    ],
    [
      'satisfies the PodAffinity and PodAntiAffinity and PodAntiAffinity symmetry with the existing pod',
      withTerms(incoming(podLabel2), [term('region', inReq('service', 'securityscan', 'value2'))], [term('node', inReq('service', 'antivirusscan', 'value2'))]),
      [withTerms(securityscan('e', 'machine1'), [], [term('node', inReq('service', 'antivirusscan', 'value2'))])],
      undefined,
    ],
    [
      "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod",
      withTerms(incoming(podLabel2), [term('region', inReq('service', 'securityscan', 'value2'))], [term('zone', inReq('service', 'securityscan', 'value2'))]),
      [securityscan('e', 'machine1')],
      [StatusCode.Unschedulable, REASON_ANTI_AFFINITY_RULES_NOT_MATCH],
    ],
    [
      "satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy PodAntiAffinity symmetry with the existing pod",
      withTerms(incoming(podLabel), [term('region', inReq('service', 'securityscan', 'value2'))], [term('node', inReq('service', 'antivirusscan', 'value2'))]),
      [withTerms(securityscan('e', 'machine1'), [], [term('zone', inReq('service', 'securityscan', 'value2'))])],
      [StatusCode.Unschedulable, REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH],
    ],
    [
      'pod matches its own Label in PodAffinity and that matches the existing pod Labels',
      withTerms(incoming(podLabel), [term('region', notInReq('service', 'securityscan', 'value2'))]),
      [securityscan('e', 'machine2')],
      [StatusCode.UnschedulableAndUnresolvable, REASON_AFFINITY_RULES_NOT_MATCH],
    ],
    [
      "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. doesn't satisfy PodAntiAffinity symmetry with the existing pod",
      incoming(podLabel),
      [withTerms(securityscan('e', 'machine1'), [], [term('zone', inReq('service', 'securityscan', 'value2'))])],
      [StatusCode.Unschedulable, REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH],
    ],
    [
      'verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. satisfy PodAntiAffinity symmetry with the existing pod',
      incoming(podLabel),
      [withTerms(securityscan('e', 'machine1'), [], [term('zone', notInReq('service', 'securityscan', 'value2'))])],
      undefined,
    ],
    [
      'the first pod of a group with affinity to itself may go where no matching pod runs yet',
      withTerms(incoming(podLabel), [term('region', inReq('service', 'securityscan'))]),
      [],
      undefined,
    ],
  ])('%s', async (_name, p, existing, want) => {
    const fwk = singlePluginFramework(NAME, snapshotOf([node1().build()], existing.map((e, i) => e.uid(`e${i}`).build())));
    const status = (await filterEach(fwk, p.build())).statuses.get('machine1');
    if (want === undefined) expect(status?.isSuccess()).toBe(true);
    else expect({ code: status?.code, reasons: status?.reasons }).toEqual({ code: want[0], reasons: [want[1]] });
  });

  test('required affinity with a namespace selector counts pods of the selected namespaces', async () => {
    const nodes = [node('n1').label('region', 'r1').build(), node('n2').label('region', 'r2').build()];
    const p = pod('p', 'subteam1.team1').podAffinity('required', affinityTerm('region', selector({ service: 'db' }), { namespaceSelector: selector({ team: 'team2' }) }));
    const fwk = singlePluginFramework(
      NAME,
      snapshotOf(nodes, [pod('db', 'subteam1.team2').node('n2').label('service', 'db').build()], [namespace('subteam1.team1', { team: 'team1' }), namespace('subteam1.team2', { team: 'team2' })]),
    );
    const { statuses } = await filterEach(fwk, p.build());
    expect(statuses.get('n1')?.code).toBe(StatusCode.UnschedulableAndUnresolvable);
    expect(statuses.get('n2')?.isSuccess()).toBe(true);
  });
});

describe('InterPodAffinity Score (TestPreferredAffinity)', () => {
  const rgChina = { region: 'China' };
  const rgIndia = { region: 'India' };
  const az1 = { az: 'az1' };
  const az2 = { az: 'az2' };
  const rgChinaAz1 = { region: 'China', az: 'az1' };
  const s1 = { security: 'S1' };
  const s2 = { security: 'S2' };
  const stayWithS1InRegion = (b: PodBuilder) => b.podAffinity('preferred', term('region', inReq('security', 'S1')), 5);
  const stayWithS2InRegion = (b: PodBuilder) => b.podAffinity('preferred', term('region', inReq('security', 'S2')), 6);
  const affinity3 = (b: PodBuilder) =>
    b.podAffinity('preferred', term('region', notInReq('security', 'S1'), inReq('security', 'S2')), 8).podAffinity('preferred', term('region', existsReq('security'), doesNotExistReq('wrongkey')), 2);
  const hardAffinity = (b: PodBuilder) => b.podAffinity('required', term('region', inReq('security', 'S1', 'value2'))).podAffinity('required', term('region', existsReq('security'), doesNotExistReq('wrongkey')));
  const awayFromS1InAz = (b: PodBuilder) => b.podAntiAffinity('preferred', term('az', inReq('security', 'S1')), 5);
  const awayFromS2InAz = (b: PodBuilder) => b.podAntiAffinity('preferred', term('az', inReq('security', 'S2')), 5);
  const stayWithS1InRegionAwayFromS2InAz = (b: PodBuilder) => b.podAffinity('preferred', term('region', inReq('security', 'S1')), 8).podAntiAffinity('preferred', term('az', inReq('security', 'S2')), 5);
  const labelled = (b: PodBuilder, labels: Record<string, string>) => Object.entries(labels).reduce((acc, [k, v]) => acc.label(k, v), b);
  const on = (i: number, nodeName: string, labels: Record<string, string> = {}, aff?: (b: PodBuilder) => PodBuilder) => {
    const b = labelled(pod(`e${i}`).node(nodeName), labels);
    return aff === undefined ? b : aff(b);
  };
  const nodes = (...specs: [string, Record<string, string>][]): NodeBuilder[] => specs.map(([n, labels]) => Object.entries(labels).reduce((b, [k, v]) => b.label(k, v), node(n)));

  test.each<[string, PodBuilder, PodBuilder[], NodeBuilder[], number[], unknown]>([
    [
      'Affinity: pod that matches topology key & pods in nodes will get high score comparing to otherswhich doesn\'t match either pods in nodes or in topology key',
      stayWithS1InRegion(labelled(pod('p'), s1)),
      [on(1, 'node1', s1), on(2, 'node2', s2), on(3, 'node3', s1)],
      nodes(['node1', rgChina], ['node2', rgIndia], ['node3', az1]),
      [100, 0, 0],
      undefined,
    ],
    [
      'All the nodes that have the same topology key & label value with one of them has an existing pod that match the affinity rules, have the same score',
      stayWithS1InRegion(pod('p')),
      [on(1, 'node1', s1)],
      nodes(['node1', rgChina], ['node2', rgChinaAz1], ['node3', rgIndia]),
      [100, 100, 0],
      undefined,
    ],
    [
      'Affinity: nodes in one region has more matching pods comparing to other region, so the region which has more matches will get high score',
      stayWithS2InRegion(labelled(pod('p'), s1)),
      [on(1, 'node1', s2), on(2, 'node1', s2), on(3, 'node2', s2), on(4, 'node3', s2), on(5, 'node4', s2), on(6, 'node5', s2)],
      nodes(['node1', rgChina], ['node2', rgIndia], ['node3', rgChina], ['node4', rgChina], ['node5', rgIndia]),
      [100, 0, 100, 100, 0],
      undefined,
    ],
    [
      'Affinity: different Label operators and values for pod affinity scheduling preference, including some match failures ',
      affinity3(labelled(pod('p'), s1)),
      [on(1, 'node1', s1), on(2, 'node2', s2), on(3, 'node3', s1)],
      nodes(['node1', rgChina], ['node2', rgIndia], ['node3', az1]),
      [20, 100, 0],
      undefined,
    ],
    [
      'Affinity symmetry: considered only the preferredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry',
      labelled(pod('p'), s2),
      [on(1, 'node1', s1, stayWithS1InRegion), on(2, 'node2', s2, stayWithS2InRegion)],
      nodes(['node1', rgChina], ['node2', rgIndia], ['node3', az1]),
      [0, 100, 0],
      undefined,
    ],
    [
      'Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry',
      labelled(pod('p'), s1),
      [on(1, 'node1', s1, hardAffinity), on(2, 'node2', s2, hardAffinity)],
      nodes(['node1', rgChina], ['node2', rgIndia], ['node3', az1]),
      [100, 100, 0],
      undefined,
    ],
    [
      'Anti Affinity: pod that does not match existing pods in node will get high score ',
      awayFromS1InAz(labelled(pod('p'), s1)),
      [on(1, 'node1', s1), on(2, 'node2', s2)],
      nodes(['node1', az1], ['node2', rgChina]),
      [0, 100],
      undefined,
    ],
    [
      'Anti Affinity: one node has more matching pods comparing to other node, so the node which has more unmatches will get high score',
      awayFromS1InAz(labelled(pod('p'), s1)),
      [on(1, 'node1', s1), on(2, 'node1', s1), on(3, 'node2', s2)],
      nodes(['node1', az1], ['node2', rgIndia]),
      [0, 100],
      undefined,
    ],
    [
      'Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score',
      labelled(pod('p'), s2),
      [on(1, 'node1', s1, awayFromS2InAz), on(2, 'node2', s2, awayFromS1InAz)],
      nodes(['node1', az1], ['node2', az2]),
      [0, 100],
      undefined,
    ],
    [
      'Affinity and Anti Affinity: considering both affinity and anti-affinity, the pod to schedule and existing pods have the same labels',
      stayWithS1InRegionAwayFromS2InAz(labelled(pod('p'), s1)),
      [on(1, 'node1', s1), on(2, 'node1', s1), on(3, 'node2', s1), on(4, 'node3', s1), on(5, 'node3', s1), on(6, 'node4', s1), on(7, 'node5', s1)],
      nodes(['node1', rgChinaAz1], ['node2', rgIndia], ['node3', rgChina], ['node4', rgChina], ['node5', rgIndia]),
      [100, 0, 100, 100, 0],
      undefined,
    ],
    [
      'Affinity and Anti Affinity and symmetry: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity & symmetry',
      stayWithS1InRegionAwayFromS2InAz(labelled(pod('p'), s1)),
      [on(1, 'node1', s1), on(2, 'node2', s2), on(3, 'node3', {}, stayWithS1InRegionAwayFromS2InAz), on(4, 'node4', {}, awayFromS1InAz)],
      nodes(['node1', rgChina], ['node2', az1], ['node3', rgIndia], ['node4', az2]),
      [100, 0, 100, 0],
      undefined,
    ],
    [
      'Avoid panic when partial nodes in a topology don\'t have pods with affinity',
      labelled(pod('p'), s1),
      [on(1, 'node1', s1), on(2, 'node2', {}, stayWithS1InRegionAwayFromS2InAz)],
      nodes(['node1', rgChina], ['node2', rgChina]),
      [0, 0],
      undefined,
    ],
    [
      // TestPreferredAffinityWithHardPodAffinitySymmetricWeight: hardPodAffinityWeight 0 ignores existing pods' required affinity.
      'Hard Pod Affinity symmetry: hard pod affinity symmetry weights 0 by default, then nodes that match the hard pod affinity symmetry rules, get same score with those not match',
      labelled(pod('p'), s1),
      [on(1, 'node1', s1, hardAffinity), on(2, 'node2', s2, hardAffinity)],
      nodes(['node1', rgChina], ['node2', rgIndia], ['node3', az1]),
      [0, 0, 0],
      { hardPodAffinityWeight: 0 },
    ],
  ])('%s', async (_name, incoming, existing, ns, want, args) => {
    const fwk = singlePluginFramework(NAME, snapshotOf(ns.map((n) => n.build()), existing.map((e) => e.build())), args);
    expect((await scoreEach(fwk, incoming.build(), ns.map((n) => n.build().name))).map((s) => s.score)).toEqual(want);
  });

  test('all nodes are same priority as Affinity is nil: PreScore skips', async () => {
    const fwk = singlePluginFramework(NAME, snapshotOf(nodes(['node1', rgChina], ['node2', rgIndia]).map((n) => n.build())));
    expect(await preScoreSkips(fwk, labelled(pod('p'), s1).build())).toBe(true);
  });
});
