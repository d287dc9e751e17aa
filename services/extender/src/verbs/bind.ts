/**
 * The bind verb: the attempt's Reserve (keyed by the pod's UID) → Permit →
 * PreBind → Binding → Confirm on the node kube-scheduler chose
 * (SchedulingAttempt.bindTo). Idempotent: kube-scheduler retries a bind whose
 * answer timed out, and a pod already bound to that node is a success.
 * Extenders get no Unreserve: a lease no bind confirms expires with its TTL.
 */
import { convertPod, EdgeError } from '@schedmesh/model';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { ExtenderBindingArgs, ExtenderBindingResult } from '../wire.js';
import type { VerbDeps } from './deps.js';

/** Binds the pod; a refusal or a service failure is the result's Error. */
export async function bindVerb(deps: VerbDeps, args: ExtenderBindingArgs, signal: AbortSignal): Promise<ExtenderBindingResult> {
  const who = `pod ${args.podNamespace}/${args.podName} (uid ${args.podUid})`;
  const identity = { namespace: args.podNamespace, name: args.podName, uid: args.podUid };
  const current = await deps.writer.read(identity, signal);
  if (!current) return { Error: `${who} does not exist` };
  const boundTo = current.spec?.nodeName ?? '';
  if (boundTo === args.node) return { Error: '' };
  if (boundTo !== '') return { Error: `${who} is already bound to node ${boundTo}` };
  if (!(await deps.nodeExists(args.node, signal))) return { Error: `node ${args.node} does not exist` };
  let pod: Pod;
  try {
    pod = convertPod(current);
  } catch (err) {
    if (err instanceof EdgeError) return { Error: `${who} cannot be scheduled by schedmesh: ${err.message}` };
    throw err;
  }
  const out = await deps.attempt(deps.replicaNode).bindTo({ pod, profile: deps.profile, minGeneration: deps.generation(), nodeName: args.node, signal });
  if (out.outcome === 'scheduled') return { Error: '' };
  if (out.outcome === 'settled') {
    // Bound meanwhile (a retry racing the first call), deleted, or bound elsewhere: the API server says which.
    const now = await deps.writer.read(identity, signal);
    if (now?.spec?.nodeName === args.node) return { Error: '' };
    return { Error: now ? `${who} is bound to node ${now.spec?.nodeName ?? '?'}, not ${args.node}` : `${who} no longer exists` };
  }
  return { Error: `binding ${who} to ${args.node} failed: ${out.message}` };
}
