/** NodeAffinityArgs: the arguments of the NodeAffinity plugin (upstream config.NodeAffinityArgs). */
import { z } from 'zod';
import { nodeAffinitySchema } from '../../helpers/k8s-schemas.js';

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
