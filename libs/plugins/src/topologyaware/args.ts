/** TopologyAwareArgs: the arguments of the TopologyAware plugin. */
import { z } from 'zod';

/** The pod label or annotation naming the preferred zone. */
export const PREFERRED_ZONE_KEY = 'schedmesh.io/preferred-zone';
/** The pod label or annotation naming the preferred rack. */
export const PREFERRED_RACK_KEY = 'schedmesh.io/preferred-rack';

/** The args schema. */
export const topologyAwareArgsSchema = z
  .object({
    /** The node label holding the zone. */
    zoneLabel: z.string().min(1).default('topology.kubernetes.io/zone'),
    /** The node label holding the rack. */
    rackLabel: z.string().min(1).default('schedmesh.io/rack'),
    /** How much a zone match counts against a rack match. */
    zoneWeight: z.number().int().min(0).max(100).default(2),
    /** How much a rack match counts against a zone match. */
    rackWeight: z.number().int().min(0).max(100).default(1),
  })
  .strict()
  .refine((a) => a.zoneWeight + a.rackWeight > 0, { message: 'zoneWeight and rackWeight must not both be 0', path: ['zoneWeight'] });

/** TopologyAware's validated args. */
export type TopologyAwareArgs = z.output<typeof topologyAwareArgsSchema>;
