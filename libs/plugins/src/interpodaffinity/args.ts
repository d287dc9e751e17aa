/** InterPodAffinityArgs: the arguments of the InterPodAffinity plugin (upstream config.InterPodAffinityArgs). */
import { z } from 'zod';

/** The args schema. */
export const interPodAffinityArgsSchema = z
  .object({
    /** Score added for an existing pod's required affinity term the incoming pod matches (symmetry); 0..100. */
    hardPodAffinityWeight: z.number().int().min(0).max(100).default(1),
    /** Ignore existing pods' preferred terms when the incoming pod has no preferred term. */
    ignorePreferredTermsOfExistingPods: z.boolean().default(false),
  })
  .strict();

/** InterPodAffinity's validated args. */
export type InterPodAffinityArgs = z.output<typeof interPodAffinityArgsSchema>;
