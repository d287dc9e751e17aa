// What "the same decision" means, aspect by aspect, for one side-by-side case.
import type { NodeScore } from '@schedmesh/proto/v1/types';
import { parseRefusal } from './kube-log.js';
import { preemptionDifference } from './preemption-compare.js';
import type { SideBySide } from './runner.js';

/** The aspects compared. */
export const ASPECTS = ['feasibility', 'chosenNodeTopScored', 'refusalReasons', 'pluginScores', 'preemption'] as const;
export type Aspect = (typeof ASPECTS)[number];

/** What a case holds that a deliberate difference may depend on. */
export type CaseTrait = 'foreignNomination' | 'preemption';
export const CASE_TRAITS: readonly CaseTrait[] = ['foreignNomination', 'preemption'];

/** One aspect of one case on which the two schedulers differ. */
export interface Disagreement {
  readonly caseName: string;
  /** The case's traits. */
  readonly traits: readonly CaseTrait[];
  readonly aspect: Aspect;
  /** The plugin, for pluginScores. */
  readonly plugin?: string;
  /** What each side said, in one line. */
  readonly detail: string;
}

/** One case's comparison: which aspects were compared, which plugins' scores, and what differed. */
export interface CaseComparison {
  readonly caseName: string;
  readonly compared: readonly Aspect[];
  /** Score plugins whose per-node scores were compared. */
  readonly plugins: readonly string[];
  readonly disagreements: readonly Disagreement[];
}

function meshScore(node: NodeScore, plugin: string): number {
  const part = node.plugins.find((p) => p.plugin === plugin);
  return part ? part.score * part.weight : 0;
}

/** Compares kube-scheduler's decision with schedmesh's evaluation of the same pod on the same state. */
export function compareCase({ fidelityCase, kube, mesh, preemption }: SideBySide): CaseComparison {
  const caseName = fidelityCase.name;
  const compared: Aspect[] = ['feasibility'];
  const plugins: string[] = [];
  const disagreements: Disagreement[] = [];
  const traits: CaseTrait[] = [...(fidelityCase.nominated?.length ? ['foreignNomination' as const] : []), ...(preemption ? ['preemption' as const] : [])];
  const differ = (aspect: Aspect, detail: string, plugin?: string) => disagreements.push({ caseName, traits, aspect, detail, ...(plugin ? { plugin } : {}) });

  const kubeBound = kube.node !== undefined;
  const meshFeasible = mesh.ranked.length > 0;
  if (kubeBound !== meshFeasible) {
    differ('feasibility', kubeBound ? `kube-scheduler bound to ${kube.node}; schedmesh: ${mesh.summary}` : `kube-scheduler refused (${kube.message}); schedmesh ranked ${mesh.ranked.map((n) => n.nodeName).join(', ')}`);
  }

  if (kubeBound && meshFeasible) {
    compared.push('chosenNodeTopScored');
    const best = Math.max(...mesh.ranked.map((n) => n.total));
    const chosen = mesh.ranked.find((n) => n.nodeName === kube.node);
    if (!chosen || chosen.total !== best) {
      const top = mesh.ranked.filter((n) => n.total === best).map((n) => n.nodeName);
      differ('chosenNodeTopScored', `kube-scheduler chose ${kube.node} (${chosen ? `schedmesh total ${chosen.total}` : 'infeasible for schedmesh'}); schedmesh's top (${best}): ${top.join(', ')}`);
    }
  }

  if (!kubeBound && !meshFeasible) {
    compared.push('refusalReasons');
    const theirs = parseRefusal(kube.message ?? '');
    const ours = parseRefusal(mesh.summary);
    if (JSON.stringify(sorted(theirs)) !== JSON.stringify(sorted(ours))) differ('refusalReasons', `kube-scheduler: ${kube.message}; schedmesh: ${mesh.summary}`);
  }

  // kube-scheduler logs scores only when it scored (more than one feasible node).
  if (kubeBound && kube.scores.totals.size > 0) {
    compared.push('pluginScores');
    const names = new Set([...kube.scores.plugins.keys(), ...mesh.ranked.flatMap((n) => n.plugins.map((p) => p.plugin))]);
    for (const plugin of [...names].sort()) {
      plugins.push(plugin);
      const theirs = kube.scores.plugins.get(plugin);
      const off = mesh.ranked.filter((n) => (theirs?.get(n.nodeName) ?? 0) !== meshScore(n, plugin));
      if (off.length > 0) {
        const shown = off.slice(0, 3).map((n) => `${n.nodeName}: kube ${theirs?.get(n.nodeName) ?? 0} vs mesh ${meshScore(n, plugin)}`);
        differ('pluginScores', `${off.length}/${mesh.ranked.length} nodes differ (weighted): ${shown.join('; ')}`, plugin);
      }
    }
  }
  if (preemption) {
    compared.push('preemption');
    const difference = preemptionDifference(preemption);
    if (difference !== undefined) differ('preemption', difference);
  }
  return { caseName, compared, plugins, disagreements };
}

function sorted(refusal: ReturnType<typeof parseRefusal>): unknown {
  if (!refusal) return undefined;
  return { nodes: refusal.nodes, reasons: Object.fromEntries(Object.entries(refusal.reasons).sort(([a], [b]) => a.localeCompare(b))) };
}
