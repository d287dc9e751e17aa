/** NodeResourcesFitArgs: the arguments of the NodeResourcesFit plugin (upstream config.NodeResourcesFitArgs). */
import { resourceSpecSchema } from '../helpers/k8s-schemas.js';
import { DEFAULT_RESOURCES } from '../helpers/resource-allocation.js';
import { z } from 'zod';

/** The scoring strategies. */
export const SCORING_STRATEGIES = ['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio'] as const;

/** The highest score a RequestedToCapacityRatio shape point may give (upstream MaxCustomPriorityScore). */
export const MAX_CUSTOM_PRIORITY_SCORE = 10;

const shapePointSchema = z
  .object({
    /** Utilization in percent, 0..100. */
    utilization: z.number().int().min(0).max(100),
    /** Score at that utilization, 0..10 (scaled to 0..100). */
    score: z.number().int().min(0).max(MAX_CUSTOM_PRIORITY_SCORE),
  })
  .strict();

const scoringStrategySchema = z
  .object({
    type: z.enum(SCORING_STRATEGIES).default('LeastAllocated'),
    /** Resources scored and their weights; default cpu:1, memory:1. */
    resources: z.array(resourceSpecSchema).min(1).default(() => DEFAULT_RESOURCES.map((r) => ({ ...r }))),
    requestedToCapacityRatio: z
      .object({
        shape: z
          .array(shapePointSchema)
          .min(1)
          .superRefine((shape, ctx) => {
            for (let i = 1; i < shape.length; i++) {
              if ((shape[i]?.utilization ?? 0) <= (shape[i - 1]?.utilization ?? 0)) {
                ctx.addIssue({ code: 'custom', path: [i, 'utilization'], message: 'utilization values must be sorted in increasing order' });
              }
            }
          }),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.type === 'RequestedToCapacityRatio' && s.requestedToCapacityRatio === undefined) {
      ctx.addIssue({ code: 'custom', path: ['requestedToCapacityRatio'], message: 'required when type is RequestedToCapacityRatio' });
    }
    if (s.type !== 'RequestedToCapacityRatio' && s.requestedToCapacityRatio !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['requestedToCapacityRatio'], message: `must not be set when type is ${s.type}` });
    }
    const seen = new Set<string>();
    s.resources.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['resources', i, 'name'], message: `duplicate resource ${r.name}` });
      seen.add(r.name);
    });
  });

/** The args schema. */
export const nodeResourcesFitArgsSchema = z
  .object({
    /** Extended resources the filter ignores. */
    ignoredResources: z.array(z.string().min(1)).default([]),
    /** Extended resource groups (the part before "/") the filter ignores. */
    ignoredResourceGroups: z.array(z.string().min(1).refine((g) => !g.includes('/'), 'must not contain "/"')).default([]),
    scoringStrategy: scoringStrategySchema.prefault({}),
  })
  .strict();

/** NodeResourcesFit's validated args. */
export type NodeResourcesFitArgs = z.output<typeof nodeResourcesFitArgsSchema>;
