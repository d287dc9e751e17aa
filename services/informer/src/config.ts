import { commonConfigSchema, natsConfigSchema, duration } from '@schedmesh/runtime';
import { z } from 'zod';

/** The informer's options (SCHEDMESH_* variables or the YAML file). */
export const informerConfigSchema = commonConfigSchema
  .extend({
    source: z
      .object({
        /** A YAML cluster to publish instead of watching Kubernetes (demo, tests, benchmarks); also `--fixture FILE`. */
        fixture: z.string().min(1).optional(),
        /** Kubeconfig path; default: KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
        kubeconfig: z.string().min(1).optional(),
        /** Watch the schedmesh.io AdmissionPolicy custom resource. */
        admissionPolicies: z.boolean().default(true),
        /**
         * Watch the PodGroups of scheduler-plugins (scheduling.x-k8s.io/v1alpha1):
         * gangs take their minimum and timeout from them. Without the CRD the
         * watch retries with backoff and readiness does not wait for it.
         */
        podGroups: z.boolean().default(true),
        /** The plugin-config ConfigMap ("namespace/name"); empty = none. */
        pluginConfigMap: z.string().regex(/^([a-z0-9-]+\/[a-z0-9.-]+)?$/, 'expected "namespace/name"').default('schedmesh-system/schedmesh-plugins'),
        /** The profiles ConfigMap ("namespace/name", a KubeSchedulerConfiguration under config.yaml); empty = none. */
        profilesConfigMap: z.string().regex(/^([a-z0-9-]+\/[a-z0-9.-]+)?$/, 'expected "namespace/name"').default('schedmesh-system/schedmesh-profiles'),
        /** Delay before restarting a failed watch (doubles up to 30 s). */
        restartBackoff: duration().default(500),
        /**
         * Pending pods of these schedulerNames that cannot be converted get a
         * FailedScheduling event and PodScheduled=False naming the field (they
         * never reach a scheduler); [] turns it off.
         */
        reportRejectedPods: z.array(z.string().min(1)).default(['schedmesh']),
      })
      .strict()
      .prefault({}),
    /** The cluster stream: the informer creates it (with memoryStorage and replicas) if it is missing. */
    nats: natsConfigSchema.prefault({}),
    /** How the leader keeps the stream (see stream-keeper.ts). */
    stream: z
      .object({
        tombstones: z
          .object({
            /** A deleted object's last message is kept this long: a late older update of it is refused meanwhile. */
            maxAge: duration().default(60 * 60_000),
            /** At most this many tombstones; past it the oldest go. */
            maxCount: z.number().int().positive().default(100_000),
            /** How often tombstones are looked at. */
            sweepInterval: duration().default(60_000),
          })
          .strict()
          .prefault({}),
        /** How often the leader looks at the stream's anchor: a purge is noticed (and the cluster republished) within it. */
        anchorCheck: duration().default(5_000),
      })
      .strict()
      .prefault({}),
    /**
     * One informer publishes at a time: the holder of a coordination.k8s.io
     * Lease (client-go's leader election). Only with the Kubernetes source.
     */
    leaderElection: z
      .object({
        enabled: z.boolean().default(true),
        /** The Lease's namespace; empty: the service account's (in a pod), else the kubeconfig context's, else "default". */
        namespace: z.string().regex(/^([a-z0-9-]+)?$/, 'expected a namespace name').default(''),
        /** The Lease's name. */
        name: z.string().regex(/^[a-z0-9.-]+$/, 'expected a Lease name').default('schedmesh-informer'),
        /** This candidate's identity; empty: hostname_<uuid>. */
        identity: z.string().default(''),
        /** A Lease not renewed for this long is taken over. */
        leaseDuration: duration().default(15_000),
        /** A leader that cannot renew for this long stops publishing (shorter than leaseDuration). */
        renewDeadline: duration().default(10_000),
        /** Delay between attempts to acquire or renew. */
        retryPeriod: duration().default(2_000),
      })
      .strict()
      .refine((le) => le.renewDeadline < le.leaseDuration, { message: 'renewDeadline must be shorter than leaseDuration', path: ['renewDeadline'] })
      .prefault({}),
    labels: z
      .object({
        /** Node label holding the rack. */
        rack: z.string().min(1).default('schedmesh.io/rack'),
        /** Node label holding the node pool. */
        pool: z.string().min(1).default('schedmesh.io/node-pool'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The resolved options. */
export type InformerConfig = z.output<typeof informerConfigSchema>;

