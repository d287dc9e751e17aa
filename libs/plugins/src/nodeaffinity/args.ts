/** NodeAffinityArgs: the arguments of the NodeAffinity plugin (upstream config.NodeAffinityArgs). */
import { nodeAffinitySchema } from '../helpers/k8s-schemas.js';
import { z } from 'zod';

/** The args schema. */
export const nodeAffinityArgsSchema = z
  .object({
    /**
     * Node affinity every pod of the profile gets on top of its own: the
     * required part filters, the preferred part scores.
     */
    addedAffinity: nodeAffinitySchema.optional(),
  })
  .strict();

/** NodeAffinity's validated args. */
export type NodeAffinityArgs = z.output<typeof nodeAffinityArgsSchema>;
