/**
 * The filter verb: the attempt's PreFilter (admission), Filter (filterscore)
 * and the gateway's REST filters, decided only (mode dryRun: no lease, no
 * write), restricted to the nodes kube-scheduler sent. A node that can never
 * fit — outside admission's subset, or rejected with an Unresolvable reason,
 * or every node when admission rejects the pod — goes to
 * FailedAndUnresolvableNodes, so kube-scheduler's preemption does not try it.
 * A node the mesh has not seen yet (waited for, bounded) goes to FailedNodes:
 * a later cycle may find it.
 *
 * The attempt also scores the feasible nodes: kube-scheduler's prioritize
 * follows in the same cycle with exactly those nodes, and is answered from
 * these scores (DecisionCache) instead of a second attempt. With
 * extender.maxFeasibleNodes, only that many of them are answered, the best
 * ranked.
 */
import { StatusCode } from '@schedmesh/framework';
import { toExtenderScores } from '../wire.js';
import type { ExtenderArgs, ExtenderFilterResult } from '../wire.js';
import type { VerbDeps } from './deps.js';
import { decide } from './decide.js';
import { lookupFor } from './lookup.js';

/** Answers ExtenderArgs with an ExtenderFilterResult; a service failure is the result's Error. */
export async function filterVerb(deps: VerbDeps, args: ExtenderArgs, signal: AbortSignal): Promise<ExtenderFilterResult> {
  const result: ExtenderFilterResult = { Nodes: null, NodeNames: null, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' };
  const finish = (feasible: readonly string[]): ExtenderFilterResult => {
    if (args.withNodes) result.Nodes = { items: feasible.map((n) => args.rawNodes.get(n)!).filter((n) => n !== undefined) };
    else result.NodeNames = [...feasible];
    return result;
  };
  // A decision an earlier cycle kept must not answer this cycle's prioritize.
  deps.decisions.forget(args.pod);
  if (args.nodeNames.length === 0) return finish([]);
  const { out, unknown } = await decide(deps, { pod: args.pod, nodeNames: args.nodeNames, nodes: lookupFor(deps, args), preempt: false, score: true }, signal);
  for (const [n, why] of unknown) result.FailedNodes[n] = why;
  if (!out) return finish([]);
  if (out.outcome === 'error') {
    result.Error = `schedmesh could not decide: ${out.message}`;
    return result;
  }
  if (out.outcome === 'rejected') {
    // The pod as a whole (admission): no node will do until the policy or the pod changes.
    for (const n of args.nodeNames) if (!unknown.has(n)) result.FailedAndUnresolvableNodes[n] = out.rejectedNodes.get(n)?.message() ?? out.message;
    return finish([]);
  }
  const feasible = new Set(out.ranked.map((r) => r.nodeName));
  for (const n of args.nodeNames) {
    if (feasible.has(n) || unknown.has(n)) continue;
    const status = out.rejectedNodes.get(n);
    if (!status?.isRejected()) {
      // Not ranked and no reason of its own: the attempt's message says why (a gateway PreFilter, say).
      result.FailedNodes[n] = out.message || 'not feasible';
    } else if (status.code === StatusCode.UnschedulableAndUnresolvable) result.FailedAndUnresolvableNodes[n] = status.message();
    else result.FailedNodes[n] = status.message();
  }
  const kept = bestOf(out.ranked, feasible, deps.maxFeasibleNodes);
  const names = args.nodeNames.filter((n) => kept.has(n));
  deps.decisions.put(args.pod, names, toExtenderScores(out.ranked));
  return finish(names);
}

/**
 * The feasible nodes filter answers: all of them, or (extender.maxFeasibleNodes)
 * the `limit` best ranked. The others are in neither list: kube-scheduler drops
 * the nodes an extender leaves out, and they did not fail (preemption is not
 * asked about them, and nothing reports them).
 */
function bestOf(ranked: readonly { readonly nodeName: string }[], feasible: ReadonlySet<string>, limit: number): ReadonlySet<string> {
  if (limit <= 0 || feasible.size <= limit) return feasible;
  return new Set(ranked.slice(0, limit).map((r) => r.nodeName));
}
