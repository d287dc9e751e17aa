import { expect, test } from '@jest/globals';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { ClusterView } from './cluster-view.js';
import { QueueingEventKinds as K } from './queue/events.js';

const podGroupEvent = (type: ClusterEventType, minMember: number): ClusterEvent =>
  ClusterEvent.fromPartial({ type, object: { $case: 'podGroup', value: { namespace: 'ml', name: 'train', minMember, scheduleTimeoutSeconds: 60 } } });
const { CLUSTER_EVENT_TYPE_UPSERT: UPSERT, CLUSTER_EVENT_TYPE_DELETE: DELETE } = ClusterEventType;

test('a PodGroup created or updated is kept and moves parked pods; deleted, it is forgotten and moves none', () => {
  const view = new ClusterView();
  expect(view.apply(podGroupEvent(UPSERT, 4)).events).toEqual([K.PodGroupChange]);
  expect(view.podGroups.get('ml', 'train')?.minMember).toBe(4);
  expect(view.apply(podGroupEvent(UPSERT, 3)).events).toEqual([K.PodGroupChange]);
  expect(view.podGroups.get('ml', 'train')?.minMember).toBe(3);
  expect(view.apply(podGroupEvent(DELETE, 0)).events).toEqual([]);
  expect(view.podGroups.get('ml', 'train')).toBeUndefined();
});

test('a reset forgets the PodGroups with the rest', () => {
  const view = new ClusterView();
  view.apply(podGroupEvent(UPSERT, 4));
  view.reset();
  expect(view.podGroups.size).toBe(0);
});
