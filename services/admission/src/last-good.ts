/**
 * The last-known-good store: the last valid version of every policy, kept in
 * a JetStream key-value bucket. The cluster stream keeps only the latest
 * version of each object, so after a restart a policy whose latest version is
 * invalid would otherwise have no valid version left to keep in force.
 */
import { StorageType } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { AdmissionPolicy } from '@schedmesh/proto/v1/types';
import { policyKey } from './policy.js';

/** Keeps the last valid version of each policy. */
export interface LastKnownGood {
  /** Records a version that was applied. */
  save(policy: AdmissionPolicy): Promise<void>;
  /** Forgets a deleted policy. */
  forget(key: string): Promise<void>;
  /** The last valid version of a policy, if any. */
  load(key: string): Promise<AdmissionPolicy | undefined>;
}

// Bucket keys allow [-/=.\w]; policy keys are DNS names, "namespace/name" at most.
function bucketKey(key: string): string {
  return key.replace(/[^-\w.]/g, (c) => `=${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Opens (creating if needed) the bucket. */
export async function openLastKnownGood(nc: NatsConnection, bucket: string, options: { memory: boolean; replicas?: number }): Promise<LastKnownGood> {
  const kv: KV = await new Kvm(nc).create(bucket, { history: 1, ...(options.memory ? { storage: StorageType.Memory } : {}), ...(options.replicas ? { replicas: options.replicas } : {}) });
  return {
    async save(policy) {
      await kv.put(bucketKey(policyKey(policy)), AdmissionPolicy.encode(policy).finish());
    },
    async forget(key) {
      await kv.delete(bucketKey(key));
    },
    async load(key) {
      const entry = await kv.get(bucketKey(key));
      if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
      return AdmissionPolicy.decode(entry.value);
    },
  };
}
