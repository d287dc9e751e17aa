// The replica's read gate: frames never land inside a cycle, and never starve.
import { describe, expect, test } from '@jest/globals';
import { ClusterEvent, ClusterEventType, Node } from '@schedmesh/proto/v1/types';
import { WatchResponse } from '@schedmesh/proto/v1/snapshot';
import { DeadlineExceededError, ResourceExhaustedError } from '@schedmesh/runtime';
import { SnapshotReplica } from './replica.js';

const nodeEvent = (name: string, generation: number): ClusterEvent =>
  ClusterEvent.fromPartial({ generation, type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'node', value: Node.fromPartial({ name }) } });
const frame = (generation: number, ...names: string[]) => WatchResponse.fromPartial({ generation, events: names.map((n) => nodeEvent(n, generation)) });

function synced(options: { maxQueuedEvents?: number } = {}): SnapshotReplica {
  const r = new SnapshotReplica(options);
  r.applyFrame(WatchResponse.fromPartial({ reset: true, synced: true, generation: 1, events: [nodeEvent('a', 1)] }));
  r.gate.setSynced(true);
  return r;
}

test('a full state is built aside and swapped in on its last frame', () => {
  const r = new SnapshotReplica();
  r.applyFrame(WatchResponse.fromPartial({ reset: true, generation: 5, events: [nodeEvent('a', 5)] }));
  expect(r.current.nodeCount).toBe(0);
  expect(r.isRebuilding).toBe(true);
  r.applyFrame(WatchResponse.fromPartial({ synced: true, generation: 5, events: [nodeEvent('b', 5)] }));
  expect(r.current.nodeCount).toBe(2);
  expect(r.generation).toBe(5);
});

test('frames arriving during a cycle wait for it to end', async () => {
  const r = synced();
  let release!: () => void;
  const cycle = r.read(async (s) => {
    const before = s.nodeCount;
    r.applyFrame(frame(2, 'b'));
    await new Promise<void>((resolve) => (release = resolve));
    return [before, s.nodeCount, r.current === s];
  });
  await new Promise((res) => setTimeout(res, 10));
  release();
  expect(await cycle).toEqual([1, 1, true]);
  expect(r.current.nodeCount).toBe(2);
  expect(r.generation).toBe(2);
});

test('a cycle that starts while frames wait lets them apply first', async () => {
  const r = synced();
  let release!: () => void;
  const long = r.read(() => new Promise<void>((resolve) => (release = resolve)));
  r.applyFrame(frame(2, 'b'));
  const next = r.read(async (s) => s.nodeCount);
  await new Promise((res) => setTimeout(res, 10));
  release();
  await long;
  expect(await next).toBe(2);
});

test('waitFor resolves when the generation is applied and fails at the deadline', async () => {
  const r = synced();
  const waiting = r.gate.waitFor(3, new AbortController().signal);
  r.applyFrame(frame(2, 'b'));
  r.applyFrame(frame(3, 'c'));
  expect(await waiting).toBe(3);
  const ac = new AbortController();
  const late = r.gate.waitFor(10, ac.signal);
  ac.abort();
  await expect(late).rejects.toBeInstanceOf(DeadlineExceededError);
});

test("a full state behind the replica (the snapshot's stream was recreated) rewinds the gate; waits follow the new numbering", async () => {
  const r = synced();
  r.applyFrame(frame(5, 'b'));
  expect(r.gate.generation).toBe(5);
  r.applyFrame(WatchResponse.fromPartial({ reset: true, synced: true, generation: 2, events: [nodeEvent('z', 2)] }));
  expect(r.generation).toBe(2);
  expect(r.gate.generation).toBe(2);
  const waiting = r.gate.waitFor(3, new AbortController().signal);
  r.applyFrame(frame(3, 'y'));
  expect(await waiting).toBe(3);
});

describe('the queue of frames waiting for cycles is bounded', () => {
  test('at the limit new cycles are refused RESOURCE_EXHAUSTED and the Watch loop waits; when the cycle ends, both go on', async () => {
    const r = synced({ maxQueuedEvents: 3 });
    let release!: () => void;
    const slow = r.read(() => new Promise<void>((resolve) => (release = resolve)));
    r.applyFrame(frame(2, 'b', 'c'));
    const signal = new AbortController().signal;
    await r.roomForFrames(signal); // 2 of 3: room left
    r.applyFrame(frame(3, 'd'));
    expect(r.queuedEvents).toBe(3);

    let roomed = false;
    const room = r.roomForFrames(signal).then(() => (roomed = true));
    const refused = r.read(async (s) => s.nodeCount);
    await expect(refused).rejects.toBeInstanceOf(ResourceExhaustedError);
    await expect(refused).rejects.toThrow('the snapshot replica has 3 events waiting for 1 running cycles to end (limit 3)');
    expect(roomed).toBe(false);

    release();
    await slow;
    await room;
    expect(r.queuedEvents).toBe(0);
    expect(r.generation).toBe(3);
    await expect(r.read(async (s) => s.nodeCount)).resolves.toBe(4);
  });

  test('an abort ends the Watch loop wait on a full queue', async () => {
    const r = synced({ maxQueuedEvents: 1 });
    let release!: () => void;
    const slow = r.read(() => new Promise<void>((resolve) => (release = resolve)));
    r.applyFrame(frame(2, 'b'));
    const watch = new AbortController();
    const room = r.roomForFrames(watch.signal);
    watch.abort();
    await room;
    expect(r.queuedEvents).toBe(1);
    release();
    await slow;
    expect(r.queuedEvents).toBe(0);
  });
});
