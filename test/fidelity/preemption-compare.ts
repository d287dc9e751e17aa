// The preemption aspect: kube-scheduler's nominated node and victims beside
// filterscore's candidate search on the same state. kube-scheduler picks one
// candidate (pkg/scheduler/framework/preemption pickOneNodeForPreemption,
// v1.36): fewest PDB violations, lowest highest-victim priority, lowest sum of
// victim priorities, fewest victims, then the latest start of the
// highest-priority victims. The cases' pods have no start time (no kubelet),
// which upstream reads as "now", so that last rule is arbitrary here: any
// candidate equal to schedmesh's best on the first four rules is accepted.
import type { PreemptionCandidate } from '@schedmesh/proto/v1/filterscore';
import type { PreemptionSideBySide } from './runner.js';

/** The first four rules of pickOneNodeForPreemption, as one comparable key. */
function pickKey(c: PreemptionCandidate): string {
  const priorities = c.victims.map((v) => v.priority);
  return [c.numPdbViolations, Math.max(...priorities), priorities.reduce((a, b) => a + b, 0), priorities.length].join('/');
}

const victimNames = (c: PreemptionCandidate): string[] => c.victims.map((v) => v.pod?.name ?? '').sort();

/** How the two sides' preemption differs, in one line; undefined when they agree. */
export function preemptionDifference({ kube, mesh }: PreemptionSideBySide): string | undefined {
  const kubeSaid = kube.nominatedNode === undefined ? 'kube-scheduler nominated no node' : `kube-scheduler nominated ${kube.nominatedNode}, evicting [${kube.victims.join(', ')}]`;
  const [best] = mesh.candidates;
  if (best === undefined || kube.nominatedNode === undefined) {
    if (best === undefined && kube.nominatedNode === undefined) return undefined;
    return `${kubeSaid}; schedmesh: ${best ? `best candidate ${best.nodeName} [${victimNames(best).join(', ')}]` : `no candidate (${mesh.summary})`}`;
  }
  const tied = mesh.candidates.filter((c) => pickKey(c) === pickKey(best));
  const chosen = tied.find((c) => c.nodeName === kube.nominatedNode);
  if (!chosen) {
    const theirs = mesh.candidates.find((c) => c.nodeName === kube.nominatedNode);
    const why = theirs ? `schedmesh ranks it ${pickKey(theirs)} (pdb violations/highest/sum/count)` : 'not a schedmesh candidate';
    return `${kubeSaid} (${why}); schedmesh's best (${pickKey(best)}): ${tied.map((c) => c.nodeName).join(', ')}`;
  }
  const ours = victimNames(chosen);
  return ours.join() === kube.victims.join() ? undefined : `${kubeSaid}; schedmesh's victims on ${chosen.nodeName}: [${ours.join(', ')}]`;
}
