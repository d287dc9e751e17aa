import { describe, expect, test } from '@jest/globals';
import type { Pod, PodGroupObject } from '@schedmesh/proto/v1/types';
import { Pod as PodMessage } from '@schedmesh/proto/v1/types';
import { PodGroupIndex, resolvePodGroup } from './pod-groups.js';

const member = (annotations: Record<string, string> = {}, group = 'train'): Pod =>
  PodMessage.fromPartial({ uid: 'u1', namespace: 'ml', name: 'w-0', annotations, podGroup: { name: group, minMember: 1, scheduleTimeoutSeconds: 0 } });
const object = (fields: Partial<PodGroupObject> = {}): PodGroupObject => ({ namespace: 'ml', name: 'train', resourceVersion: '1', minMember: 4, scheduleTimeoutSeconds: 60, ...fields });

describe('resolvePodGroup', () => {
  const index = new PodGroupIndex();
  index.apply(object(), false);

  test('the PodGroup object gives the minimum and timeout, over the annotations', () => {
    const pod = member({ 'schedmesh.io/pod-group-min-member': '2', 'schedmesh.io/pod-group-schedule-timeout-seconds': '5' });
    expect(resolvePodGroup(pod, index.get).pod?.podGroup).toEqual({ name: 'train', minMember: 4, scheduleTimeoutSeconds: 60 });
  });

  test('a group of the same name in another namespace is not the pod\'s', () => {
    expect(resolvePodGroup({ ...member(), namespace: 'web' }, index.get)).toEqual({ missing: 'pod group web/train not found' });
  });

  test.each<[string, Record<string, string>]>([
    ['the min-member annotation', { 'schedmesh.io/pod-group-min-member': '3' }],
    ['the timeout annotation', { 'schedmesh.io/pod-group-schedule-timeout-seconds': '30' }],
  ])('without an object, %s keeps the pod\'s own gang', (_name, annotations) => {
    const pod = member(annotations, 'other');
    expect(resolvePodGroup(pod, index.get)).toEqual({ pod });
  });

  test('without an object or annotations the group is missing, named', () => {
    expect(resolvePodGroup(member({}, 'other'), index.get)).toEqual({ missing: 'pod group ml/other not found' });
  });

  test('a pod of no gang is left as it is', () => {
    const pod = PodMessage.fromPartial({ uid: 'u2', namespace: 'ml', name: 'solo' });
    expect(resolvePodGroup(pod, index.get)).toEqual({ pod });
  });
});

test('PodGroupIndex follows upserts and deletions', () => {
  const index = new PodGroupIndex();
  index.apply(object(), false);
  index.apply(object({ minMember: 6, resourceVersion: '2' }), false);
  expect(index.get('ml', 'train')?.minMember).toBe(6);
  index.apply(object({ minMember: 0 }), true);
  expect(index.get('ml', 'train')).toBeUndefined();
  index.apply(object(), false);
  index.clear();
  expect(index.size).toBe(0);
});
