import { expect, test } from '@jest/globals';
import { PluginNames } from '@schedmesh/framework';
import { Pod } from '@schedmesh/proto/v1/types';
import { IN_TREE_EVENTS_TO_REGISTER, QueueingEventKinds as K } from './events.js';
import type { QueueingEventKind } from './events.js';
import type { QueuedPod } from './queued-pod.js';
import { DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_MS, UnschedulablePool } from './unschedulable-pool.js';

function parked(name: string, rejectors: string[], timestamp = 0): QueuedPod {
  const pod = Pod.fromPartial({ uid: `uid-${name}`, namespace: 'default', name });
  return { pod, timestamp, attempts: 1, initialAttemptTimestamp: 0, unschedulablePlugins: new Set(rejectors), lastFailure: undefined };
}

function poolOf(...entries: QueuedPod[]): UnschedulablePool {
  const pool = new UnschedulablePool(IN_TREE_EVENTS_TO_REGISTER);
  for (const e of entries) pool.add(e);
  return pool;
}

const names = (entries: QueuedPod[]): string[] => entries.map((e) => e.pod.name);

test.each<[string, QueueingEventKind, string[], string[]]>([
  ['an assigned pod deleted frees room: the resource-starved pods leave', K.AssignedPodDelete, ['fit', 'ports', 'spread', 'remote'], ['affinity', 'taint']],
  ['a new node: every in-tree rejector leaves', K.NodeAdd, ['fit', 'affinity', 'taint', 'ports', 'spread', 'remote'], []],
  ['a label change: affinity and spread leave', K.NodeLabelChange, ['affinity', 'spread', 'remote'], ['fit', 'taint', 'ports']],
  ['a taint change', K.NodeTaintChange, ['taint', 'spread', 'remote'], ['fit', 'affinity', 'ports']],
  ['an admission policy change: only the remote rejector leaves', K.AdmissionPolicyChange, ['remote'], ['fit', 'affinity', 'taint', 'ports', 'spread']],
])('takeMovedBy: %s', (_name, kind, moved, stay) => {
  const pool = poolOf(
    parked('fit', [PluginNames.NodeResourcesFit]),
    parked('affinity', [PluginNames.NodeAffinity]),
    parked('taint', [PluginNames.TaintToleration]),
    parked('ports', [PluginNames.NodePorts]),
    parked('spread', [PluginNames.PodTopologySpread]),
    parked('remote', ['RemoteAdmission']),
  );
  expect(names(pool.takeMovedBy(kind))).toEqual(moved);
  expect(names(pool.list())).toEqual(stay);
  expect(pool.size).toBe(stay.length);
});

const FIVE_MIN = DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_MS;

test.each<[string, number, boolean]>([
  ['parked just now', 0, false],
  ['parked exactly five minutes: not yet (strictly longer, as upstream)', FIVE_MIN, false],
  ['parked five minutes and 1 ms', FIVE_MIN + 1, true],
  ['parked an hour', 3_600_000, true],
])('takeLeftovers: %s', (_name, waited, leaves) => {
  const pool = poolOf(parked('a', [PluginNames.NodeResourcesFit], 1_000));
  expect(names(pool.takeLeftovers(1_000 + waited, FIVE_MIN))).toEqual(leaves ? ['a'] : []);
  expect(pool.has('uid-a')).toBe(!leaves);
});

test('get, update and delete by uid', () => {
  const pool = poolOf(parked('a', ['X']));
  expect(pool.get('uid-a')?.pod.name).toBe('a');
  expect(pool.update({ ...parked('a', ['Y']) })).toBe(true);
  expect([...pool.get('uid-a')!.unschedulablePlugins]).toEqual(['Y']);
  expect(pool.update(parked('b', ['X']))).toBe(false);
  expect(pool.has('uid-b')).toBe(false);
  expect(pool.delete('uid-a')?.pod.name).toBe('a');
  expect(pool.delete('uid-a')).toBeUndefined();
  expect(pool.size).toBe(0);
});
