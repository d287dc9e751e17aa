// What the API server says about the demo's pods: where each is bound, or why
// it was refused (its PodScheduled condition, as the scheduler wrote it).
import type { CoreV1Api, V1Node, V1Pod } from '@kubernetes/client-node';

import { DEMO_LABEL, NAMESPACES } from './sample.js';

export type PodState = 'bound' | 'refused' | 'retrying' | 'pending';

/** One pod as the demo shows it. */
export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly feature: string;
  readonly state: PodState;
  readonly node?: string;
  /** The PodScheduled=False message (refused or retrying). */
  readonly reason?: string;
}

/** Where a node is. */
export interface NodeView {
  readonly name: string;
  readonly zone: string;
  readonly rack: string;
  readonly pool: string;
}

export function podView(pod: V1Pod): PodView {
  const base = {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    feature: pod.metadata?.labels?.['schedmesh.io/demo-feature'] ?? '',
  };
  if (pod.spec?.nodeName) return { ...base, state: 'bound', node: pod.spec.nodeName };
  const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (!cond) return { ...base, state: 'pending' };
  // Unschedulable: no node fits or a policy refused it (parked until an event); anything else is
  // an error the scheduler retries with backoff.
  return { ...base, state: cond.reason === 'Unschedulable' ? 'refused' : 'retrying', reason: cond.message ?? cond.reason ?? '' };
}

export function nodeView(node: V1Node): NodeView {
  const labels = node.metadata?.labels ?? {};
  return {
    name: node.metadata?.name ?? '',
    zone: labels['topology.kubernetes.io/zone'] ?? '(no zone)',
    rack: labels['schedmesh.io/rack'] ?? '(no rack)',
    pool: labels['schedmesh.io/node-pool'] ?? '',
  };
}

/** Lists the demo's pods in every sample namespace. */
export async function listDemoPods(core: CoreV1Api): Promise<PodView[]> {
  const lists = await Promise.all(NAMESPACES.map((namespace) => core.listNamespacedPod({ namespace, labelSelector: `${DEMO_LABEL}=true` })));
  return lists.flatMap((l) => l.items.map(podView));
}

export async function listNodes(core: CoreV1Api): Promise<NodeView[]> {
  return (await core.listNode({})).items.map(nodeView).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

/** Counts per state. */
export function countStates(pods: readonly PodView[]): Record<PodState, number> {
  const counts: Record<PodState, number> = { bound: 0, refused: 0, retrying: 0, pending: 0 };
  for (const p of pods) counts[p.state]++;
  return counts;
}

/** Pods bound per zone and rack, in name order. */
export function placementByRack(pods: readonly PodView[], nodes: readonly NodeView[]): Map<string, Map<string, number>> {
  const where = new Map(nodes.map((n) => [n.name, n]));
  const table = new Map<string, Map<string, number>>();
  for (const n of nodes) {
    const racks = table.get(n.zone) ?? new Map<string, number>();
    racks.set(n.rack, racks.get(n.rack) ?? 0);
    table.set(n.zone, racks);
  }
  for (const p of pods) {
    const n = p.node !== undefined ? where.get(p.node) : undefined;
    if (!n) continue;
    const racks = table.get(n.zone)!;
    racks.set(n.rack, (racks.get(n.rack) ?? 0) + 1);
  }
  return table;
}

/** Refused pods grouped by their message (the pod's own name in it replaced by <pod>), most frequent first. */
export function refusalsByReason(pods: readonly PodView[]): { reason: string; pods: PodView[] }[] {
  const groups = new Map<string, PodView[]>();
  for (const p of pods) {
    if (p.state !== 'refused') continue;
    const reason = (p.reason ?? '').replaceAll(`${p.namespace}/${p.name}`, '<pod>');
    const list = groups.get(reason) ?? [];
    list.push(p);
    groups.set(reason, list);
  }
  return [...groups.entries()].map(([reason, list]) => ({ reason, pods: list })).sort((a, b) => b.pods.length - a.pods.length || a.reason.localeCompare(b.reason));
}
