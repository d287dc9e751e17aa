import { expect, test } from '@jest/globals';
import { PluginNames } from '@schedmesh/framework';
import { POD_GROUP_PLUGIN } from '@schedmesh/mesh';
import { Node, Pod, TaintEffect } from '@schedmesh/proto/v1/types';
import { EventInterest, IN_TREE_EVENTS_TO_REGISTER, nodeUpdateEvents, podSchedulingPropertiesChanged, QueueingEventKinds as K } from './events.js';
import type { EventsToRegister, QueueingEventKind } from './events.js';

const table: EventsToRegister = {
  ...IN_TREE_EVENTS_TO_REGISTER,
  Stubborn: [],
};

test.each<[string, string[], QueueingEventKind, boolean]>([
  ['NodeResourcesFit, an assigned pod deleted: room freed', [PluginNames.NodeResourcesFit], K.AssignedPodDelete, true],
  ['NodeResourcesFit, allocatable changed', [PluginNames.NodeResourcesFit], K.NodeAllocatableChange, true],
  ['NodeResourcesFit, a label changed: no help', [PluginNames.NodeResourcesFit], K.NodeLabelChange, false],
  ['NodeAffinity, a label changed', [PluginNames.NodeAffinity], K.NodeLabelChange, true],
  ['NodeAffinity, an assigned pod deleted: no help', [PluginNames.NodeAffinity], K.AssignedPodDelete, false],
  ['TaintToleration, taints changed', [PluginNames.TaintToleration], K.NodeTaintChange, true],
  ['NodeUnschedulable, a node uncordoned', [PluginNames.NodeUnschedulable], K.NodeSchedulableChange, true],
  ['InterPodAffinity, a pod bound', [PluginNames.InterPodAffinity], K.AssignedPodAdd, true],
  ['every in-tree rejector takes a new node', [PluginNames.NodeName], K.NodeAdd, true],
  ['an in-tree plugin ignores admission policies', [PluginNames.NodeResourcesFit], K.AdmissionPolicyChange, false],
  ['an unlisted (remote) plugin takes every event', ['RemoteAdmission'], K.AdmissionPolicyChange, true],
  ['an unlisted plugin takes pod group changes too', ['Coscheduling'], K.PodGroupChange, true],
  ['a missing PodGroup, then one created or updated', [POD_GROUP_PLUGIN], K.PodGroupChange, true],
  ['a missing PodGroup: a new node does not create it', [POD_GROUP_PLUGIN], K.NodeAdd, false],
  ['a plugin named like an Object member is still unlisted', ['constructor'], K.NodeAdd, true],
  ['a plugin registering nothing moves on no event', ['Stubborn'], K.NodeAdd, false],
  ['two rejectors: one interested is enough', [PluginNames.NodeAffinity, PluginNames.NodeResourcesFit], K.AssignedPodDelete, true],
  ['two rejectors, neither interested', [PluginNames.NodeAffinity, PluginNames.TaintToleration], K.AssignedPodDelete, false],
  ['no rejector (an error): any event', [], K.PodGroupChange, true],
])('EventInterest: %s', (_name, rejectors, kind, want) => {
  expect(new EventInterest(table).interested(new Set(rejectors), kind)).toBe(want);
});

const baseNode = Node.fromPartial({
  name: 'n1',
  resourceVersion: '1',
  labels: { zone: 'a' },
  allocatable: { milliCpu: 4_000, memory: 8, pods: 110 },
  ready: true,
  images: [{ names: ['nginx'], sizeBytes: 1 }],
});

test.each<[string, Partial<Node>, QueueingEventKind[]]>([
  ['a heartbeat (resourceVersion only)', { resourceVersion: '2' }, []],
  ['new images: nothing a filter reads', { images: [] }, []],
  ['allocatable grew', { allocatable: { milliCpu: 8_000, memory: 8, ephemeralStorage: 0, pods: 110, scalar: {} } }, [K.NodeAllocatableChange]],
  ['a label added', { labels: { zone: 'a', gpu: 'true' } }, [K.NodeLabelChange]],
  ['a taint added', { taints: [{ key: 'k', value: 'v', effect: TaintEffect.TAINT_EFFECT_NO_SCHEDULE }] }, [K.NodeTaintChange]],
  ['cordoned', { unschedulable: true }, [K.NodeSchedulableChange]],
  ['became not ready', { ready: false }, [K.NodeSchedulableChange]],
  ['labels and taints at once', { labels: {}, taints: [{ key: 'k', value: '', effect: TaintEffect.TAINT_EFFECT_NO_EXECUTE }] }, [K.NodeLabelChange, K.NodeTaintChange]],
])('nodeUpdateEvents: %s', (_name, change, want) => {
  expect(nodeUpdateEvents(baseNode, Node.fromPartial({ ...baseNode, ...change }))).toEqual(want);
});

const basePod = Pod.fromPartial({ uid: 'u', namespace: 'default', name: 'p', resourceVersion: '1', priority: 1, creationTime: new Date(0) });

test.each<[string, Partial<Pod>, boolean]>([
  ['resourceVersion only', { resourceVersion: '2' }, false],
  ['a nomination written back', { nominatedNodeName: 'n1' }, false],
  ['the phase', { phase: 2 }, false],
  ['priority', { priority: 2 }, true],
  ['a toleration added', { tolerations: [{ key: 'k', operator: 2, value: '', effect: 0 }] }, true],
  ['a label', { labels: { app: 'web' } }, true],
  ['the node selector', { nodeSelector: { zone: 'a' } }, true],
])('podSchedulingPropertiesChanged: %s', (_name, change, want) => {
  expect(podSchedulingPropertiesChanged(basePod, Pod.fromPartial({ ...basePod, ...change }))).toBe(want);
});
