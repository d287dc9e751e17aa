import type { NodeLookup } from '@schedmesh/mesh';
import type { ExtenderArgs } from '../wire.js';
import type { VerbDeps } from './deps.js';

/** Node objects for the gateway's REST plugins: the request's when it sent them, else the replica's. */
export function lookupFor(deps: VerbDeps, args: ExtenderArgs): NodeLookup {
  if (args.nodes.size === 0) return deps.replicaNode;
  return (name) => args.nodes.get(name) ?? deps.replicaNode(name);
}
