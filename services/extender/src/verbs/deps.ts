/** What the verbs share: one attempt per request over the mesh, and the extender's view of the nodes. */
import type { SchedulingAttempt, NodeLookup, PodWriter } from '@schedmesh/mesh';
import type { Logger } from '@schedmesh/runtime';

/** The verbs' dependencies (app.ts builds them; tests fake them). */
export interface VerbDeps {
  /** An attempt whose node lookup is `nodes` (the request's nodes first, then the replica's). */
  attempt(nodes: NodeLookup): SchedulingAttempt;
  /** The node objects of the extender's replica of the cluster stream (undefined without one). */
  readonly replicaNode: NodeLookup;
  /** The generation the replica has applied (0 without one): filterscore decides on at least that. */
  generation(): number;
  /** Whether a node exists in the API server (the bind verb's check; Binding does not make it). */
  nodeExists(name: string, signal: AbortSignal): Promise<boolean>;
  readonly writer: PodWriter;
  /** The filterscore profile to decide with ('' = filterscore's default). */
  readonly profile: string;
  readonly logger: Logger;
}
