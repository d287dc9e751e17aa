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

