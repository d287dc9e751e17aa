// The soak's load: rounds of pods created, scheduled and deleted, one after
// another, so that the cluster never fills and every service keeps seeing
// adds, binds and deletes. A round's pods are deleted once all are bound;
// the next round starts once they are gone.
import { performance } from 'node:perf_hooks';

import { pollUntil } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';

import { createPods, deletePhasePods } from '../scheduling/phase.js';
import { benchPod, NAMESPACE, PHASE_LABEL } from '../scheduling/workloads.js';

/** How long one round may take to be bound before the soak fails (a stall is a finding, not a pause). */
const ROUND_LIMIT_MS = 600_000;

/** What the churn did. */
export interface ChurnFigures {
  rounds: number;
  podsBound: number;
  /** Of them, through kube-scheduler and the extender. */
  podsByExtender: number;
  seconds: number;
}

/** The scheduler of the round's `i`th pod: every `extenderEvery`th is kube-scheduler's. */
const schedulerOf = (i: number, extenderEvery: number): string => (extenderEvery > 0 && i % extenderEvery === 0 ? 'default-scheduler' : 'schedmesh');

/** One round: `batch` pods created, every one seen bound, then deleted. */
async function round(cp: ControlPlane, n: number, batch: number, extenderEvery: number): Promise<number> {
  const phase = `soak-${n}`;
  const pods = Array.from({ length: batch }, (_, i) => benchPod(`${phase}-${i}`, { phase, schedulerName: schedulerOf(i, extenderEvery) }));
  await createPods(cp, pods);
  await pollUntil(
    async () => {
      const items = (await cp.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${PHASE_LABEL}=${phase}` })).items;
      return items.length === batch && items.every((p) => p.spec?.nodeName) ? true : undefined;
    },
    { what: `the ${batch} pods of churn round ${n} bound`, timeoutMs: ROUND_LIMIT_MS, intervalMs: 250 },
  );
  await deletePhasePods(cp, phase);
  return pods.filter((p) => p.spec!.schedulerName === 'default-scheduler').length;
}

/** Runs rounds until `stop()` says so (checked between rounds); resolves with what was done. */
export async function churn(cp: ControlPlane, batch: number, extenderEvery: number, stop: () => boolean, figures: ChurnFigures): Promise<ChurnFigures> {
  const started = performance.now();
  while (!stop()) {
    figures.podsByExtender += await round(cp, figures.rounds, batch, extenderEvery);
    figures.rounds++;
    figures.podsBound += batch;
    figures.seconds = (performance.now() - started) / 1000;
  }
  return figures;
}
