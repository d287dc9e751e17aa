// Scenarios after kubernetes/kubernetes pkg/scheduler/backend/queue/scheduling_queue_test.go,
// driven by a fake clock: no test sleeps, time only moves when a test advances it.
import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { QueuedPodInfo } from '@schedmesh/framework';
import { PluginNames } from '@schedmesh/framework';
import { Pod } from '@schedmesh/proto/v1/types';
import type { QueueClock } from './clock.js';
import { QueueingEventKinds as K } from './events.js';
import type { QueueingEventKind } from './events.js';
import type { QueuedPod } from './queued-pod.js';
import { QueueOptionsError, SchedulingQueue } from './scheduling-queue.js';
import type { IncomingEvent, PodQueueState, QueueName, SchedulingQueueOptions } from './scheduling-queue.js';

const T0 = 1_700_000_000_000;
const FIVE_MIN = 5 * 60_000;

/** A clock that moves only when told, firing the timers that fall due on the way, in order. */
class FakeClock implements QueueClock {
  private t = T0;
  private readonly timers: { intervalMs: number; next: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }

  every(intervalMs: number, fn: () => void): () => void {
    const timer = { intervalMs, next: this.t + intervalMs, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (due === undefined) break;
      this.t = due.next;
      due.next += due.intervalMs;
      due.fn();
    }
    this.t = end;
  }

  liveTimers(): number {
    return this.timers.filter((x) => x.live).length;
  }
}

// PrioritySort's ordering, written out: the queue takes less from the profile, not from the plugin code.
const prioritySort = (a: QueuedPodInfo, b: QueuedPodInfo): boolean =>
  a.pod.priority > b.pod.priority || (a.pod.priority === b.pod.priority && a.timestamp < b.timestamp);

function pod(name: string, fields: Partial<Pod> = {}): Pod {
  return Pod.fromPartial({ uid: `uid-${name}`, namespace: 'default', name, resourceVersion: '1', ...fields });
}

function setup(options: Partial<SchedulingQueueOptions> = {}): { clock: FakeClock; queue: SchedulingQueue } {
  const clock = new FakeClock();
  return { clock, queue: new SchedulingQueue({ less: prioritySort, clock, ...options }) };
}

/** Pops the head, which must be there already (the test would hang otherwise). */
async function popNow(queue: SchedulingQueue): Promise<QueuedPod> {
  if (queue.counts().active === 0) throw new Error('activeQ is empty');
  const entry = await queue.pop();
  if (entry === undefined) throw new Error('the queue is closed');
  return entry;
}

async function popAll(queue: SchedulingQueue): Promise<string[]> {
  const out: string[] = [];
  while (queue.counts().active > 0) out.push((await popNow(queue)).pod.name);
  return out;
}

/** Lets pending promise callbacks run; a pending pop stays pending. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Pops the pod and fails its attempt as unschedulable by rejectors (or with an error when rejectors is undefined). */
async function failOnce(queue: SchedulingQueue, rejectors?: string[]): Promise<QueueName | undefined> {
  const entry = await popNow(queue);
  return queue.addUnschedulable(entry, rejectors === undefined ? { unschedulable: false, message: 'boom' } : { unschedulable: true, rejectorPlugins: rejectors });
}

/** Brings pod `name` into the given state; the popped entry, if it was popped. */
async function placeIn(state: PodQueueState, name: string, queue: SchedulingQueue): Promise<QueuedPod | undefined> {
  queue.add(pod(name));
  if (state === 'active') return undefined;
  const entry = await popNow(queue);
  if (state === 'backoff') queue.addUnschedulable(entry, { unschedulable: false });
  if (state === 'unschedulable') queue.addUnschedulable(entry, { unschedulable: true, rejectorPlugins: [PluginNames.NodeResourcesFit] });
  expect(queue.locate(`uid-${name}`)).toBe(state);
  return entry;
}

// ---------------------------------------------------------------------------
// Ordering

test.each<[string, [string, number, number][], string[]]>([
  ['higher priority first', [['low', 1, 0], ['high', 10, 0], ['mid', 5, 0]], ['high', 'mid', 'low']],
  ['equal priority: first added first (timestamp)', [['first', 5, 0], ['second', 5, 10], ['third', 5, 20]], ['first', 'second', 'third']],
  ['equal priority added at the same instant: first in, first out', [['x', 5, 0], ['y', 5, 0], ['z', 5, 0]], ['x', 'y', 'z']],
  ['priority beats age', [['old', 1, 0], ['new', 2, 1_000]], ['new', 'old']],
])('ordering: %s', async (_name, pods, want) => {
  const { clock, queue } = setup();
  let at = 0;
  for (const [name, priority, addedAt] of pods) {
    clock.advance(addedAt - at);
    at = addedAt;
    queue.add(pod(name, { priority }));
  }
  expect(await popAll(queue)).toEqual(want);
});

test.each<[string, number, string[]]>([
  ['raised to the top', 100, ['b', 'a', 'c']],
  ['lowered to the bottom', 0, ['a', 'c', 'b']],
  ['unchanged: keeps its place', 5, ['a', 'b', 'c']],
])('a priority change through update in activeQ: %s', async (_name, priority, want) => {
  const { clock, queue } = setup();
  queue.add(pod('a', { priority: 10 }));
  queue.add(pod('b', { priority: 5 }));
  clock.advance(1);
  queue.add(pod('c', { priority: 5 }));
  queue.update(pod('b', { priority, resourceVersion: '2' }));
  expect(queue.locate('uid-b')).toBe('active');
  expect(await popAll(queue)).toEqual(want);
});

test('a failed pod goes behind pods of its priority that were added before it came back', async () => {
  const { clock, queue } = setup();
  queue.add(pod('a', { priority: 5 }));
  clock.advance(10);
  queue.add(pod('b', { priority: 5 }));
  await failOnce(queue); // a: error, backs off 1 s from now
  clock.advance(1_000);
  queue.flushBackoffCompleted();
  expect(await popAll(queue)).toEqual(['b', 'a']);
});

// ---------------------------------------------------------------------------
// Attempts and backoff

test('pop counts the attempt; the count survives the way back', async () => {
  const { clock, queue } = setup();
  queue.add(pod('a'));
  const first = await popNow(queue);
  expect(first.attempts).toBe(1);
  expect(queue.locate('uid-a')).toBe('inFlight');
  queue.addUnschedulable(first, { unschedulable: false });
  clock.advance(1_000);
  queue.flushBackoffCompleted();
  expect((await popNow(queue)).attempts).toBe(2);
});

test.each<[number, number]>([
  [1, 1_000],
  [2, 2_000],
  [3, 4_000],
  [4, 8_000],
  [5, 10_000],
  [6, 10_000],
  [9, 10_000],
])('backoff doubles and caps: after attempt %i the pod backs off %i ms', async (attempts, wantMs) => {
  const { clock, queue } = setup();
  queue.add(pod('a'));
  for (let i = 1; i <= attempts; i++) {
    expect(await failOnce(queue)).toBe('backoff');
    if (i < attempts) {
      clock.advance(60_000);
      expect(queue.flushBackoffCompleted()).toBe(1);
    }
  }
  const status = queue.status('uid-a')!;
  expect(status.queue).toBe('backoff');
  expect(status.backoffUntil! - status.timestamp).toBe(wantMs);
  clock.advance(wantMs - 1);
  expect(queue.flushBackoffCompleted()).toBe(0);
  expect(queue.locate('uid-a')).toBe('backoff');
  clock.advance(1);
  expect(queue.flushBackoffCompleted()).toBe(1);
  expect(queue.locate('uid-a')).toBe('active');
});

test('configured backoff durations are used', async () => {
  const { clock, queue } = setup({ podInitialBackoffMs: 200, podMaxBackoffMs: 500 });
  queue.add(pod('a'));
  await failOnce(queue);
  expect(queue.status('uid-a')!.backoffUntil).toBe(clock.now() + 200);
  for (let i = 0; i < 3; i++) {
    clock.advance(1_000);
    queue.flushBackoffCompleted();
    await failOnce(queue);
  }
  expect(queue.status('uid-a')!.backoffUntil).toBe(clock.now() + 500);
});

test('run() flushes completed backoffs every second, and a waiting pop gets the pod', async () => {
  const { clock, queue } = setup();
  queue.run();
  queue.add(pod('a'));
  await failOnce(queue);
  let popped: QueuedPod | undefined;
  void queue.pop().then((e) => (popped = e));
  clock.advance(999);
  await settle();
  expect(popped).toBeUndefined();
  clock.advance(1); // the backoff ends at +1000, and the flush at +1000 sees it
  await settle();
  expect(popped?.pod.name).toBe('a');
  expect(popped?.attempts).toBe(2);
  queue.close();
});

// ---------------------------------------------------------------------------
// Where a failed attempt goes

test.each<[string, { unschedulable: boolean; rejectorPlugins?: string[] }, QueueName]>([
  ['an error backs off', { unschedulable: false }, 'backoff'],
  ['an error backs off even if plugins are named', { unschedulable: false, rejectorPlugins: ['X'] }, 'backoff'],
  ['unschedulable with rejector plugins is parked', { unschedulable: true, rejectorPlugins: [PluginNames.NodeResourcesFit] }, 'unschedulable'],
  ['unschedulable without a rejector backs off (nothing to wait for)', { unschedulable: true, rejectorPlugins: [] }, 'backoff'],
])('addUnschedulable: %s', async (_name, outcome, want) => {
  const { queue } = setup();
  queue.add(pod('a'));
  const entry = await popNow(queue);
  expect(queue.addUnschedulable(entry, { ...outcome, message: '0/3 nodes are available' })).toBe(want);
  const status = queue.status('uid-a')!;
  expect(status.queue).toBe(want);
  expect(status.lastFailure).toEqual({
    unschedulable: outcome.unschedulable,
    plugins: outcome.unschedulable ? (outcome.rejectorPlugins ?? []) : [],
    message: '0/3 nodes are available',
    at: T0,
  });
  expect(queue.counts().inFlight).toBe(0);
});

test('backoff counts from when the failed pod came back, not from its pop', async () => {
  const { clock, queue } = setup();
  queue.add(pod('a'));
  const entry = await popNow(queue);
  clock.advance(5_000); // a long attempt
  expect(queue.addUnschedulable(entry, { unschedulable: false })).toBe('backoff');
  expect(queue.status('uid-a')!.backoffUntil).toBe(clock.now() + 1_000);
  clock.advance(999);
  expect(queue.flushBackoffCompleted()).toBe(0);
  clock.advance(1);
  expect(queue.flushBackoffCompleted()).toBe(1);
});

test('addUnschedulable for a pod that is already queued does nothing', async () => {
  const { queue } = setup();
  queue.add(pod('a'));
  const entry = await popNow(queue);
  queue.add(pod('a', { resourceVersion: '2' })); // an update while in flight, not a second copy
  expect(queue.addUnschedulable(entry, { unschedulable: false })).toBe('backoff');
  expect(queue.addUnschedulable(entry, { unschedulable: false })).toBeUndefined();
  expect(queue.counts()).toEqual({ active: 0, backoff: 1, unschedulable: 0, inFlight: 0 });
});

// ---------------------------------------------------------------------------
// Cluster events

test.each<[string, string, QueueingEventKind, number, QueueName]>([
  ['NodeResourcesFit, an assigned pod deleted, still backing off', PluginNames.NodeResourcesFit, K.AssignedPodDelete, 0, 'backoff'],
  ['NodeResourcesFit, an assigned pod deleted, backoff over', PluginNames.NodeResourcesFit, K.AssignedPodDelete, 1_000, 'active'],
  ['NodeResourcesFit, a node added', PluginNames.NodeResourcesFit, K.NodeAdd, 1_000, 'active'],
  ['NodeResourcesFit, allocatable changed', PluginNames.NodeResourcesFit, K.NodeAllocatableChange, 1_000, 'active'],
  ['NodeResourcesFit, a label changed: stays', PluginNames.NodeResourcesFit, K.NodeLabelChange, 1_000, 'unschedulable'],
  ['NodeResourcesFit, an admission policy changed: stays', PluginNames.NodeResourcesFit, K.AdmissionPolicyChange, 1_000, 'unschedulable'],
  ['NodeAffinity, a label changed', PluginNames.NodeAffinity, K.NodeLabelChange, 1_000, 'active'],
  ['TaintToleration, an assigned pod deleted: stays', PluginNames.TaintToleration, K.AssignedPodDelete, 1_000, 'unschedulable'],
  ['NodeUnschedulable, uncordoned', PluginNames.NodeUnschedulable, K.NodeSchedulableChange, 1_000, 'active'],
  ['InterPodAffinity, a pod bound', PluginNames.InterPodAffinity, K.AssignedPodAdd, 1_000, 'active'],
  ['a remote plugin (unlisted): an admission policy changed', 'RemoteAdmission', K.AdmissionPolicyChange, 1_000, 'active'],
  ['a remote plugin (unlisted): a pod group changed', 'Coscheduling', K.PodGroupChange, 1_000, 'active'],
])('moveOnEvent: %s', async (_name, rejector, kind, waitedMs, want) => {
  const { clock, queue } = setup();
  queue.add(pod('a'));
  await failOnce(queue, [rejector]);
  expect(queue.locate('uid-a')).toBe('unschedulable');
  clock.advance(waitedMs);
  expect(queue.moveOnEvent({ kind })).toBe(want === 'unschedulable' ? 0 : 1);
  expect(queue.locate('uid-a')).toBe(want);
});

test('a custom EventsToRegister table replaces the in-tree one', async () => {
  const { queue } = setup({ eventsToRegister: { Gang: [K.PodGroupChange] } });
  queue.add(pod('a'));
  queue.add(pod('b'));
  await failOnce(queue, ['Gang']);
  await failOnce(queue, [PluginNames.NodeResourcesFit]); // unlisted now: any event
  expect(queue.moveOnEvent({ kind: K.NodeLabelChange })).toBe(1);
  expect(queue.locate('uid-a')).toBe('unschedulable');
  expect(queue.moveOnEvent({ kind: K.PodGroupChange })).toBe(1);
  expect(queue.locate('uid-a')).toBe('backoff');
});

// ---------------------------------------------------------------------------
// The move-request-cycle guard

type Step = readonly ['pop', string] | readonly ['event', QueueingEventKind] | readonly ['reject', string];

test.each<[string, Step[], Record<string, PodQueueState>]>([
  ['an event before the pop: the rejection parks the pod', [['event', K.NodeAdd], ['pop', 'a'], ['reject', 'a']], { a: 'unschedulable' }],
  ['an event during the attempt: the pod backs off instead of parking', [['pop', 'a'], ['event', K.NodeAdd], ['reject', 'a']], { a: 'backoff' }],
  [
    'any event kind during the attempt counts (upstream’s guard does not look at it)',
    [['pop', 'a'], ['event', K.AdmissionPolicyChange], ['reject', 'a']],
    { a: 'backoff' },
  ],
  [
    'an event after the pod came back moves it only if its rejector registered it',
    [['pop', 'a'], ['reject', 'a'], ['event', K.AdmissionPolicyChange]],
    { a: 'unschedulable' },
  ],
  ['every pod in flight when the event came backs off', [['pop', 'a'], ['pop', 'b'], ['event', K.NodeAdd], ['reject', 'a'], ['reject', 'b']], { a: 'backoff', b: 'backoff' }],
  [
    'an event during an earlier attempt does not spare a pod popped after it',
    [['pop', 'a'], ['event', K.NodeAdd], ['reject', 'a'], ['pop', 'b'], ['reject', 'b']],
    { a: 'backoff', b: 'unschedulable' },
  ],
])('moveRequestCycle: %s', async (_name, steps, want) => {
  const { queue } = setup();
  queue.add(pod('a', { priority: 2 }));
  queue.add(pod('b', { priority: 1 }));
  const popped = new Map<string, QueuedPod>();
  for (const step of steps) {
    if (step[0] === 'pop') {
      const entry = await popNow(queue);
      expect(entry.pod.name).toBe(step[1]);
      popped.set(step[1], entry);
    } else if (step[0] === 'event') {
      queue.moveOnEvent({ kind: step[1] });
    } else {
      queue.addUnschedulable(popped.get(step[1])!, { unschedulable: true, rejectorPlugins: [PluginNames.NodeResourcesFit] });
    }
  }
  for (const [name, state] of Object.entries(want)) expect(queue.locate(`uid-${name}`)).toBe(state);
});

// ---------------------------------------------------------------------------
// The five-minute flush

test.each<[string, number, PodQueueState]>([
  ['parked 4:59: stays', FIVE_MIN - 1_000, 'unschedulable'],
  ['parked exactly 5:00: stays (strictly longer, as upstream)', FIVE_MIN, 'unschedulable'],
  ['parked 5:00 and 1 ms: back to activeQ', FIVE_MIN + 1, 'active'],
])('flushUnschedulableLeftover: %s', async (_name, waited, want) => {
  const { clock, queue } = setup();
  queue.add(pod('a'));
  await failOnce(queue, [PluginNames.NodeResourcesFit]);
  clock.advance(waited);
  queue.flushUnschedulableLeftover();
  expect(queue.locate('uid-a')).toBe(want);
});

test('a short podMaxInUnschedulablePods sends a pod that still backs off to backoffQ', async () => {
  const { clock, queue } = setup({ podMaxInUnschedulablePodsMs: 100 });
  queue.add(pod('a'));
  await failOnce(queue, [PluginNames.NodeResourcesFit]);
  clock.advance(101);
  expect(queue.flushUnschedulableLeftover()).toBe(1);
  expect(queue.locate('uid-a')).toBe('backoff');
});

test('run() flushes the pool every 30 s: a pod parked at t=0 leaves at the first tick past 5 minutes', async () => {
  const { clock, queue } = setup();
  queue.run();
  queue.run(); // idempotent: one set of timers
  expect(clock.liveTimers()).toBe(2);
  queue.add(pod('a'));
  await failOnce(queue, [PluginNames.NodeResourcesFit]);
  clock.advance(FIVE_MIN + 29_999);
  expect(queue.locate('uid-a')).toBe('unschedulable'); // the tick at exactly 5:00 is not past it
  clock.advance(1);
  expect(queue.locate('uid-a')).toBe('active');
  queue.close();
});

// ---------------------------------------------------------------------------
// Updates and deletes

test.each<[PodQueueState]>([['active'], ['backoff'], ['unschedulable'], ['inFlight']])('delete from %s', async (state) => {
  const { clock, queue } = setup();
  const entry = await placeIn(state, 'a', queue);
  queue.nominate('uid-a', 'n1');
  expect(queue.delete('uid-a')).toBe(true);
  expect(queue.locate('uid-a')).toBe(state === 'inFlight' ? 'inFlight' : undefined);
  expect(queue.nominatedPodsForNode('n1')).toEqual([]);
  expect(queue.delete('uid-unknown')).toBe(false);
  if (state === 'inFlight') {
    // The attempt of a deleted pod cannot bring it back, nor can an update during it.
    queue.update(pod('a', { resourceVersion: '2' }));
    expect(queue.addUnschedulable(entry!, { unschedulable: false })).toBeUndefined();
    expect(queue.locate('uid-a')).toBeUndefined();
  }
  clock.advance(FIVE_MIN * 2);
  queue.flushBackoffCompleted();
  queue.flushUnschedulableLeftover();
  expect(queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
});

test.each<[string, Partial<Pod>]>([
  ['add of a pod already bound', { nodeName: 'n1' }],
])('%s: the queue does not hold it', (_name, fields) => {
  const { queue } = setup();
  queue.add(pod('a', fields));
  expect(queue.locate('uid-a')).toBeUndefined();
});

test.each<[PodQueueState]>([['active'], ['backoff'], ['unschedulable']])('an update that binds the pod takes it out of %s', async (state) => {
  const { queue } = setup();
  await placeIn(state, 'a', queue);
  queue.update(pod('a', { nodeName: 'n1', resourceVersion: '2' }));
  expect(queue.locate('uid-a')).toBeUndefined();
});

test.each<[string, Partial<Pod>, PodQueueState]>([
  ['a change the filters read (tolerations) moves it out', { tolerations: [{ key: 'k', operator: 2, value: '', effect: 0 }] }, 'backoff'],
  ['a priority change moves it out', { priority: 9 }, 'backoff'],
  ['only a new resourceVersion: stays', {}, 'unschedulable'],
  ['only a nomination written back: stays', { nominatedNodeName: 'n1' }, 'unschedulable'],
])('update of a parked pod: %s', async (_name, fields, want) => {
  const { queue } = setup();
  await placeIn('unschedulable', 'a', queue);
  queue.update(pod('a', { ...fields, resourceVersion: '2' }));
  expect(queue.locate('uid-a')).toBe(want);
  expect(queue.status('uid-a')!.pod.resourceVersion).toBe('2');
});

test('update of a pod in backoffQ keeps it there with the new version', async () => {
  const { queue } = setup();
  await placeIn('backoff', 'a', queue);
  queue.update(pod('a', { priority: 9, resourceVersion: '2' }));
  expect(queue.locate('uid-a')).toBe('backoff');
  expect(queue.status('uid-a')!.pod.priority).toBe(9);
});

test('an update during the attempt is the version that comes back', async () => {
  const { queue } = setup();
  queue.add(pod('a'));
  const entry = await popNow(queue);
  queue.update(pod('a', { priority: 7, resourceVersion: '2' }));
  expect(queue.locate('uid-a')).toBe('inFlight');
  queue.addUnschedulable(entry, { unschedulable: true, rejectorPlugins: [PluginNames.NodeResourcesFit] });
  const status = queue.status('uid-a')!;
  expect(status.pod.resourceVersion).toBe('2');
  expect(status.attempts).toBe(1);
});

test('update of an unknown pod adds it; add of a known pod updates it', () => {
  const { queue } = setup();
  queue.update(pod('a'));
  expect(queue.locate('uid-a')).toBe('active');
  queue.add(pod('a', { priority: 4, resourceVersion: '2' }));
  expect(queue.counts().active).toBe(1);
  expect(queue.status('uid-a')!.pod.priority).toBe(4);
});

test('done ends the attempt without requeueing', async () => {
  const { queue } = setup();
  queue.add(pod('a'));
  await popNow(queue);
  queue.done('uid-a');
  expect(queue.locate('uid-a')).toBeUndefined();
  expect(queue.counts().inFlight).toBe(0);
});

// ---------------------------------------------------------------------------
// pop: waiting, aborting, closing

test('pop waits while activeQ is empty and takes the first pod added', async () => {
  const { queue } = setup();
  let popped: QueuedPod | undefined;
  const pending = queue.pop().then((e) => (popped = e));
  await settle();
  expect(popped).toBeUndefined();
  queue.add(pod('a'));
  // The pod is in flight at once, before the awaiting code runs: a delete now is seen by the attempt.
  expect(queue.locate('uid-a')).toBe('inFlight');
  await pending;
  expect(popped?.pod.name).toBe('a');
  expect(popped?.attempts).toBe(1);
});

test('an aborted pop rejects, and the pod added later stays in activeQ', async () => {
  const { queue } = setup();
  const controller = new AbortController();
  const pending = queue.pop(controller.signal);
  controller.abort();
  await expect(pending).rejects.toHaveProperty('name', 'AbortError');
  queue.add(pod('a'));
  expect(queue.locate('uid-a')).toBe('active');
  expect(queue.counts().inFlight).toBe(0);
});

test('close: a waiting pop resolves with undefined, timers stop, later pops and run() do nothing', async () => {
  const { clock, queue } = setup();
  queue.run();
  const pending = queue.pop();
  queue.close();
  await expect(pending).resolves.toBeUndefined();
  expect(clock.liveTimers()).toBe(0);
  queue.add(pod('a'));
  await expect(queue.pop()).resolves.toBeUndefined();
  queue.run();
  expect(clock.liveTimers()).toBe(0);
  queue.close();
});

// ---------------------------------------------------------------------------
// Nominated pods

test('nominations: from the pod, from preemption during the attempt, kept across updates, cleared on delete', async () => {
  const { queue } = setup();
  queue.add(pod('a', { nominatedNodeName: 'n1' }));
  queue.add(pod('b', { priority: 1 }));
  expect(queue.nominatedPodsForNode('n1').map((p) => p.name)).toEqual(['a']);
  const b = await popNow(queue);
  queue.nominate('uid-b', 'n1'); // PostFilter nominated b
  queue.addUnschedulable(b, { unschedulable: true, rejectorPlugins: [PluginNames.NodeResourcesFit] });
  queue.update(pod('b', { priority: 1, resourceVersion: '2' })); // the API server has not written the nomination yet
  expect(queue.nominatedPodsForNode('n1').map((p) => `${p.name}@${p.resourceVersion}`)).toEqual(['a@1', 'b@2']);
  expect(queue.nominatedNodeName('uid-b')).toBe('n1');
  expect(queue.status('uid-b')!.nominatedNodeName).toBe('n1');
  queue.nominate('uid-b', '');
  queue.nominate('uid-unknown', 'n1');
  queue.delete('uid-a');
  expect(queue.nominatedPodsForNode('n1')).toEqual([]);
});

// ---------------------------------------------------------------------------
// Listing and metrics

test('pendingPods lists every pod with its queue: activeQ in pop order, backoffQ by expiry, the pool, then in flight', async () => {
  const { clock, queue } = setup();
  queue.add(pod('parked', { priority: 9 }));
  queue.add(pod('erred', { priority: 8 }));
  queue.add(pod('flying', { priority: 7 }));
  queue.add(pod('low', { priority: 1 }));
  queue.add(pod('high', { priority: 5 }));
  await failOnce(queue, [PluginNames.NodeAffinity]);
  clock.advance(100);
  await failOnce(queue);
  await popNow(queue);
  const list = queue.pendingPods();
  expect(list.map((p) => [p.pod.name, p.queue, p.attempts])).toEqual([
    ['high', 'active', 0],
    ['low', 'active', 0],
    ['erred', 'backoff', 1],
    ['parked', 'unschedulable', 1],
    ['flying', 'inFlight', 1],
  ]);
  const byName = new Map(list.map((p) => [p.pod.name, p]));
  expect(byName.get('erred')).toMatchObject({ timestamp: T0 + 100, initialAttemptTimestamp: T0, backoffUntil: T0 + 1_100, unschedulablePlugins: [] });
  expect(byName.get('parked')).toMatchObject({ backoffUntil: undefined, unschedulablePlugins: [PluginNames.NodeAffinity] });
  expect(byName.get('parked')!.lastFailure).toMatchObject({ unschedulable: true, plugins: [PluginNames.NodeAffinity], at: T0 });
  expect(byName.get('erred')!.lastFailure).toMatchObject({ unschedulable: false, message: 'boom' });
  expect(queue.status('uid-flying')).toMatchObject({ queue: 'inFlight', attempts: 1 });
  expect(queue.status('uid-none')).toBeUndefined();
  expect(queue.counts()).toEqual({ active: 2, backoff: 1, unschedulable: 1, inFlight: 1 });
});

test('metrics: every entry into a sub-queue is reported with its reason', async () => {
  const incoming: [QueueName, IncomingEvent][] = [];
  const { clock, queue } = setup({ metrics: { incoming: (q, e) => incoming.push([q, e]) } });
  queue.add(pod('a'));
  await failOnce(queue, [PluginNames.NodeResourcesFit]);
  queue.moveOnEvent({ kind: K.AssignedPodDelete });
  clock.advance(1_000);
  queue.flushBackoffCompleted();
  await failOnce(queue, [PluginNames.NodeResourcesFit]);
  clock.advance(FIVE_MIN + 1);
  queue.flushUnschedulableLeftover();
  await failOnce(queue, [PluginNames.NodeResourcesFit]);
  queue.update(pod('a', { priority: 3, resourceVersion: '2' }));
  expect(incoming).toEqual([
    ['active', 'PodAdd'],
    ['unschedulable', 'ScheduleAttemptFailure'],
    ['backoff', 'AssignedPodDelete'],
    ['active', 'BackoffComplete'],
    ['unschedulable', 'ScheduleAttemptFailure'],
    ['active', 'UnschedulableTimeout'],
    ['unschedulable', 'ScheduleAttemptFailure'],
    ['backoff', 'PodUpdate'],
  ]);
});

// ---------------------------------------------------------------------------
// Options

test.each<[string, Partial<SchedulingQueueOptions>, string]>([
  ['a zero initial backoff', { podInitialBackoffMs: 0 }, 'podInitialBackoffMs'],
  ['a negative max backoff', { podMaxBackoffMs: -1 }, 'podMaxBackoffMs'],
  ['a max backoff below the initial one', { podInitialBackoffMs: 5_000, podMaxBackoffMs: 1_000 }, 'podMaxBackoffMs'],
  ['an infinite pool duration', { podMaxInUnschedulablePodsMs: Number.POSITIVE_INFINITY }, 'podMaxInUnschedulablePodsMs'],
  ['a NaN flush interval', { backoffFlushIntervalMs: Number.NaN }, 'backoffFlushIntervalMs'],
  ['a zero pool flush interval', { unschedulableFlushIntervalMs: 0 }, 'unschedulableFlushIntervalMs'],
])('options: %s fails at construction, naming the option', (_name, options, field) => {
  let error: unknown;
  try {
    setup(options);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(QueueOptionsError);
  expect(error).toHaveProperty('field', field);
});

// ---------------------------------------------------------------------------
// The invariant under any sequence of operations

test('a pod is in exactly one place, and the counts add up, whatever the sequence of operations', async () => {
  const name = fc.constantFrom('a', 'b', 'c', 'd');
  const op = fc.oneof(
    fc.tuple(fc.constant('add' as const), name, fc.integer({ min: 0, max: 3 })),
    fc.tuple(fc.constant('delete' as const), name),
    fc.tuple(fc.constant('pop-fail' as const), fc.boolean(), fc.constantFrom(PluginNames.NodeResourcesFit, PluginNames.NodeAffinity, 'Remote')),
    fc.tuple(fc.constant('pop-done' as const)),
    fc.tuple(fc.constant('event' as const), fc.constantFrom<QueueingEventKind>(K.NodeAdd, K.NodeLabelChange, K.AssignedPodDelete)),
    fc.tuple(fc.constant('advance' as const), fc.integer({ min: 0, max: 400_000 })),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
      const { clock, queue } = setup();
      queue.run();
      const known = new Set<string>();
      for (const o of ops) {
        if (o[0] === 'add') {
          queue.add(pod(o[1], { priority: o[2] }));
          known.add(`uid-${o[1]}`);
        } else if (o[0] === 'delete') {
          queue.delete(`uid-${o[1]}`);
          known.delete(`uid-${o[1]}`);
        } else if (o[0] === 'pop-fail' || o[0] === 'pop-done') {
          if (queue.counts().active === 0) continue;
          const entry = await popNow(queue);
          if (o[0] === 'pop-done') {
            queue.done(entry.pod.uid);
            known.delete(entry.pod.uid);
          } else {
            queue.addUnschedulable(entry, { unschedulable: o[1], rejectorPlugins: [o[2]] });
          }
        } else if (o[0] === 'event') {
          queue.moveOnEvent({ kind: o[1] });
        } else {
          clock.advance(o[1]);
        }
      }
      const listed = queue.pendingPods().map((p) => p.pod.uid);
      expect(new Set(listed).size).toBe(listed.length);
      expect(new Set(listed)).toEqual(known);
      const c = queue.counts();
      expect(c.active + c.backoff + c.unschedulable + c.inFlight).toBe(listed.length);
      queue.close();
    }),
  );
});

// ---------------------------------------------------------------------------
// Activate (a Schedule call for a queued pod)

test.each<[PodQueueState, PodQueueState, boolean]>([
  ['backoff', 'active', true],
  ['unschedulable', 'active', true],
  ['active', 'active', true],
  ['inFlight', 'inFlight', true],
])('activate moves a pod in %s to %s at once, without waiting out its backoff or an event', async (from, to, held) => {
  const { queue } = setup();
  await placeIn(from, 'asked', queue);
  expect(queue.activate('uid-asked')).toBe(held);
  expect(queue.locate('uid-asked')).toBe(to);
});

test('activate of a pod the queue does not hold changes nothing', () => {
  const { queue } = setup();
  expect(queue.activate('uid-unknown')).toBe(false);
  expect(queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
});
