import { describe, expect, test } from '@jest/globals';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { clusterEvent, makeNode, makePod } from '@schedmesh/testkit';
import { NodeView } from './node-view.js';

const node = (name: string) => makeNode(name).capacity('4', '8Gi').build();
const forever = new AbortController().signal;

describe('NodeView.waitForNodes', () => {
  test('nodes already held: no wait, the generation of the latest of them', async () => {
    const view = new NodeView();
    view.apply(clusterEvent(node('a'), 'upsert', 3));
    view.apply(clusterEvent(node('b'), 'upsert', 7));
    view.apply(clusterEvent(node('c'), 'upsert', 9));
    await expect(view.waitForNodes(['a', 'b'], { timeoutMs: 60_000, signal: forever })).resolves.toEqual({ generation: 7, missing: [] });
  });

  test('a fresh node is waited for and covered once it arrives', async () => {
    const view = new NodeView();
    view.apply(clusterEvent(node('a'), 'upsert', 1));
    const waiting = view.waitForNodes(['a', 'fresh'], { timeoutMs: 60_000, signal: forever });
    expect(view.waiting).toBe(1);
    view.apply(clusterEvent(node('other'), 'upsert', 2));
    view.apply(clusterEvent(node('fresh'), 'upsert', 5));
    await expect(waiting).resolves.toEqual({ generation: 5, missing: [] });
    expect(view.waiting).toBe(0);
  });

  test('past the bound the missing names are returned, not an error', async () => {
    const view = new NodeView();
    view.apply(clusterEvent(node('a'), 'upsert', 1));
    await expect(view.waitForNodes(['ghost', 'a', 'gone'], { timeoutMs: 20, signal: forever })).resolves.toEqual({ generation: 1, missing: ['ghost', 'gone'] });
  });

  test('the caller going away ends the wait', async () => {
    const view = new NodeView();
    const caller = new AbortController();
    const waiting = view.waitForNodes(['ghost'], { timeoutMs: 600_000, signal: caller.signal });
    caller.abort();
    await expect(waiting).resolves.toEqual({ generation: 0, missing: ['ghost'] });
  });

  test('a deleted node is missing again', async () => {
    const view = new NodeView();
    view.apply(clusterEvent(node('a'), 'upsert', 1));
    view.apply(clusterEvent(node('a'), 'delete', 2));
    await expect(view.waitForNodes(['a'], { timeoutMs: 10, signal: forever })).resolves.toMatchObject({ missing: ['a'] });
  });
});

test('NodeView keeps the PodGroups of the stream for the attempts, and forgets them on a reset', () => {
  const view = new NodeView();
  const group = (type: ClusterEventType) => ClusterEvent.fromPartial({ type, object: { $case: 'podGroup', value: { namespace: 'ml', name: 'train', minMember: 4 } } });
  view.apply(group(ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT));
  expect(view.podGroups.get('ml', 'train')?.minMember).toBe(4);
  expect(view.size).toBe(0);
  view.apply(group(ClusterEventType.CLUSTER_EVENT_TYPE_DELETE));
  expect(view.podGroups.get('ml', 'train')).toBeUndefined();
  view.apply(group(ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT));
  view.reset();
  expect(view.podGroups.size).toBe(0);
});

test('NodeView keeps each pending pod’s latest write and its generation, until it is bound, deleted or the view reset', () => {
  const view = new NodeView();
  const p = makePod('p').uid('u1').build();
  expect(view.podGeneration('u1')).toBeUndefined();
  view.apply(clusterEvent(p, 'upsert', 4));
  view.apply(clusterEvent(node('a'), 'upsert', 5));
  const relabelled = { ...p, labels: { app: 'web' } };
  view.apply(clusterEvent(relabelled, 'upsert', 6));
  expect(view.podGeneration('u1')).toBe(6);
  expect(view.pendingPod('u1')).toEqual(relabelled);
  expect(view.pending).toBe(1);
  view.apply(clusterEvent({ ...p, nodeName: 'a' }, 'upsert', 7));
  expect(view.podGeneration('u1')).toBeUndefined();
  expect(view.pendingPod('u1')).toBeUndefined();
  view.apply(clusterEvent(makePod('q').uid('u2').build(), 'upsert', 8));
  view.apply(clusterEvent(makePod('r').uid('u3').build(), 'upsert', 9));
  view.apply(clusterEvent(makePod('q').uid('u2').build(), 'delete', 10));
  expect(view.podGeneration('u2')).toBeUndefined();
  expect(view.podGeneration('u3')).toBe(9);
  view.reset();
  expect(view.pending).toBe(0);
  expect(view.pendingPod('u3')).toBeUndefined();
});
