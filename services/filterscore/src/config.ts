import { clientConfigSchema, commonConfigSchema, duration, minGenerationConfigSchema, natsConfigSchema } from '@schedmesh/runtime';
import { z } from 'zod';
import { defaultMaxQueuedEvents } from './replica.js';

/** The filterscore service's options (SCHEDMESH_* variables or the YAML file). */
export const filterScoreConfigSchema = commonConfigSchema
  .extend({
    /** The snapshot service: where it is (address, tls, deadline of a call) and how its Watch is followed. */
    snapshot: clientConfigSchema
      .extend({
        /** host:port of the snapshot service. */
        address: z.string().min(1).default('127.0.0.1:50051'),
        /** Deadline of a call that sets none (the Watch has none). */
        deadline: duration().default(5_000),
        /** Events per Watch frame asked for; 0 = the snapshot service's default. */
        maxBatch: z.number().int().min(0).max(10_000).default(0),
        /** First delay before re-opening a lost Watch; doubles up to maxBackoff. */
        initialBackoff: duration().default(100),
        /** Longest delay between Watch attempts. */
        maxBackoff: duration().default(5_000),
        /**
         * Events of Watch frames that may wait while cycles hold the replica; at the limit the
         * Watch is not read and new cycles are refused RESOURCE_EXHAUSTED until the running ones end.
         */
        maxQueuedEvents: z.number().int().positive().default(defaultMaxQueuedEvents),
      })
      .prefault({}),
    /** Cycles' min_generation waits. */
    minGeneration: minGenerationConfigSchema.prefault({}),
    profiles: z
      .object({
        /** A KubeSchedulerConfiguration-shaped YAML file with the profiles at start-up; absent = the default profile. */
        file: z.string().min(1).optional(),
        /**
         * The profiles ConfigMap ("namespace/name") the informer carries on the cluster
         * stream, followed when `nats` is set: each valid version replaces the profiles.
         */
        configMap: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, 'expected "namespace/name"').default('schedmesh-system/schedmesh-profiles'),
        /** The ConfigMap's data key holding the KubeSchedulerConfiguration document. */
        configMapKey: z.string().min(1).default('config.yaml'),
      })
      .strict()
      .prefault({}),
    /** The cluster stream's NATS; without this block the profiles ConfigMap is not followed. */
    nats: natsConfigSchema.optional(),
    preemption: z
      .object({
        /** Candidates FindPreemptionCandidates returns when the caller asks for 0. */
        defaultMaxCandidates: z.number().int().min(1).default(10),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The resolved options. */
export type FilterScoreConfig = z.output<typeof filterScoreConfigSchema>;

