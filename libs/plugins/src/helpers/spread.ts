/**
 * The selector of a pod's default spreading constraints (upstream
 * plugins/helper DefaultSelector and GetPodServices, Kubernetes v1.36).
 */
import type { ControllerKind, SnapshotLister } from '@schedmesh/framework';
import type { Labels } from '@schedmesh/model';
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import type { LabelSelector, Pod, SelectorRequirement } from '@schedmesh/proto/v1/types';

const controllerKinds: ReadonlySet<string> = new Set<ControllerKind>(['ReplicationController', 'ReplicaSet', 'StatefulSet']);

/**
 * The pods a pod is spread from by default: the selectors of every Service
 * of its namespace that selects it (merged: they all match the pod, so they
 * cannot conflict), and the selector of its controlling
 * ReplicationController (merged too), ReplicaSet or StatefulSet (its
 * requirements added), found by the controllerRef's kind and name.
 * Undefined when nothing contributes: such a pod gets no default constraints.
 */
export function defaultSelector(pod: Pod, snapshot: SnapshotLister): LabelSelector | undefined {
  const matchLabels: Record<string, string> = {};
  for (const service of snapshot.services(pod.namespace)) {
    // A Service without a selector selects no pod (not every pod).
    const selector = service.selector?.matchLabels;
    if (selector !== undefined && selectsLabels(selector, pod.labels)) Object.assign(matchLabels, selector);
  }
  const matchExpressions: SelectorRequirement[] = [];
  const owner = controllerOf(pod);
  const controller = owner === undefined ? undefined : snapshot.controller(owner.kind, pod.namespace, owner.name)?.selector;
  if (owner !== undefined && controller !== undefined) {
    if (owner.kind === 'ReplicationController') Object.assign(matchLabels, controller.matchLabels);
    else {
      // Added as requirements, as upstream's Selector.Add: a key the Services also name must match both.
      for (const [key, value] of Object.entries(controller.matchLabels)) matchExpressions.push({ key, operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: [value] });
      matchExpressions.push(...controller.matchExpressions);
    }
  }
  if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) return undefined;
  return { matchLabels, matchExpressions };
}

function selectsLabels(selector: Labels, labels: Labels): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

/** The pod's controlling ReplicationController, ReplicaSet or StatefulSet ("Kind/name" in pod.owner). */
function controllerOf(pod: Pod): { kind: ControllerKind; name: string } | undefined {
  const slash = pod.owner.indexOf('/');
  const kind = pod.owner.slice(0, slash);
  if (slash < 0 || !controllerKinds.has(kind)) return undefined;
  return { kind: kind as ControllerKind, name: pod.owner.slice(slash + 1) };
}
