/** DefaultPreemptionArgs: the arguments of the DefaultPreemption plugin (upstream config.DefaultPreemptionArgs). */
import { z } from 'zod';

/** The args schema. */
export const defaultPreemptionArgsSchema = z
  .object({
    /** Candidates to look for, as a percentage of the nodes where preemption might help (0..100). */
    minCandidateNodesPercentage: z.number().int().min(0).max(100).default(10),
    /** Candidates to look for at least. */
    minCandidateNodesAbsolute: z.number().int().min(0).default(100),
  })
  .strict()
  .refine((a) => a.minCandidateNodesPercentage > 0 || a.minCandidateNodesAbsolute > 0, {
    message: 'minCandidateNodesPercentage and minCandidateNodesAbsolute must not both be 0',
    path: ['minCandidateNodesAbsolute'],
  });

/** DefaultPreemption's validated args. */
export type DefaultPreemptionArgs = z.output<typeof defaultPreemptionArgsSchema>;
