/**
 * The client side of the reservation race (race.test.ts, the forked
 * race-worker.ts and the benchmark): each pod tries nodes in a random order
 * until one grants it a lease or every node refused.
 */
import type { ReserveRequest, ReserveResponse } from '@schedmesh/proto/v1/reservation';
import type { DeepPartial } from '@schedmesh/proto/v1/reservation';
import type { Resources } from '@schedmesh/proto/v1/types';

/** What a racing client needs of the reservation client. */
export interface Reserver {
  reserve(request: DeepPartial<ReserveRequest>): Promise<ReserveResponse>;
}

/** A lease a pod won. */
export interface RaceGrant {
  uid: string;
  node: string;
  version: number;
  requests: Resources;
}

/** A node that refused a pod, and why. */
export interface RaceRefusal {
  uid: string;
  node: string;
  shortResources: string[];
}

/** What one racing client saw. */
export interface RaceResult {
  grants: RaceGrant[];
  refusals: RaceRefusal[];
  /** Milliseconds each Reserve took. */
  latenciesMs: number[];
}

/** A small deterministic PRNG (mulberry32), so a failing race can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Places each pod on the first node (in a random order) that grants it a lease. */
export async function placePods(client: Reserver, options: { pods: readonly string[]; nodes: readonly string[]; requests: Resources; seed: number; holder: string; ttlSeconds?: number }): Promise<RaceResult> {
  const random = prng(options.seed);
  const result: RaceResult = { grants: [], refusals: [], latenciesMs: [] };
  for (const uid of options.pods) {
    const order = [...options.nodes];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const node of order) {
      const started = performance.now();
      const reply = await client.reserve({
        pod: { uid, namespace: 'race', name: uid },
        nodeName: node,
        requests: options.requests,
        ttl: { seconds: options.ttlSeconds ?? 600 },
        holder: options.holder,
      });
      result.latenciesMs.push(performance.now() - started);
      if (reply.result?.$case === 'lease') {
        result.grants.push({ uid, node, version: reply.result.value.fencingVersion, requests: reply.result.value.requests! });
        break;
      }
      result.refusals.push({ uid, node, shortResources: reply.result?.$case === 'conflict' ? reply.result.value.shortResources : [] });
    }
  }
  return result;
}
