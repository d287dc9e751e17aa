/**
 * Cluster events that can make an unschedulable pod fit, and which plugins
 * care about which (upstream EnqueueExtensions.EventsToRegister, simplified
 * to a table: no per-event QueueingHint functions).
 *
 * A pod parked in the unschedulable pool remembers the plugins that rejected
 * it. An event moves it back only if one of those plugins registered the
 * event's kind. A plugin missing from the table (a remote plugin, an
 * extender) is interested in every event, so that nothing waits for the
 * five-minute flush because of a missing row.
 */
import { isDeepStrictEqual } from 'node:util';
import { PluginNames } from '@schedmesh/framework';
import { POD_GROUP_PLUGIN } from '@schedmesh/mesh';
import type { Node, Pod } from '@schedmesh/proto/v1/types';

/** The kinds of cluster event the queue reacts to (upstream's event labels). */
export const QueueingEventKinds = {
  /** A node joined. */
  NodeAdd: 'NodeAdd',
  /** A node's allocatable resources changed. */
  NodeAllocatableChange: 'NodeAllocatableChange',
  /** A node's labels changed (zone, rack and pool are labels too). */
  NodeLabelChange: 'NodeLabelChange',
  /** A node's taints changed. */
  NodeTaintChange: 'NodeTaintChange',
  /** A node was cordoned or uncordoned, or its readiness changed. */
  NodeSchedulableChange: 'NodeSchedulableChange',
  /** A pod was bound to a node (it may satisfy pod affinity or spread). */
  AssignedPodAdd: 'AssignedPodAdd',
  /** A bound pod changed (labels, or requests scaled down). */
  AssignedPodUpdate: 'AssignedPodUpdate',
  /** A bound pod was deleted or finished: its node has room again. */
  AssignedPodDelete: 'AssignedPodDelete',
  /** An AdmissionPolicy was created, changed or deleted. */
  AdmissionPolicyChange: 'AdmissionPolicyChange',
  /** A pod group changed (a member arrived or left, its minimum changed, its PodGroup object was created or updated). */
  PodGroupChange: 'PodGroupChange',
} as const;

/** A kind of cluster event. */
export type QueueingEventKind = (typeof QueueingEventKinds)[keyof typeof QueueingEventKinds];

/** A cluster event, as the scheduler reports it to the queue. */
export interface QueueingEvent {
  readonly kind: QueueingEventKind;
}

/**
 * Which event kinds each plugin registers, by plugin name. A plugin that is
 * not listed is interested in every event; an empty list means no event can
 * undo that plugin's rejection (only the unschedulable flush retries it).
 */
export type EventsToRegister = Readonly<Record<string, readonly QueueingEventKind[]>>;

const K = QueueingEventKinds;

/**
 * The events the in-tree plugins that can reject a pod register (after
 * upstream's EventsToRegister of the same plugins), and the attempt's own
 * pod group step (a missing PodGroup: as coscheduling, PodGroup add and
 * update). Score-only plugins and PrioritySort never reject, so they have no
 * row.
 */
export const IN_TREE_EVENTS_TO_REGISTER: EventsToRegister = {
  [PluginNames.NodeName]: [K.NodeAdd],
  [PluginNames.NodeUnschedulable]: [K.NodeAdd, K.NodeSchedulableChange],
  [PluginNames.TaintToleration]: [K.NodeAdd, K.NodeTaintChange],
  [PluginNames.NodeAffinity]: [K.NodeAdd, K.NodeLabelChange],
  [PluginNames.NodePorts]: [K.NodeAdd, K.AssignedPodDelete],
  [PluginNames.NodeResourcesFit]: [K.NodeAdd, K.NodeAllocatableChange, K.AssignedPodUpdate, K.AssignedPodDelete],
  [PluginNames.PodTopologySpread]: [K.NodeAdd, K.NodeLabelChange, K.NodeTaintChange, K.AssignedPodAdd, K.AssignedPodUpdate, K.AssignedPodDelete],
  [PluginNames.InterPodAffinity]: [K.NodeAdd, K.NodeLabelChange, K.AssignedPodAdd, K.AssignedPodUpdate, K.AssignedPodDelete],
  [POD_GROUP_PLUGIN]: [K.PodGroupChange],
};

/** Answers "could this event undo a rejection by these plugins?" from an EventsToRegister table. */
export class EventInterest {
  private readonly byPlugin: ReadonlyMap<string, ReadonlySet<QueueingEventKind>>;

  constructor(table: EventsToRegister) {
    // A Map, so that a plugin named like an Object.prototype member is not "registered".
    this.byPlugin = new Map(Object.entries(table).map(([plugin, kinds]) => [plugin, new Set(kinds)]));
  }

  /**
   * Whether kind may make a pod rejected by rejectors fit. A pod with no
   * rejector (it failed with an error) moves on any event, as upstream.
   */
  interested(rejectors: ReadonlySet<string>, kind: QueueingEventKind): boolean {
    if (rejectors.size === 0) return true;
    for (const plugin of rejectors) {
      const kinds = this.byPlugin.get(plugin);
      if (kinds === undefined || kinds.has(kind)) return true;
    }
    return false;
  }
}

/**
 * The event kinds a node update amounts to (upstream
 * NodeSchedulingPropertiesChange); empty when nothing the filters read
 * changed (a heartbeat, new images).
 */
export function nodeUpdateEvents(oldNode: Node, newNode: Node): QueueingEventKind[] {
  const kinds: QueueingEventKind[] = [];
  if (!isDeepStrictEqual(oldNode.allocatable, newNode.allocatable)) kinds.push(K.NodeAllocatableChange);
  if (!isDeepStrictEqual(oldNode.labels, newNode.labels)) kinds.push(K.NodeLabelChange);
  if (!isDeepStrictEqual(oldNode.taints, newNode.taints)) kinds.push(K.NodeTaintChange);
  if (oldNode.unschedulable !== newNode.unschedulable || oldNode.ready !== newNode.ready) kinds.push(K.NodeSchedulableChange);
  return kinds;
}

/**
 * Whether an update of a pending pod may change its scheduling outcome
 * (upstream isPodUpdated): anything but the fields the scheduler or the
 * kubelet write back (resourceVersion, the nomination, the phase).
 */
export function podSchedulingPropertiesChanged(oldPod: Pod, newPod: Pod): boolean {
  const strip = ({ resourceVersion: _rv, nominatedNodeName: _nnn, phase: _phase, ...rest }: Pod) => rest;
  return !isDeepStrictEqual(strip(oldPod), strip(newPod));
}
