/**
 * Zod schemas for the Kubernetes-shaped objects plugin args carry (node
 * affinity, label selectors, topology spread constraints), written as a
 * KubeSchedulerConfiguration writes them and converted to the proto model.
 * Every problem is an issue at its field path.
 */
import { labelKeyProblem, labelValueProblem, requirementProblem, selectorOperatorFromString } from '@schedmesh/model';
import type { RequirementKind } from '@schedmesh/model';
import type { LabelSelector, NodeAffinity, NodeSelectorTerm, PreferredSchedulingTerm, SelectorRequirement } from '@schedmesh/proto/v1/types';
import { z } from 'zod';

const OPERATORS: Readonly<Record<RequirementKind, string>> = {
  label: '"DoesNotExist", "Exists", "In", "NotIn"',
  node: '"DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"',
  field: '"In", "NotIn"',
};

function requirementSchema(kind: RequirementKind): z.ZodType<SelectorRequirement> {
  return z
    .object({ key: z.string(), operator: z.string(), values: z.array(z.string()).default([]) })
    .strict()
    .transform((raw, ctx) => {
      const operator = selectorOperatorFromString(raw.operator, kind);
      if (operator === undefined) {
        ctx.addIssue({ code: 'custom', path: ['operator'], message: `unsupported value ${JSON.stringify(raw.operator)}: supported values: ${OPERATORS[kind]}` });
        return z.NEVER;
      }
      const req: SelectorRequirement = { key: raw.key, operator, values: raw.values };
      const problem = requirementProblem(req, kind);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.reason });
        return z.NEVER;
      }
      return req;
    });
}

/** metav1.LabelSelector. */
export const labelSelectorSchema: z.ZodType<LabelSelector> = z
  .object({
    matchLabels: z.record(z.string(), z.string()).default({}),
    matchExpressions: z.array(requirementSchema('label')).default([]),
  })
  .strict()
  .superRefine((selector, ctx) => {
    for (const [key, v] of Object.entries(selector.matchLabels)) {
      const problem = labelKeyProblem(key) ?? labelValueProblem(v);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['matchLabels', key], message: problem });
    }
  });

/** v1.NodeSelectorTerm. */
export const nodeSelectorTermSchema: z.ZodType<NodeSelectorTerm> = z
  .object({
    matchExpressions: z.array(requirementSchema('node')).default([]),
    matchFields: z.array(requirementSchema('field')).default([]),
  })
  .strict();

const preferredTermSchema: z.ZodType<PreferredSchedulingTerm> = z
  .object({ weight: z.number().int().min(1).max(100), preference: nodeSelectorTermSchema })
  .strict();

/** v1.NodeAffinity, as NodeAffinityArgs.addedAffinity writes it. */
export const nodeAffinitySchema: z.ZodType<NodeAffinity> = z
  .object({
    requiredDuringSchedulingIgnoredDuringExecution: z
      .object({ nodeSelectorTerms: z.array(nodeSelectorTermSchema).min(1, 'must have at least one node selector term') })
      .strict()
      .optional(),
    preferredDuringSchedulingIgnoredDuringExecution: z.array(preferredTermSchema).default([]),
  })
  .strict()
  .transform((a) => ({
    required: a.requiredDuringSchedulingIgnoredDuringExecution === undefined ? undefined : { terms: a.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms },
    preferred: a.preferredDuringSchedulingIgnoredDuringExecution,
  }));

/** A resource and its weight in a scoring strategy (config.ResourceSpec). */
export const resourceSpecSchema = z.object({ name: z.string().min(1), weight: z.number().int().min(1).max(100) }).strict();

/** A resource and its weight. */
export type ResourceSpec = z.output<typeof resourceSpecSchema>;
