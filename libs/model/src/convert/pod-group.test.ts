import { expect, test } from '@jest/globals';
import { EdgeError } from './edge.js';
import { convertPodGroup } from './pod-group.js';

const group = (spec: unknown = { minMember: 4, scheduleTimeoutSeconds: 60 }, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'scheduling.x-k8s.io/v1alpha1',
  kind: 'PodGroup',
  metadata: { name: 'train', namespace: 'ml', resourceVersion: '7', ...metadata },
  spec,
  status: { phase: 'Pending', scheduled: 0 },
});

test('a group keeps its identity, minimum and timeout', () => {
  expect(convertPodGroup(group())).toEqual({ name: 'train', namespace: 'ml', resourceVersion: '7', minMember: 4, scheduleTimeoutSeconds: 60 });
});

test('a group without a timeout waits the service default (0)', () => {
  expect(convertPodGroup(group({ minMember: 1, minResources: { cpu: '2' } })).scheduleTimeoutSeconds).toBe(0);
});

test.each<[string, unknown, string]>([
  ['no name', group(undefined, { name: undefined }), 'metadata.name'],
  ['no namespace', group(undefined, { namespace: undefined }), 'metadata.namespace'],
  ['no spec', group(null), 'spec'],
  ['no minMember', group({ scheduleTimeoutSeconds: 10 }), 'spec.minMember'],
  ['a minMember of zero', group({ minMember: 0 }), 'spec.minMember'],
  ['a minMember that is a string', group({ minMember: '4' }), 'spec.minMember'],
  ['a fractional minMember', group({ minMember: 2.5 }), 'spec.minMember'],
  ['a minMember over the largest gang', group({ minMember: 10_001 }), 'spec.minMember'],
  ['a negative timeout', group({ minMember: 2, scheduleTimeoutSeconds: -1 }), 'spec.scheduleTimeoutSeconds'],
  ['a timeout beyond 15 minutes', group({ minMember: 2, scheduleTimeoutSeconds: 901 }), 'spec.scheduleTimeoutSeconds'],
])('%s is an EdgeError naming the field', (_name, obj, field) => {
  let err: unknown;
  try {
    convertPodGroup(obj);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EdgeError);
  expect(err).toMatchObject({ kind: 'PodGroup', field });
});
