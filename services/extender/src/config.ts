import { commonConfigSchema, duration, minGenerationConfigSchema, natsConfigSchema } from '@schedmesh/runtime';
import { z } from 'zod';
import { kubernetesConfigSchema, meshServicesConfigShape } from '@schedmesh/mesh';

/**
 * The extender's options (SCHEDMESH_* variables or the YAML file).
 * filterscore is required; admission, reservation and the gateway are
 * optional, as in the scheduler. `nats` (the cluster stream) gives the
 * extender its replica of the nodes and the generation filterscore decides
 * on; without it, node objects come only from requests that carry them.
 */
export const extenderConfigSchema = commonConfigSchema
  .extend({
    nats: natsConfigSchema.optional(),
    minGeneration: minGenerationConfigSchema.prefault({}),
    ...meshServicesConfigShape,
    kubernetes: kubernetesConfigSchema(4_000),
    extender: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(8888),
        /** The path of the verbs, as urlPrefix's path ("" or "/schedmesh"). */
        pathPrefix: z.union([z.literal(''), z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, 'a URL path starting with /')]).default(''),
        /** Largest request body: a 5000-node NodeList is about 25 MB; names only are far smaller. */
        maxBodyBytes: z.number().int().min(1024).default(32 * 1024 * 1024),
        /** Deadline of one verb: keep it under kube-scheduler's httpTimeout (5 s by default). */
        verbTimeout: duration().default(4_000),
        /**
         * How long a verb waits for a node kube-scheduler names that the
         * cluster stream has not brought yet (a fresh node); past it the node
         * is answered as failed. Keep it well under verbTimeout.
         */
        nodeWait: duration().default(1_000),
        /** The filterscore profile the verbs decide with ('' = filterscore's default). */
        profile: z.string().default(''),
        /**
         * At most this many feasible nodes in filter's answer, schedmesh's best
         * first (0: every feasible node). kube-scheduler then scores and
         * prioritizes only those, so less JSON crosses per pod (its 500 names
         * at 5,000 nodes become this many in filter's answer, prioritize's
         * request and its answer), but its own Score plugins (topology spread,
         * affinity) choose among these nodes only: a throughput knob, like
         * percentageOfNodesToScore, not a default.
         */
        maxFeasibleNodes: z.number().int().min(0).max(100_000).default(0),
        /** Lease TTL of a bind's reservation (extenders get no Unreserve: an unconfirmed lease lapses after it). */
        leaseTtl: duration().default(30_000),
        /** Name of this replica on leases and events (default: the host name). */
        instance: z.string().min(1).optional(),
        /** PEM certificate and key files: serve HTTPS (kube-scheduler's enableHTTPS and tlsConfig). */
        tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).strict().optional(),
      })
      .strict()
      // A wait the verb's own deadline cuts short would fail the whole verb instead of the one node.
      .refine((e) => e.nodeWait < e.verbTimeout, { path: ['nodeWait'], message: 'must be shorter than extender.verbTimeout' })
      .prefault({}),
  })
  .strict();

/** The resolved options. */
export type ExtenderConfig = z.output<typeof extenderConfigSchema>;
