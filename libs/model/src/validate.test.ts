import { describe, expect, test } from '@jest/globals';
import { Pod, SelectorOperator, TolerationOperator, UnsatisfiableConstraintAction } from '@schedmesh/proto/v1/types';
import type { DeepPartial, LabelSelector, PodAffinityTerm, PodGroup, Resources } from '@schedmesh/proto/v1/types';
import {
  MAX_POD_GROUP_MIN_MEMBER,
  MAX_REQUEST_AMOUNT,
  namespaceNameProblem,
  nodeNameProblem,
  podGroupProblem,
  podUidProblem,
  requestsProblem,
  validatePod,
} from './validate.js';

const selector = (matchLabels: Record<string, string> = {}): LabelSelector => ({ matchLabels, matchExpressions: [] });
const term = (topologyKey: string, labelSelector: LabelSelector): PodAffinityTerm => ({ topologyKey, labelSelector, namespaces: [], namespaceSelector: undefined });
const spread = (maxSkew: number, extra: DeepPartial<Pod['topologySpreadConstraints'][number]> = {}) => ({
  maxSkew,
  topologyKey: 'zone',
  whenUnsatisfiable: UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_DO_NOT_SCHEDULE,
  labelSelector: selector({ app: 'web' }),
  ...extra,
});
/** A valid pod, with fields overridden. */
const pod = (fields: DeepPartial<Pod> = {}): Pod => Pod.fromPartial({ uid: 'uid-p', name: 'p', namespace: 'default', labels: { app: 'web' }, ...fields });

describe('validatePod', () => {
  test('a valid pod has no problems', () => {
    expect(validatePod(pod({ topologySpreadConstraints: [spread(1)] }))).toEqual([]);
  });

  test('problems are plain values under the path given', () => {
    const problems = validatePod(pod({ uid: '', topologySpreadConstraints: [spread(1, { labelSelector: selector({ 'bad key!': 'x' }) })] }), 'request.pod');
    expect(problems).toEqual([
      { field: 'request.pod.uid', reason: 'must not be empty' },
      { field: 'request.pod.topologySpreadConstraints[0].labelSelector.matchLabels[bad key!]', reason: expect.stringContaining('name part') },
    ]);
    for (const p of problems) expect(p).not.toBeInstanceOf(Error);
  });

  test.each<[string, DeepPartial<Pod>, string]>([
    ['no uid', { uid: '' }, 'pod.uid'],
    ['no name', { name: '' }, 'pod.name'],
    ['no namespace', { namespace: '' }, 'pod.namespace'],
    ['a namespace that is no DNS-1123 label', { namespace: 'Not_A_Namespace' }, 'pod.namespace'],
    ['a node selector key that is no label key', { nodeSelector: { '-zone': 'a' } }, 'pod.nodeSelector[-zone]'],
    [
      'an unspecified operator in a required node affinity term',
      { affinity: { nodeAffinity: { required: { terms: [{ matchExpressions: [{ key: 'zone', operator: SelectorOperator.SELECTOR_OPERATOR_UNSPECIFIED, values: ['a'] }] }] } } } },
      'pod.affinity.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator',
    ],
    [
      'a preferred node affinity term of weight 0',
      { affinity: { nodeAffinity: { preferred: [{ weight: 0, preference: { matchExpressions: [] } }] } } },
      'pod.affinity.nodeAffinity.preferred[0].weight',
    ],
    [
      'Gt in a pod affinity label selector',
      { affinity: { podAffinity: { required: [term('zone', { matchLabels: {}, matchExpressions: [{ key: 'n', operator: SelectorOperator.SELECTOR_OPERATOR_GT, values: ['1'] }] })] } } },
      'pod.affinity.podAffinity.required[0].labelSelector.matchExpressions[0].operator',
    ],
    ['an empty topology key', { affinity: { podAntiAffinity: { preferred: [{ weight: 5, term: term('', selector()) }] } } }, 'pod.affinity.podAntiAffinity.preferred[0].term.topologyKey'],
    ['a preferred pod affinity term without its term', { affinity: { podAffinity: { preferred: [{ weight: 5 }] } } }, 'pod.affinity.podAffinity.preferred[0].term'],
    ['an Exists toleration with a value', { tolerations: [{ key: 'k', operator: TolerationOperator.TOLERATION_OPERATOR_EXISTS, value: 'v' }] }, 'pod.tolerations[0].value'],
    ['maxSkew 0', { topologySpreadConstraints: [spread(0)] }, 'pod.topologySpreadConstraints[0].maxSkew'],
    [
      'minDomains with ScheduleAnyway',
      { topologySpreadConstraints: [spread(1, { minDomains: 2, whenUnsatisfiable: UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_SCHEDULE_ANYWAY })] },
      'pod.topologySpreadConstraints[0].minDomains',
    ],
    ['a bad host port', { hostPorts: [{ port: 70000 }] }, 'pod.hostPorts[0].port'],
  ])('%s', (_name, fields, field) => {
    expect(validatePod(pod(fields)).map((e) => e.field)).toContain(field);
  });
});

describe('identity problems', () => {
  test.each<[string, (v: string) => string | undefined, string, string | undefined]>([
    ['namespace', namespaceNameProblem, 'team-a', undefined],
    ['namespace', namespaceNameProblem, '', 'must not be empty'],
    ['namespace', namespaceNameProblem, 'Team_A', '"Team_A" is not a namespace name (a DNS-1123 label)'],
    ['pod uid', podUidProblem, '9f1c2a6e-3b0d-4c1e-9d55-0c6b8f2e7a11', undefined],
    ['pod uid', podUidProblem, 'uid:a.b_c', undefined],
    ['pod uid', podUidProblem, '', 'must not be empty'],
    ['pod uid', podUidProblem, 'a{b}', 'not a valid pod uid: "a{b}"'],
    ['pod uid', podUidProblem, 'a-', 'not a valid pod uid: "a-"'],
    ['pod uid', podUidProblem, 'a'.repeat(129), `not a valid pod uid: "${'a'.repeat(64)}"`],
    ['node name', nodeNameProblem, 'ip-10-0-3-17.eu-west-1.compute.internal', undefined],
    ['node name', nodeNameProblem, '', 'must not be empty'],
    ['node name', nodeNameProblem, 'Node_1', 'not a valid node name: "Node_1"'],
    ['node name', nodeNameProblem, 'n..1', 'not a valid node name: "n..1"'],
  ])('%s %j', (_what, problem, value, reason) => {
    expect(problem(value)).toBe(reason);
  });
});

describe('requestsProblem', () => {
  const requests = (r: DeepPartial<Resources>): Resources => ({ milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, ...r, scalar: { ...(r.scalar as Record<string, number>) } });

  test.each<[string, DeepPartial<Resources>]>([
    ['nothing', {}],
    ['the core resources and a pod', { milliCpu: 500, memory: 2 ** 30, ephemeralStorage: 1, pods: 1 }],
    ['extended resources and huge pages', { scalar: { 'nvidia.com/gpu': 1, 'hugepages-2Mi': 2 ** 21 } }],
    ['the largest amount', { memory: MAX_REQUEST_AMOUNT }],
  ])('%s: valid', (_name, r) => {
    expect(requestsProblem(requests(r))).toBeUndefined();
  });

  test.each<[string, DeepPartial<Resources>, string, string]>([
    ['negative cpu', { milliCpu: -1 }, 'requests.milli_cpu', 'must not be negative, got -1'],
    ['fractional memory', { memory: 1.5 }, 'requests.memory', 'must be an integer, got 1.5'],
    ['absurd storage', { ephemeralStorage: MAX_REQUEST_AMOUNT + 1 }, 'requests.ephemeral_storage', `${MAX_REQUEST_AMOUNT + 1} is absurd: at most 2^50 per pod`],
    ['two pods', { pods: 2 }, 'requests.pods', 'a pod counts as one pod: leave it 0 or 1, got 2'],
    ['a core name as a scalar', { scalar: { cpu: 1 } }, 'requests.scalar["cpu"]', expect.stringContaining('not a valid extended resource name') as unknown as string],
    ['a name the wire encoding could not carry', { scalar: { 'a=b;c': 1 } }, 'requests.scalar["a=b;c"]', expect.stringContaining('not a valid') as unknown as string],
    ['a negative scalar', { scalar: { 'nvidia.com/gpu': -1 } }, 'requests.scalar["nvidia.com/gpu"]', 'must not be negative, got -1'],
  ])('%s', (_name, r, field, reason) => {
    expect(requestsProblem(requests(r))).toEqual({ field, reason });
  });

  test('the path prefixes the field', () => {
    expect(requestsProblem(requests({ pods: 3 }), 'pod.requests')?.field).toBe('pod.requests.pods');
  });
});

describe('podGroupProblem', () => {
  const group = (g: Partial<PodGroup>): PodGroup => ({ name: 'g', minMember: 2, scheduleTimeoutSeconds: 0, ...g });

  test.each<[string, Partial<PodGroup>]>([
    ['a gang of two', {}],
    ['the largest gang, the longest timeout', { minMember: MAX_POD_GROUP_MIN_MEMBER, scheduleTimeoutSeconds: 900 }],
    ['a name with dots and underscores', { name: 'train_job.v2' }],
  ])('%s: valid', (_name, g) => {
    expect(podGroupProblem(group(g))).toBeUndefined();
  });

  test.each<[string, Partial<PodGroup>, string]>([
    ['no name', { name: '' }, 'pod_group.name'],
    ['a name with a hash tag', { name: 'g{1}' }, 'pod_group.name'],
    ['a name with white space', { name: 'my gang' }, 'pod_group.name'],
    ['a name longer than a label value', { name: 'g'.repeat(64) }, 'pod_group.name'],
    ['zero members', { minMember: 0 }, 'pod_group.min_member'],
    ['negative members', { minMember: -3 }, 'pod_group.min_member'],
    ['too many members', { minMember: MAX_POD_GROUP_MIN_MEMBER + 1 }, 'pod_group.min_member'],
    ['a negative timeout', { scheduleTimeoutSeconds: -1 }, 'pod_group.schedule_timeout_seconds'],
    ['a timeout beyond 15 minutes', { scheduleTimeoutSeconds: 901 }, 'pod_group.schedule_timeout_seconds'],
  ])('%s', (_name, g, field) => {
    expect(podGroupProblem(group(g))?.field).toBe(field);
  });

  test('the path prefixes the field', () => {
    expect(podGroupProblem(group({ minMember: 0 }), 'request.pod_group')?.field).toBe('request.pod_group.min_member');
  });
});
