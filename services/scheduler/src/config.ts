import { commonConfigSchema, duration, minGenerationConfigSchema, natsConfigSchema } from '@schedmesh/runtime';
import { z } from 'zod';
import { kubernetesConfigSchema, meshServicesConfigShape } from '@schedmesh/mesh';

/**
 * The scheduler's options (SCHEDMESH_* variables or the YAML file). filterscore
 * is required; admission, reservation and the gateway are optional — a mesh
 * without them skips their steps (without reservation, replicas are not
 * arbitrated: run one).
 */
export const schedulerConfigSchema = commonConfigSchema
  .extend({
    nats: natsConfigSchema.prefault({}),
    minGeneration: minGenerationConfigSchema.prefault({}),
    ...meshServicesConfigShape,
    kubernetes: kubernetesConfigSchema(10_000),
    scheduler: z
      .object({
        /** The schedulerNames served at start-up (the profiles ConfigMap, once read, replaces them): pods naming one are scheduled here. */
        profiles: z.array(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a DNS-1123 subdomain')).min(1).default(['schedmesh']),
        /**
         * The filterscore profile each schedulerName is filtered and scored with; a
         * schedulerName not listed uses the filterscore profile of the same name when
         * it comes from the profiles ConfigMap, else filterscore's default (first) profile.
         */
        filterscoreProfiles: z.record(z.string(), z.string()).default({}),
        /**
         * The profiles ConfigMap ("namespace/name", the KubeSchedulerConfiguration
         * filterscore follows) on the cluster stream: its profiles' schedulerNames
         * replace `profiles`; empty = not followed.
         */
        profilesConfigMap: z.string().regex(/^([a-z0-9-]+\/[a-z0-9.-]+)?$/, 'expected "namespace/name"').default('schedmesh-system/schedmesh-profiles'),
        /** The ConfigMap's data key holding the document. */
        profilesConfigMapKey: z.string().min(1).default('config.yaml'),
        /** Attempts in flight at once. */
        parallelism: z.number().int().min(1).max(256).default(16),
        /** Ranked nodes tried at Reserve when another replica got there first. */
        maxReserveTries: z.number().int().min(1).max(20).default(3),
        /** Lease TTL of a reservation: covers Permit and Bind; a crashed scheduler's room is free again after it. */
        leaseTtl: duration().default(30_000),
        /** Backoff of a failed pod: initial, doubling per attempt up to max (upstream 1s / 10s). */
        podInitialBackoff: duration().default(1_000),
        podMaxBackoff: duration().default(10_000),
        /** Longest stay in the unschedulable pool without an event (upstream 5m). */
        podMaxInUnschedulablePods: duration().default(5 * 60_000),
        /** The durable consumer every replica shares (one name per scheduler deployment). */
        durableName: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('schedmesh-scheduler'),
        /** How long a replica's held pods survive without its heartbeat before another replica takes them. */
        ackWait: duration().default(30_000),
        /** Most pending pods one replica holds. */
        maxHeld: z.number().int().min(1).default(10_000),
        /**
         * What GetSchedulingStatus answers from (records.ts), two LRUs that fill
         * with churn: the last attempt of `capacity` pods (about 0.3 KB each) and
         * the explanation of the `explained` most recently finished (about 1.7 KB
         * each; at most `capacity`, 0: none kept). Full at the defaults: ~32 MiB.
         */
        records: z
          .object({
            capacity: z.number().int().min(1).default(50_000),
            explained: z.number().int().min(0).default(10_000),
          })
          .strict()
          .refine((r) => r.explained <= r.capacity, { message: 'explained must not exceed capacity', path: ['explained'] })
          .prefault({}),
        /** Settled pods' uids remembered so that a late event of one is not attempted again (about 80 bytes each: 7.9 MiB at 100,000, bench/soak/settled-uids-heap.ts). */
        settledMemory: z.number().int().min(1).default(100_000),
        /** Name of this replica on leases and events (default: the host name). */
        instance: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The resolved options. */
export type SchedulerConfig = z.output<typeof schedulerConfigSchema>;
