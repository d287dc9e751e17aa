/** NodeResourcesBalancedAllocationArgs (upstream config.NodeResourcesBalancedAllocationArgs). */
import { resourceSpecSchema } from '../helpers/k8s-schemas.js';
import { DEFAULT_RESOURCES } from '../helpers/resource-allocation.js';
import { z } from 'zod';

/** The args schema. */
export const nodeResourcesBalancedAllocationArgsSchema = z
  .object({
    /** The resources whose utilization is balanced; default cpu and memory. Weights are accepted and, as upstream, unused. */
    resources: z
      .array(resourceSpecSchema)
      .min(1)
      .default(() => DEFAULT_RESOURCES.map((r) => ({ ...r }))),
  })
  .strict();

/** NodeResourcesBalancedAllocation's validated args. */
export type NodeResourcesBalancedAllocationArgs = z.output<typeof nodeResourcesBalancedAllocationArgsSchema>;
