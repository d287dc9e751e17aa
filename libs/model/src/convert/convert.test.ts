import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { loadYaml } from '@kubernetes/client-node';
import type { V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import {
  NodeInclusionPolicy,
  PodPhase,
  PreemptionPolicy,
  Protocol,
  SelectorOperator,
  TaintEffect,
  TolerationOperator,
  UnsatisfiableConstraintAction,
} from '@schedmesh/proto/v1/types';
import type { Node, Pod } from '@schedmesh/proto/v1/types';
import fc from 'fast-check';
import { EdgeError } from './edge.js';
import { convertNamespace } from './namespace.js';
import { convertNode } from './node.js';
import { convertPod } from './pod.js';

const Ki = 1024;
const Mi = 1024 * Ki;
const Gi = 1024 * Mi;

/** A fresh copy of a fixture, as the API server serves it. */
function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(__dirname, '..', 'testdata', name), 'utf8')) as Record<string, unknown>;
}

type Path = readonly (string | number)[];
const DELETE = Symbol('delete');

/**
 * Sets (or deletes) the value at path inside a JSON document, creating objects
 * on the way; does nothing where an earlier change left a primitive.
 */
function setAt(doc: unknown, path: Path, value: unknown): void {
  let node = doc;
  for (let i = 0; i < path.length - 1; i++) {
    if (typeof node !== 'object' || node === null) return;
    const key = path[i] as string | number;
    const holder = node as Record<string | number, unknown>;
    if (holder[key] === undefined || holder[key] === null) holder[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = holder[key];
  }
  if (typeof node !== 'object' || node === null) return;
  const last = path[path.length - 1] as string | number;
  const holder = node as Record<string | number, unknown>;
  if (value === DELETE) delete holder[last];
  else holder[last] = value;
}

function edgeErrorOf(fn: () => unknown): EdgeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EdgeError) return err;
    throw err;
  }
  throw new Error('expected an EdgeError');
}

const WEB_AFFINITY_TERMS = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]';

const expectedWebPod: Pod = {
  uid: '9f1c2a6e-3b0d-4c1e-9d55-0c6b8f2e7a11',
  namespace: 'shop',
  name: 'web-5d9c7b8f6d-x2k8q',
  labels: { 'app.kubernetes.io/name': 'web', 'pod-template-hash': '5d9c7b8f6d', tier: 'frontend' },
  annotations: { 'schedmesh.io/cost-center': 'cc-1234', 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' },
  resourceVersion: '4817263',
  creationTime: new Date('2025-03-14T09:26:53Z'),
  terminating: false,
  schedulerName: 'default-scheduler',
  priority: 100000,
  preemptionPolicy: PreemptionPolicy.PREEMPTION_POLICY_PREEMPT_LOWER_PRIORITY,
  nodeName: '',
  nominatedNodeName: 'ip-10-0-3-17.eu-west-1.compute.internal',
  phase: PodPhase.POD_PHASE_PENDING,
  // Regular containers and the log-shipper sidecar: 500m + 100m + 50m CPU, 768Mi + 64Mi memory;
  // the migrate init container needs 1 CPU and 512Mi; the larger of each, plus the overhead.
  requests: { milliCpu: 1010, memory: 848 * Mi, ephemeralStorage: Gi, pods: 0, scalar: {} },
  // envoy requests no memory: it counts for 200Mi.
  nonZeroRequests: { milliCpu: 1010, memory: 1048 * Mi, ephemeralStorage: Gi, pods: 0, scalar: {} },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  affinity: {
    nodeAffinity: {
      required: {
        terms: [
          {
            matchExpressions: [
              { key: 'node.kubernetes.io/instance-type', operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: ['m6i.xlarge', 'm6i.2xlarge'] },
              { key: 'schedmesh.io/generation', operator: SelectorOperator.SELECTOR_OPERATOR_GT, values: ['5'] },
            ],
            matchFields: [],
          },
        ],
      },
      preferred: [
        {
          weight: 20,
          preference: {
            matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: ['eu-west-1a'] }],
            matchFields: [],
          },
        },
      ],
    },
    podAffinity: {
      required: [
        {
          labelSelector: {
            matchLabels: {},
            matchExpressions: [{ key: 'app.kubernetes.io/name', operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: ['cache'] }],
          },
          namespaces: [],
          namespaceSelector: { matchLabels: { team: 'shop' }, matchExpressions: [] },
          topologyKey: 'topology.kubernetes.io/zone',
        },
      ],
      preferred: [],
    },
    podAntiAffinity: {
      required: [],
      preferred: [
        {
          weight: 100,
          term: {
            labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' }, matchExpressions: [] },
            namespaces: [],
            namespaceSelector: undefined,
            topologyKey: 'kubernetes.io/hostname',
          },
        },
      ],
    },
  },
  tolerations: [
    {
      key: 'node.kubernetes.io/not-ready',
      operator: TolerationOperator.TOLERATION_OPERATOR_EXISTS,
      value: '',
      effect: TaintEffect.TAINT_EFFECT_NO_EXECUTE,
      tolerationSeconds: 300,
    },
    {
      key: 'node.kubernetes.io/unreachable',
      operator: TolerationOperator.TOLERATION_OPERATOR_EXISTS,
      value: '',
      effect: TaintEffect.TAINT_EFFECT_NO_EXECUTE,
      tolerationSeconds: 300,
    },
    { key: 'dedicated', operator: TolerationOperator.TOLERATION_OPERATOR_EQUAL, value: 'shop', effect: TaintEffect.TAINT_EFFECT_NO_SCHEDULE, tolerationSeconds: undefined },
  ],
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_DO_NOT_SCHEDULE,
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' }, matchExpressions: [] },
      minDomains: 3,
      nodeAffinityPolicy: NodeInclusionPolicy.NODE_INCLUSION_POLICY_HONOR,
      nodeTaintsPolicy: NodeInclusionPolicy.NODE_INCLUSION_POLICY_IGNORE,
      matchLabelKeys: ['pod-template-hash'],
    },
    {
      maxSkew: 2,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: UnsatisfiableConstraintAction.UNSATISFIABLE_CONSTRAINT_ACTION_SCHEDULE_ANYWAY,
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' }, matchExpressions: [] },
      minDomains: undefined,
      nodeAffinityPolicy: NodeInclusionPolicy.NODE_INCLUSION_POLICY_HONOR,
      nodeTaintsPolicy: NodeInclusionPolicy.NODE_INCLUSION_POLICY_HONOR,
      matchLabelKeys: [],
    },
  ],
  hostPorts: [
    { port: 9090, protocol: Protocol.PROTOCOL_TCP, hostIp: '' },
    { port: 15001, protocol: Protocol.PROTOCOL_UDP, hostIp: '10.0.0.5' },
  ],
  volumes: [
    { name: 'config', source: { $case: 'other', value: 'configMap' }, readOnly: true },
    { name: 'cache', source: { $case: 'other', value: 'emptyDir' }, readOnly: false },
    // The sidecar mounts it read-only, the web container read-write.
    { name: 'logs', source: { $case: 'hostPath', value: { path: '/var/log/web', type: 'DirectoryOrCreate' } }, readOnly: false },
    { name: 'kube-api-access-7xk2p', source: { $case: 'other', value: 'projected' }, readOnly: true },
  ],
  images: [
    'registry.example.com/shop/web:1.42.0',
    'docker.io/envoyproxy/envoy:v1.31.2',
    'registry.example.com/shop/web-migrate:1.42.0',
    'registry.example.com/infra/fluent-bit:3.1',
  ],
  serviceAccountName: 'web',
  podGroup: undefined,
  schedulingGates: [],
  owner: 'ReplicaSet/web-5d9c7b8f6d',
};

const expectedNode: Node = {
  name: 'ip-10-0-3-17.eu-west-1.compute.internal',
  uid: 'f3a9c1d2-8e7b-4a60-b1c5-2d9e0f4a6b83',
  labels: {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'failure-domain.beta.kubernetes.io/region': 'eu-west-1',
    'failure-domain.beta.kubernetes.io/zone': 'eu-west-1a',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': 'ip-10-0-3-17.eu-west-1.compute.internal',
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': 'm6i.2xlarge',
    'topology.kubernetes.io/region': 'eu-west-1',
    'topology.kubernetes.io/zone': 'eu-west-1b',
    'schedmesh.io/rack': 'r12',
    'schedmesh.io/node-pool': 'general',
    'schedmesh.io/generation': '6',
    'example.com/pool': 'batch',
  },
  resourceVersion: '4816990',
  unschedulable: false,
  taints: [
    { key: 'dedicated', value: 'shop', effect: TaintEffect.TAINT_EFFECT_NO_SCHEDULE },
    { key: 'example.com/maintenance', value: '', effect: TaintEffect.TAINT_EFFECT_PREFER_NO_SCHEDULE },
  ],
  allocatable: {
    milliCpu: 7910,
    memory: 31391844 * Ki,
    ephemeralStorage: 95551679124,
    pods: 58,
    scalar: { 'hugepages-1Gi': 0, 'hugepages-2Mi': 0, 'nvidia.com/gpu': 1 },
  },
  capacity: {
    milliCpu: 8000,
    memory: 32408676 * Ki,
    ephemeralStorage: 104845292 * Ki,
    pods: 58,
    scalar: { 'hugepages-1Gi': 0, 'hugepages-2Mi': 0, 'nvidia.com/gpu': 1 },
  },
  conditions: [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure' },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID' },
    { type: 'Ready', status: 'True', reason: 'KubeletReady' },
  ],
  ready: true,
  images: [
    { names: ['registry.example.com/shop/web@sha256:3f5a0c1e9b7d', 'registry.example.com/shop/web:1.42.0'], sizeBytes: 187361024 },
    { names: ['docker.io/envoyproxy/envoy:v1.31.2'], sizeBytes: 65438720 },
  ],
  zone: 'eu-west-1b',
  region: 'eu-west-1',
  rack: 'r12',
  pool: 'general',
};

describe('convertPod', () => {
  test('a pod as the API server serves it', () => {
    expect(convertPod(fixture('pod-web.json'))).toEqual(expectedWebPod);
  });

  test('the same pod as a client-node V1Pod (Date timestamps, model classes)', () => {
    const v1 = loadYaml<V1Pod>(readFileSync(join(__dirname, '..', 'testdata', 'pod-web.json'), 'utf8'));
    expect(v1.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(convertPod(v1)).toEqual(expectedWebPod);
  });

  test('a bound gang member with GPUs, a claim and a deletion timestamp', () => {
    const pod = fixture('pod-web.json');
    setAt(pod, ['metadata', 'labels', 'scheduling.x-k8s.io/pod-group'], 'train-42');
    setAt(pod, ['metadata', 'annotations', 'schedmesh.io/pod-group-min-member'], '8');
    setAt(pod, ['metadata', 'annotations', 'schedmesh.io/pod-group-schedule-timeout-seconds'], '120');
    setAt(pod, ['metadata', 'deletionTimestamp'], '2025-03-14T10:00:00Z');
    setAt(pod, ['metadata', 'ownerReferences'], [{ apiVersion: 'batch/v1', kind: 'Job', name: 'train-42', uid: 'u', controller: true }]);
    setAt(pod, ['spec', 'nodeName'], 'gpu-node-7');
    setAt(pod, ['spec', 'containers', 0, 'resources', 'requests', 'nvidia.com/gpu'], '2');
    setAt(pod, ['spec', 'volumes', 4], { name: 'data', persistentVolumeClaim: { claimName: 'train-data', readOnly: true } });
    setAt(pod, ['spec', 'containers', 0, 'volumeMounts', 4], { name: 'data', mountPath: '/data' });
    setAt(pod, ['spec', 'volumes', 5], { name: 'scratch', persistentVolumeClaim: { claimName: 'scratch' } });
    setAt(pod, ['spec', 'containers', 1, 'volumeDevices'], [{ name: 'scratch', devicePath: '/dev/xvdb' }]);
    setAt(pod, ['spec', 'preemptionPolicy'], 'Never');
    setAt(pod, ['status', 'phase'], 'Running');
    setAt(pod, ['status', 'nominatedNodeName'], DELETE);
    const got = convertPod(pod);
    expect(got.podGroup).toEqual({ name: 'train-42', minMember: 8, scheduleTimeoutSeconds: 120 });
    expect(got.terminating).toBe(true);
    expect(got.owner).toBe('Job/train-42');
    expect(got.nodeName).toBe('gpu-node-7');
    expect(got.requests?.scalar).toEqual({ 'nvidia.com/gpu': 2 });
    expect(got.nonZeroRequests?.scalar).toEqual({ 'nvidia.com/gpu': 2 });
    expect(got.volumes[4]).toEqual({ name: 'data', source: { $case: 'persistentVolumeClaim', value: { claimName: 'train-data' } }, readOnly: true });
    expect(got.volumes[5]).toEqual({ name: 'scratch', source: { $case: 'persistentVolumeClaim', value: { claimName: 'scratch' } }, readOnly: false });
    expect(got.preemptionPolicy).toBe(PreemptionPolicy.PREEMPTION_POLICY_NEVER);
    expect(got.phase).toBe(PodPhase.POD_PHASE_RUNNING);
    expect(got.nominatedNodeName).toBe('');
  });

  test('a minimal pod: defaults everywhere', () => {
    const got = convertPod({
      metadata: { name: 'p', namespace: 'default', uid: 'u1', labels: { 'scheduling.x-k8s.io/pod-group': 'g' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }], schedulingGates: [{ name: 'example.com/quota' }] },
    });
    expect(got.requests).toEqual({ milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} });
    expect(got.nonZeroRequests).toEqual({ milliCpu: 100, memory: 200 * Mi, ephemeralStorage: 0, pods: 0, scalar: {} });
    expect(got.podGroup).toEqual({ name: 'g', minMember: 1, scheduleTimeoutSeconds: 0 });
    expect(got.schedulingGates).toEqual(['example.com/quota']);
    expect(got.phase).toBe(PodPhase.POD_PHASE_UNSPECIFIED);
    expect(got.preemptionPolicy).toBe(PreemptionPolicy.PREEMPTION_POLICY_PREEMPT_LOWER_PRIORITY);
    expect(got.affinity).toBeUndefined();
    expect(got.creationTime).toBeUndefined();
    expect(got.owner).toBe('');
    expect(got.images).toEqual(['busybox']);
  });

  test('quantities as JSON numbers and pod-level requests', () => {
    const got = convertPod({
      metadata: { name: 'p', namespace: 'default', uid: 'u1' },
      spec: { containers: [{ name: 'c', resources: { requests: { cpu: 0.25, memory: 1048576 } } }], resources: { requests: { cpu: '2' } } },
    });
    expect(got.requests).toEqual({ milliCpu: 2000, memory: Mi, ephemeralStorage: 0, pods: 0, scalar: {} });
  });

  test('conversion does not share state with its input', () => {
    const pod = fixture('pod-web.json');
    const got = convertPod(pod);
    setAt(pod, ['metadata', 'labels', 'tier'], 'changed');
    setAt(pod, ['spec', 'nodeSelector', 'kubernetes.io/os'], 'windows');
    expect(got.labels.tier).toBe('frontend');
    expect(got.nodeSelector['kubernetes.io/os']).toBe('linux');
  });

  // Each malformed pod is rejected with the path of its first bad field.
  const OBJECT = 'shop/web-5d9c7b8f6d-x2k8q';
  test.each<[string, Path, unknown, string]>([
    ['no name', ['metadata', 'name'], DELETE, 'metadata.name'],
    ['no uid', ['metadata', 'uid'], DELETE, 'metadata.uid'],
    ['no namespace', ['metadata', 'namespace'], DELETE, 'metadata.namespace'],
    ['an empty name', ['metadata', 'name'], '', 'metadata.name'],
    ['metadata is an array', ['metadata'], [], 'metadata'],
    ['a label of the wrong type', ['metadata', 'labels', 'tier'], 3, 'metadata.labels[tier]'],
    ['a bad creation timestamp', ['metadata', 'creationTimestamp'], 'yesterday', 'metadata.creationTimestamp'],
    ['a bad pod-group min member', ['metadata', 'labels', 'scheduling.x-k8s.io/pod-group'], 'g', ''],
    ['spec is null', ['spec'], null, 'spec'],
    ['containers is an object', ['spec', 'containers'], {}, 'spec.containers'],
    ['no containers', ['spec', 'containers'], [], 'spec.containers'],
    ['a container is a string', ['spec', 'containers', 1], 'envoy', 'spec.containers[1]'],
    ['an invalid quantity', ['spec', 'containers', 0, 'resources', 'requests', 'cpu'], '1Kib', 'spec.containers[0].resources.requests[cpu]'],
    ['a negative request', ['spec', 'containers', 0, 'resources', 'requests', 'memory'], '-1Gi', 'spec.containers[0].resources.requests[memory]'],
    ['a quantity of the wrong type', ['spec', 'containers', 1, 'resources', 'requests', 'cpu'], { value: 1 }, 'spec.containers[1].resources.requests[cpu]'],
    ['a request beyond 2^53-1 bytes', ['spec', 'containers', 0, 'resources', 'requests', 'memory'], '1E', 'spec.containers[0].resources.requests[memory]'],
    ['an invalid resource name', ['spec', 'containers', 0, 'resources', 'requests', 'example.com/'], '1', 'spec.containers[0].resources.requests'],
    ['an invalid init container quantity', ['spec', 'initContainers', 1, 'resources', 'requests', 'cpu'], '50 m', 'spec.initContainers[1].resources.requests[cpu]'],
    ['an invalid overhead', ['spec', 'overhead', 'memory'], 'lots', 'spec.overhead[memory]'],
    ['requests as an array', ['spec', 'containers', 0, 'resources', 'requests'], ['1'], 'spec.containers[0].resources.requests'],
    ['a host port out of range', ['spec', 'containers', 0, 'ports', 1, 'hostPort'], 70000, 'spec.containers[0].ports[1].hostPort'],
    ['a negative host port', ['spec', 'containers', 0, 'ports', 1, 'hostPort'], -1, 'spec.containers[0].ports[1].hostPort'],
    ['a fractional host port', ['spec', 'containers', 0, 'ports', 1, 'hostPort'], 80.5, 'spec.containers[0].ports[1].hostPort'],
    ['an unknown protocol', ['spec', 'containers', 1, 'ports', 0, 'protocol'], 'ICMP', 'spec.containers[1].ports[0].protocol'],
    ['a mount without a name', ['spec', 'containers', 0, 'volumeMounts', 1, 'name'], DELETE, 'spec.containers[0].volumeMounts[1].name'],
    ['an unsupported node selector operator', ['spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms', 0, 'matchExpressions', 0, 'operator'], 'Foo', `${WEB_AFFINITY_TERMS}.matchExpressions[0].operator`],
    ['In without values', ['spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms', 0, 'matchExpressions', 0, 'values'], [], `${WEB_AFFINITY_TERMS}.matchExpressions[0].values`],
    ['Gt with a non-integer', ['spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms', 0, 'matchExpressions', 1, 'values'], ['five'], `${WEB_AFFINITY_TERMS}.matchExpressions[1].values`],
    ['matchFields on another field', ['spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms', 0, 'matchFields'], [{ key: 'metadata.uid', operator: 'In', values: ['x'] }], `${WEB_AFFINITY_TERMS}.matchFields[0].key`],
    ['no node selector terms', ['spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms'], [], 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms'],
    ['a preference weight of 0', ['spec', 'affinity', 'nodeAffinity', 'preferredDuringSchedulingIgnoredDuringExecution', 0, 'weight'], 0, 'spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight'],
    ['Exists with values in a pod affinity selector', ['spec', 'affinity', 'podAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 0, 'labelSelector', 'matchExpressions', 0, 'operator'], 'Exists', 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values'],
    ['Gt in a label selector', ['spec', 'affinity', 'podAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 0, 'labelSelector', 'matchExpressions', 0, 'operator'], 'Gt', 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator'],
    ['a bad namespace selector label', ['spec', 'affinity', 'podAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 0, 'namespaceSelector', 'matchLabels', 'team'], 'a b', 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector.matchLabels[team]'],
    ['an empty topology key', ['spec', 'affinity', 'podAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 0, 'topologyKey'], '', 'spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey'],
    ['an anti-affinity weight of 101', ['spec', 'affinity', 'podAntiAffinity', 'preferredDuringSchedulingIgnoredDuringExecution', 0, 'weight'], 101, 'spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight'],
    ['a weighted term without its term', ['spec', 'affinity', 'podAntiAffinity', 'preferredDuringSchedulingIgnoredDuringExecution', 0, 'podAffinityTerm'], DELETE, 'spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm'],
    ['affinity is an array', ['spec', 'affinity'], [], 'spec.affinity'],
    ['a bad toleration effect', ['spec', 'tolerations', 2, 'effect'], 'Sometimes', 'spec.tolerations[2].effect'],
    ['a bad toleration operator', ['spec', 'tolerations', 2, 'operator'], 'Gt', 'spec.tolerations[2].operator'],
    ['Exists with a value', ['spec', 'tolerations', 0, 'value'], 'x', 'spec.tolerations[0].value'],
    ['tolerationSeconds without NoExecute', ['spec', 'tolerations', 2, 'tolerationSeconds'], 60, 'spec.tolerations[2].effect'],
    ['tolerations is a string', ['spec', 'tolerations'], 'all', 'spec.tolerations'],
    ['a maxSkew of 0', ['spec', 'topologySpreadConstraints', 0, 'maxSkew'], 0, 'spec.topologySpreadConstraints[0].maxSkew'],
    ['no whenUnsatisfiable', ['spec', 'topologySpreadConstraints', 1, 'whenUnsatisfiable'], DELETE, 'spec.topologySpreadConstraints[1].whenUnsatisfiable'],
    ['minDomains with ScheduleAnyway', ['spec', 'topologySpreadConstraints', 1, 'minDomains'], 2, 'spec.topologySpreadConstraints[1].minDomains'],
    ['an unknown taints policy', ['spec', 'topologySpreadConstraints', 1, 'nodeTaintsPolicy'], 'Maybe', 'spec.topologySpreadConstraints[1].nodeTaintsPolicy'],
    ['a host path without a path', ['spec', 'volumes', 2, 'hostPath', 'path'], DELETE, 'spec.volumes[2].hostPath.path'],
    ['a volume without a name', ['spec', 'volumes', 0, 'name'], DELETE, 'spec.volumes[0].name'],
    ['a priority of the wrong type', ['spec', 'priority'], 'high', 'spec.priority'],
    ['a priority beyond int32', ['spec', 'priority'], 2 ** 31, 'spec.priority'],
    ['an unknown preemption policy', ['spec', 'preemptionPolicy'], 'Sometimes', 'spec.preemptionPolicy'],
    ['nodeSelector is an array', ['spec', 'nodeSelector'], ['linux'], 'spec.nodeSelector'],
    ['a scheduling gate without a name', ['spec', 'schedulingGates'], [{}], 'spec.schedulingGates[0].name'],
    ['an unknown phase', ['status', 'phase'], 'Sleeping', 'status.phase'],
    ['a controller reference without a kind', ['metadata', 'ownerReferences', 0, 'kind'], DELETE, 'metadata.ownerReferences[0].kind'],
  ])('%s', (_name, path, value, field) => {
    const pod = fixture('pod-web.json');
    setAt(pod, path, value);
    if (field === '') {
      // The group label alone is fine; with a bad min-member annotation it is not.
      expect(convertPod(pod).podGroup?.minMember).toBe(1);
      setAt(pod, ['metadata', 'annotations', 'schedmesh.io/pod-group-min-member'], 'many');
      field = 'metadata.annotations[schedmesh.io/pod-group-min-member]';
    }
    const err = edgeErrorOf(() => convertPod(pod));
    expect(err.kind).toBe('Pod');
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
    const namesChanged = path[0] === 'metadata' && (path.length === 1 || path[1] === 'name' || path[1] === 'namespace');
    if (!namesChanged) expect(err.object).toBe(OBJECT);
  });

  test('the effective request beyond 2^53-1 is rejected on spec', () => {
    const pod = fixture('pod-web.json');
    setAt(pod, ['spec', 'containers', 0, 'resources', 'requests', 'memory'], '5P');
    setAt(pod, ['spec', 'containers', 1, 'resources', 'requests', 'memory'], '5P');
    expect(edgeErrorOf(() => convertPod(pod)).field).toBe('spec');
  });

  test('a "__proto__" label is rejected, not dropped', () => {
    const pod = fixture('pod-web.json');
    const labels = JSON.parse('{"__proto__": "x"}') as unknown;
    setAt(pod, ['metadata', 'labels'], labels);
    expect(edgeErrorOf(() => convertPod(pod)).field).toBe('metadata.labels');
  });

  test.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an array', []],
    ['a string', 'pod'],
    ['a number', 42],
  ])('%s is not a pod', (_name, obj) => {
    const err = edgeErrorOf(() => convertPod(obj));
    expect(err.field).toBe('');
    expect(err.object).toBe('/');
  });

  // Whatever is put anywhere in a pod, the conversion returns a Pod or throws an EdgeError.
  test('never throws anything but an EdgeError', () => {
    const paths: Path[] = [];
    const walk = (v: unknown, path: Path): void => {
      paths.push(path);
      if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...path, i]));
      else if (typeof v === 'object' && v !== null) for (const [k, item] of Object.entries(v)) walk(item, [...path, k]);
    };
    walk(fixture('pod-web.json'), []);
    const somePaths = fc.array(fc.constantFrom(...paths.filter((p) => p.length > 0)), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(somePaths, fc.array(fc.anything({ withDate: true, withNullPrototype: true, withBigInt: true }), { minLength: 3, maxLength: 3 }), (chosen, values) => {
        const pod = fixture('pod-web.json');
        chosen.forEach((p, i) => setAt(pod, p, values[i]));
        try {
          convertPod(pod);
        } catch (err) {
          expect(err).toBeInstanceOf(EdgeError);
          expect((err as EdgeError).reason).not.toMatch(/^conversion failed/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('convertNode', () => {
  test('a node as the API server serves it', () => {
    expect(convertNode(fixture('node-worker.json'))).toEqual(expectedNode);
  });

  test('the same node as a client-node V1Node', () => {
    const v1 = loadYaml<V1Node>(readFileSync(join(__dirname, '..', 'testdata', 'node-worker.json'), 'utf8'));
    expect(convertNode(v1)).toEqual(expectedNode);
  });

  test('legacy zone and region labels, custom rack and pool labels, a cordoned node', () => {
    const node = fixture('node-worker.json');
    setAt(node, ['metadata', 'labels', 'topology.kubernetes.io/zone'], DELETE);
    setAt(node, ['metadata', 'labels', 'topology.kubernetes.io/region'], DELETE);
    setAt(node, ['spec', 'unschedulable'], true);
    setAt(node, ['status', 'conditions', 3, 'status'], 'Unknown');
    const got = convertNode(node, { rackLabelKey: 'example.com/rack', poolLabelKey: 'example.com/pool' });
    expect(got.zone).toBe('eu-west-1a');
    expect(got.region).toBe('eu-west-1');
    expect(got.rack).toBe('');
    expect(got.pool).toBe('batch');
    expect(got.unschedulable).toBe(true);
    expect(got.ready).toBe(false);
  });

  test('a node without status has zero resources and is not ready', () => {
    const got = convertNode({ metadata: { name: 'n1' } });
    expect(got.allocatable).toEqual({ milliCpu: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} });
    expect(got.ready).toBe(false);
    expect(got.zone).toBe('');
  });

  test.each<[string, Path, unknown, string]>([
    ['no name', ['metadata', 'name'], DELETE, 'metadata.name'],
    ['labels is an array', ['metadata', 'labels'], [], 'metadata.labels'],
    ['a taint without an effect', ['spec', 'taints', 0, 'effect'], '', 'spec.taints[0].effect'],
    ['an unknown taint effect', ['spec', 'taints', 1, 'effect'], 'Never', 'spec.taints[1].effect'],
    ['a taint without a key', ['spec', 'taints', 0, 'key'], DELETE, 'spec.taints[0].key'],
    ['an invalid allocatable quantity', ['status', 'allocatable', 'cpu'], 'lots', 'status.allocatable[cpu]'],
    ['a negative allocatable', ['status', 'allocatable', 'memory'], '-1Ki', 'status.allocatable[memory]'],
    ['a malformed capacity', ['status', 'capacity', 'pods'], '1.5.5', 'status.capacity[pods]'],
    ['an allocatable beyond 2^53-1', ['status', 'allocatable', 'memory'], '8Ei', 'status.allocatable[memory]'],
    ['conditions is an object', ['status', 'conditions'], {}, 'status.conditions'],
    ['a condition without a type', ['status', 'conditions', 1, 'type'], DELETE, 'status.conditions[1].type'],
    ['a negative image size', ['status', 'images', 0, 'sizeBytes'], -5, 'status.images[0].sizeBytes'],
    ['unschedulable as a string', ['spec', 'unschedulable'], 'true', 'spec.unschedulable'],
  ])('%s', (_name, path, value, field) => {
    const node = fixture('node-worker.json');
    setAt(node, path, value);
    const err = edgeErrorOf(() => convertNode(node));
    expect(err.kind).toBe('Node');
    expect(err.field).toBe(field);
  });
});

describe('convertNamespace', () => {
  test('labels, and only schedmesh.io annotations', () => {
    const expected = { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', team: 'shop' }, annotations: { 'schedmesh.io/hibernate': 'true' } };
    expect(convertNamespace(fixture('namespace-shop.json'))).toEqual(expected);
    expect(convertNamespace(loadYaml<V1Namespace>(readFileSync(join(__dirname, '..', 'testdata', 'namespace-shop.json'), 'utf8')))).toEqual(expected);
  });

  test.each<[string, Path, unknown, string]>([
    ['no name', ['metadata', 'name'], DELETE, 'metadata.name'],
    ['a label of the wrong type', ['metadata', 'labels', 'team'], false, 'metadata.labels[team]'],
    ['a kept annotation of the wrong type', ['metadata', 'annotations', 'schedmesh.io/hibernate'], true, 'metadata.annotations[schedmesh.io/hibernate]'],
  ])('%s', (_name, path, value, field) => {
    const ns = fixture('namespace-shop.json');
    setAt(ns, path, value);
    const err = edgeErrorOf(() => convertNamespace(ns));
    expect(err.kind).toBe('Namespace');
    expect(err.field).toBe(field);
  });
});
