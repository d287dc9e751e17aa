/**
 * PrioritySort: the queue orders pods by priority, highest first, then by
 * the time they entered the queue (upstream queuesort.PrioritySort).
 *
 * Mirrors kube-scheduler v1.36
 * pkg/scheduler/framework/plugins/queuesort/priority_sort.go.
 */
import { definePlugin, PluginNames } from '@schedmesh/framework';
import type { QueuedPodInfo, QueueSortPlugin } from '@schedmesh/framework';

class PrioritySort implements QueueSortPlugin {
  readonly name = PluginNames.PrioritySort;

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const p1 = a.pod.priority;
    const p2 = b.pod.priority;
    return p1 > p2 || (p1 === p2 && a.timestamp < b.timestamp);
  }
}

/** The PrioritySort factory. */
export const prioritySortPlugin = definePlugin({
  name: PluginNames.PrioritySort,
  points: ['queueSort'],
  create: () => new PrioritySort(),
});
