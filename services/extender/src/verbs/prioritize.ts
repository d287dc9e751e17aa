/**
 * The prioritize verb: the attempt's filterscore scores plus the gateway's
 * REST Score plugins (mode dryRun), mapped to 0..MaxExtenderPriority. Nodes
 * that did not pass schedmesh's filters, or that it has not seen, score 0. kube-scheduler ignores a
 * failed prioritize (whatever `ignorable` says), so a service failure is a
 * non-200 answer it logs, and its own plugins decide alone.
 * When this cycle's filter already scored exactly these nodes, its scores
 * are the answer (DecisionCache).
 */
import { toExtenderScores } from '../wire.js';
import type { ExtenderArgs, HostPriority } from '../wire.js';
import type { VerbDeps } from './deps.js';
import { decide } from './decide.js';
import { VerbUnavailableError } from './errors.js';
import { lookupFor } from './lookup.js';

/** Answers ExtenderArgs with a HostPriorityList, one entry per node asked about. */
export async function prioritizeVerb(deps: VerbDeps, args: ExtenderArgs, signal: AbortSignal): Promise<HostPriority[]> {
  if (args.nodeNames.length === 0) return [];
  const kept = deps.decisions.take(args.pod, args.nodeNames);
  if (kept) return answer(args.nodeNames, kept);
  const { out } = await decide(deps, { pod: args.pod, nodeNames: args.nodeNames, nodes: lookupFor(deps, args), preempt: false, score: true }, signal);
  if (out?.outcome === 'error') throw new VerbUnavailableError(`schedmesh could not score: ${out.message}`);
  return answer(args.nodeNames, out?.outcome === 'scheduled' ? toExtenderScores(out.ranked) : new Map<string, number>());
}

function answer(names: readonly string[], scores: ReadonlyMap<string, number>): HostPriority[] {
  return names.map((n) => ({ Host: n, Score: scores.get(n) ?? 0 }));
}
