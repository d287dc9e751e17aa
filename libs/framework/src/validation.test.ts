import { expect, test } from '@jest/globals';
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import { affinityTerm, pod, selector } from './testing/index.js';
import { validatePod } from './validation.js';

test('a valid pod has no problems', () => {
  expect(validatePod(pod('p').label('app', 'web').spread(1, 'zone', 'DoNotSchedule', selector({ app: 'web' })).build())).toEqual([]);
});

test.each<[string, ReturnType<ReturnType<typeof pod>['build']>, string]>([
  ['no uid', pod('p').uid('').build(), 'pod.uid'],
  [
    'an unspecified operator in a required node affinity term',
    pod('p').requiredNodeTerm({ matchExpressions: [{ key: 'zone', operator: SelectorOperator.SELECTOR_OPERATOR_UNSPECIFIED, values: ['a'] }] }).build(),
    'pod.affinity.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator',
  ],
  [
    'Gt in a pod affinity label selector',
    pod('p').podAffinity('required', affinityTerm('zone', { matchLabels: {}, matchExpressions: [{ key: 'n', operator: SelectorOperator.SELECTOR_OPERATOR_GT, values: ['1'] }] })).build(),
    'pod.affinity.podAffinity.required[0].labelSelector.matchExpressions[0].operator',
  ],
  ['an empty topology key', pod('p').podAntiAffinity('preferred', affinityTerm('', selector()), 5).build(), 'pod.affinity.podAntiAffinity.preferred[0].term.topologyKey'],
  ['maxSkew 0', pod('p').spread(0, 'zone', 'DoNotSchedule', selector()).build(), 'pod.topologySpreadConstraints[0].maxSkew'],
  ['a bad host port', pod('p').hostPort(70000).build(), 'pod.hostPorts[0].port'],
])('%s', (_name, p, field) => {
  expect(validatePod(p).map((e) => e.field)).toContain(field);
});
