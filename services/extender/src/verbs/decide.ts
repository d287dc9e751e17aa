import type { AttemptResult } from '@schedmesh/mesh';
import type { ExtenderArgs } from '../wire.js';
import type { VerbDeps } from './deps.js';
import { lookupFor } from './lookup.js';

/**
 * The decision filter and prioritize both answer from: the attempt in mode
 * dryRun (no lease, no write), over the nodes kube-scheduler sent, every one
 * of them ranked.
 */
export function decide(deps: VerbDeps, args: ExtenderArgs, signal: AbortSignal): Promise<AttemptResult> {
  return deps.attempt(lookupFor(deps, args)).run({
    pod: args.pod,
    profile: deps.profile,
    minGeneration: deps.generation(),
    mode: 'dryRun',
    // kube-scheduler preempts on its own; a candidate search here would be wasted.
    preempt: false,
    nodeNames: args.nodeNames,
    maxRanked: args.nodeNames.length,
    signal,
  });
}
