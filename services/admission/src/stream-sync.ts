import type { NatsConnection } from '@nats-io/transport-node';
import { followClusterStreamInto } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { PolicyStore, StoreChange } from './policy-store.js';

/** Options of {@link followPolicies}. */
export interface FollowPoliciesOptions {
  nc: NatsConnection;
  store: PolicyStore;
  logger: Logger;
  /** The cluster stream's name (the informer creates it). */
  stream: string;
  /** Called after each event is applied, before the next (and before the store counts as synced). */
  onChange?: (change: StoreChange) => void | Promise<void>;
  /** A stream message that is not a ClusterEvent. */
  onInvalid?: () => void;
  /** Stops following. */
  signal: AbortSignal;
}

/** The kinds the store reads; the stream's other messages (pods, mostly) only advance its generation, undecoded. */
const POLICY_KINDS = ['admissionPolicy', 'namespace'] as const;

/**
 * Keeps the policy store in step with the cluster stream (see
 * followClusterStreamInto). The whole stream is followed, not only
 * policies and namespaces: the store's generation is then the stream
 * sequence, so an Admit with min_generation (the sequence of any event the
 * caller saw) can wait for it. Only policies and namespaces are decoded and
 * applied (traced); the rest advances the generation. The store is in sync once everything the
 * stream held is applied, out of sync while NATS is away and until it caught
 * up again; a recreated stream resets it.
 */
export function followPolicies(options: FollowPoliciesOptions): Promise<void> {
  const { store, ...follow } = options;
  return followClusterStreamInto({ ...follow, state: store, kinds: POLICY_KINDS });
}
