/** What the verbs share: one attempt per request over the mesh, and the extender's view of the nodes. */
import type { SchedulingAttempt, NodeLookup, PodWriter } from '@schedmesh/mesh';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { Logger } from '@schedmesh/runtime';
import type { NodesCovered } from '../node-view.js';
import type { BindCalls } from './bind.js';
import type { DecisionCache } from './decisions.js';

/** The verbs' dependencies (app.ts builds them; tests fake them). */
export interface VerbDeps {
  /** An attempt whose node lookup is `nodes` (the request's nodes first, then the replica's). */
  attempt(nodes: NodeLookup): SchedulingAttempt;
  /** The node objects of the extender's replica of the cluster stream (undefined without one). */
  readonly replicaNode: NodeLookup;
  /**
   * The pending pod with this UID as the replica last saw it (undefined
   * without a synced replica, or once the replica saw it bound or deleted):
   * bind decides on it instead of reading the pod from the API server, since
   * the Binding's UID precondition and reservation refuse a pod that moved on.
   */
  pendingPod(uid: string): Pod | undefined;
  /** The generation the replica has applied (0 without one): filterscore decides on at least that. */
  generation(): number;
  /**
   * The generation filterscore and admission must decide at: one that holds
   * the pod's latest write the replica has seen (all it has applied when it
   * has not seen the pod yet) and every named node. A node kube-scheduler
   * names that the replica does not hold yet (a fresh node) is waited for,
   * at most `nodeWaitMs`; the names still missing then are returned. Not the
   * replica's newest generation: pods keep arriving, and waiting for the
   * services to apply the latest of them would decide nothing better about
   * this pod. Without a replica: generation 0 and nothing missing
   * (filterscore reports the nodes it does not hold).
   */
  coverNodes(pod: Pod, names: readonly string[], signal: AbortSignal): Promise<NodesCovered>;
  /** The bound of {@link coverNodes}' wait, in ms. */
  readonly nodeWaitMs: number;
  /** Whether a node exists in the API server (the bind verb's check; Binding does not make it). */
  nodeExists(name: string, signal: AbortSignal): Promise<boolean>;
  readonly writer: PodWriter;
  /** The bind calls in flight per pod: a retry of a late bind makes both calls renew their shared lease. */
  readonly binds: BindCalls;
  /** Filter's scores, kept for the prioritize call of the same cycle. */
  readonly decisions: DecisionCache;
  /** The filterscore profile to decide with ('' = filterscore's default). */
  readonly profile: string;
  /** At most this many feasible nodes in filter's answer, the best ranked (0: all); see extender.maxFeasibleNodes. */
  readonly maxFeasibleNodes: number;
  readonly logger: Logger;
}
