/** PodTopologySpreadArgs: the arguments of the PodTopologySpread plugin (upstream config.PodTopologySpreadArgs). */
import { z } from 'zod';

const constraintSchema = z
  .object({
    maxSkew: z.number().int().min(1),
    topologyKey: z.string().min(1),
    whenUnsatisfiable: z.enum(['DoNotSchedule', 'ScheduleAnyway']),
    /** Not allowed in default constraints: the selector comes from the pod's Services and controller. */
    labelSelector: z.unknown().optional(),
    minDomains: z.number().int().min(1).optional(),
    nodeAffinityPolicy: z.enum(['Honor', 'Ignore']).optional(),
    nodeTaintsPolicy: z.enum(['Honor', 'Ignore']).optional(),
    matchLabelKeys: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** A default constraint as written. */
export type DefaultConstraint = z.output<typeof constraintSchema>;

/** The constraints upstream applies with defaultingType System. */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly DefaultConstraint[] = Object.freeze([
  { maxSkew: 3, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', matchLabelKeys: [] },
  { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', matchLabelKeys: [] },
]);

/** The args schema. */
export const podTopologySpreadArgsSchema = z
  .object({
    /** Constraints for pods that declare none (defaultingType List). */
    defaultConstraints: z.array(constraintSchema).default([]),
    /** System: the built-in soft constraints; List: defaultConstraints. */
    defaultingType: z.enum(['System', 'List']).default('System'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.defaultingType === 'System' && a.defaultConstraints.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['defaultConstraints'], message: 'must be empty when defaultingType is System' });
    }
    const seen = new Set<string>();
    a.defaultConstraints.forEach((c, i) => {
      if (c.labelSelector !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['defaultConstraints', i, 'labelSelector'], message: "must not be set: default constraints select the pod's siblings" });
      }
      if (c.minDomains !== undefined && c.whenUnsatisfiable !== 'DoNotSchedule') {
        ctx.addIssue({ code: 'custom', path: ['defaultConstraints', i, 'minDomains'], message: 'only allowed with whenUnsatisfiable DoNotSchedule' });
      }
      const key = `${c.topologyKey}/${c.whenUnsatisfiable}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['defaultConstraints', i], message: `duplicate constraint for topologyKey ${c.topologyKey} and ${c.whenUnsatisfiable}` });
      seen.add(key);
    });
  });

/** PodTopologySpread's validated args. */
export type PodTopologySpreadArgs = z.output<typeof podTopologySpreadArgsSchema>;
