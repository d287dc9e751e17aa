/**
 * The bind verb: the attempt's Reserve (keyed by the pod's UID) → Permit →
 * PreBind → Binding → Confirm on the node kube-scheduler chose
 * (SchedulingAttempt.bindTo). Idempotent: kube-scheduler retries a bind whose
 * answer timed out, and a pod already bound to that node is a success.
 * Extenders get no Unreserve: a lease no bind confirms expires with its TTL.
 * The pod comes from the replica of the cluster stream while it is pending
 * there; the API server is read only when the replica does not hold it.
 */
import { convertPod, EdgeError } from '@schedmesh/model';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { ExtenderBindingArgs, ExtenderBindingResult } from '../wire.js';
import type { VerbDeps } from './deps.js';

/** Binds the pod; a refusal or a service failure is the result's Error. */
export async function bindVerb(deps: VerbDeps, args: ExtenderBindingArgs, signal: AbortSignal): Promise<ExtenderBindingResult> {
  const who = `pod ${args.podNamespace}/${args.podName} (uid ${args.podUid})`;
  const identity = { namespace: args.podNamespace, name: args.podName, uid: args.podUid };
  const viewed = pendingInReplica(deps, args);
  const read = viewed ? { pod: viewed } : await readPending(deps, args, who, signal);
  if ('answer' in read) return read.answer;
  const { pod } = read;
  if (!(await deps.nodeExists(args.node, signal))) return { Error: `node ${args.node} does not exist` };
  const call = deps.binds.begin(pod.uid);
  const out = await deps.attempt(deps.replicaNode).bindTo({ pod, profile: deps.profile, minGeneration: deps.generation(), nodeName: args.node, concurrent: call.concurrent, signal }).finally(call.end);
  if (out.outcome === 'scheduled') return { Error: '' };
  if (out.outcome === 'settled') {
    // Bound meanwhile (a retry racing the first call), deleted, or bound elsewhere: the API server says which.
    const now = await deps.writer.read(identity, signal);
    if (now?.spec?.nodeName === args.node) return { Error: '' };
    return { Error: now ? `${who} is bound to node ${now.spec?.nodeName ?? '?'}, not ${args.node}` : `${who} no longer exists` };
  }
  return { Error: `binding ${who} to ${args.node} failed: ${out.message}` };
}

/**
 * The bind calls of each pod in this process. kube-scheduler retries a bind
 * whose answer is late while the first call still runs; on the same node the
 * retry's Reserve returns the first call's lease (same version), and either
 * call failing before its Binding Unreserves it under the other. So a call
 * counts as concurrent while another bind of its pod runs, or once one
 * started after it: then its attempt renews the lease at every check instead
 * of trusting a fresh one (SchedulingAttempt's `concurrent`). Another
 * extender replica's call needs none of this: its Reserve is refused (another
 * holder's lease).
 */
export class BindCalls {
  private readonly pods = new Map<string, { inFlight: number; started: number }>();

  /** Registers a call for the pod; `end` must run once it finished, whatever the outcome. */
  begin(uid: string): { readonly concurrent: () => boolean; readonly end: () => void } {
    let entry = this.pods.get(uid);
    if (!entry) this.pods.set(uid, (entry = { inFlight: 0, started: 0 }));
    const e = entry;
    e.inFlight++;
    const ticket = ++e.started;
    let ended = false;
    return {
      concurrent: () => e.inFlight > 1 || e.started !== ticket,
      end: () => {
        if (ended) return;
        ended = true;
        if (--e.inFlight === 0) this.pods.delete(uid);
      },
    };
  }

  /** Pods with a bind in flight. */
  get size(): number {
    return this.pods.size;
  }
}

/**
 * The pod as the replica holds it while pending: no read from the API server.
 * A replica behind the API server is safe: the Binding carries the UID
 * (a replaced pod is refused) and the API server refuses a pod bound since;
 * the attempt then ends 'settled' and bindVerb reads the pod to say why.
 */
function pendingInReplica(deps: VerbDeps, args: ExtenderBindingArgs): Pod | undefined {
  const pod = deps.pendingPod(args.podUid);
  return pod?.name === args.podName && pod.namespace === args.podNamespace ? pod : undefined;
}

/** The pod read from the API server and converted, or the verb's answer when there is nothing to bind. */
async function readPending(deps: VerbDeps, args: ExtenderBindingArgs, who: string, signal: AbortSignal): Promise<{ readonly pod: Pod } | { readonly answer: ExtenderBindingResult }> {
  const current = await deps.writer.read({ namespace: args.podNamespace, name: args.podName, uid: args.podUid }, signal);
  if (!current) return { answer: { Error: `${who} does not exist` } };
  const boundTo = current.spec?.nodeName ?? '';
  // Already on that node (a retried bind whose first answer was lost): a success.
  if (boundTo === args.node) return { answer: { Error: '' } };
  if (boundTo !== '') return { answer: { Error: `${who} is already bound to node ${boundTo}` } };
  try {
    return { pod: convertPod(current) };
  } catch (err) {
    if (err instanceof EdgeError) return { answer: { Error: `${who} cannot be scheduled by schedmesh: ${err.message}` } };
    throw err;
  }
}
