import { commonConfigSchema, duration, minGenerationConfigSchema, natsConfigSchema } from '@schedmesh/runtime';
import { z } from 'zod';
import { defaultWatchMaxQueuedBytes } from './watch-hub.js';

/** The snapshot service's options (SCHEDMESH_* variables or the YAML file). */
export const snapshotConfigSchema = commonConfigSchema
  .extend({
    nats: natsConfigSchema.prefault({}),
    minGeneration: minGenerationConfigSchema.prefault({}),
    watch: z
      .object({
        /** Recent events kept so watchers can resume without a full state. */
        retain: z.number().int().min(0).default(100_000),
        /** Bytes of undelivered events (encoded size) a slow watcher may hold before it is cut off. */
        maxQueuedBytes: z.number().int().positive().default(defaultWatchMaxQueuedBytes),
      })
      .strict()
      .prefault({}),
    poolHealth: z
      .object({
        /** Quiet time after node changes before pool health is recomputed. */
        debounce: duration().default(500),
        /** Fraction of ready, schedulable nodes for a pool to count as healthy. */
        healthyThreshold: z.number().min(0).max(1).default(0.8),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The resolved options. */
export type SnapshotConfig = z.output<typeof snapshotConfigSchema>;

