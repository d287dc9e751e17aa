// The one scheduling profile both sides run: schedmesh's default profile
// (libs/scheduling DEFAULT_MULTI_POINT) without TopologyAware, which
// kube-scheduler has not, and kube-scheduler v1.36's default multiPoint set
// restricted to those plugins (its volume plugins have nothing to do for
// pods without volumes), with the same score weights. Every node is
// filtered and scored on both sides (percentageOfNodesToScore: 100), so a
// 200-node case is not sampled differently.
import type { KubeSchedulerConfiguration } from '@schedmesh/testkit';

/** The plugins compared, with upstream's default score weights (0: not a Score plugin). */
export const COMPARED_PLUGINS: ReadonlyArray<{ readonly name: string; readonly weight: number }> = [
  { name: 'PrioritySort', weight: 0 },
  { name: 'NodeUnschedulable', weight: 0 },
  { name: 'NodeName', weight: 0 },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts', weight: 0 },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption', weight: 0 },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
];

/** Plugins only kube-scheduler needs: the gate that holds a case's pod, and binding. */
const KUBE_ONLY = ['SchedulingGates', 'DefaultBinder'];

const pluginRef = (p: { name: string; weight: number }) => (p.weight > 0 ? { name: p.name, weight: p.weight } : { name: p.name });

/** The stock kube-scheduler's configuration: exactly COMPARED_PLUGINS (plus the gate and the binder). */
export function kubeSchedulerProfile(): KubeSchedulerConfiguration {
  return {
    percentageOfNodesToScore: 100,
    profiles: [
      {
        schedulerName: 'default-scheduler',
        plugins: { multiPoint: { enabled: [...KUBE_ONLY.map((name) => ({ name })), ...COMPARED_PLUGINS.map(pluginRef)], disabled: [{ name: '*' }] } },
      },
    ],
  };
}

/** schedmesh's profile, as the profiles ConfigMap carries it: its default multiPoint set, restated as COMPARED_PLUGINS. */
export function schedmeshProfile(): KubeSchedulerConfiguration {
  return {
    percentageOfNodesToScore: 100,
    profiles: [{ schedulerName: 'schedmesh', plugins: { multiPoint: { enabled: COMPARED_PLUGINS.map(pluginRef), disabled: [{ name: '*' }] } } }],
  };
}
