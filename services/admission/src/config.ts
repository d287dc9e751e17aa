import { clientConfigSchema, commonConfigSchema, duration, minGenerationConfigSchema, natsConfigSchema } from '@schedmesh/runtime';
import { z } from 'zod';

/** The admission service's options (SCHEDMESH_* variables or the YAML file). */
export const admissionConfigSchema = commonConfigSchema
  .extend({
    nats: natsConfigSchema
      .safeExtend({
        /**
         * JetStream key-value bucket that keeps the last valid version of each
         * policy, so a restart does not lose a policy whose only version left
         * on the stream is invalid. Empty = off.
         */
        lastKnownGoodBucket: z.string().regex(/^[-\w]*$/, 'letters, digits, "-" and "_" only').default('schedmesh_admission_policies'),
      })
      .strict()
      .prefault({}),
    features: z
      .object({
        /** Reject pods of hibernating apps (namespace annotation, pod label/annotation, policy block). */
        hibernation: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    hibernation: z
      .object({
        /** Pod labels naming a pod's app, first present wins (a list, or a comma-separated string from the environment). */
        appLabels: z
          .preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v), z.array(z.string().min(1)).min(1))
          .default(['app.kubernetes.io/name', 'app']),
      })
      .strict()
      .prefault({}),
    hostPath: z
      .object({
        /**
         * A hostPath volume of a pod that no AdmissionPolicy with a hostPath block
         * targets: `deny` (the default: host paths are restricted until a policy
         * allows one) or `allow` (the platform opens them).
         */
        whenNoPolicy: z.enum(['deny', 'allow']).default('deny'),
      })
      .strict()
      .prefault({}),
    labels: z
      .object({
        /** Node label holding the node pool (as the informer's labels.pool): a pod's nodeSelector on it pins a pool. */
        pool: z.string().min(1).default('schedmesh.io/node-pool'),
      })
      .strict()
      .prefault({}),
    kubernetes: z
      .object({
        /** Write each AdmissionPolicy's Accepted condition to its status subresource. */
        policyStatus: z.boolean().default(true),
        /** Check tenant RBAC with SubjectAccessReviews; off = every review is unavailable (the policies' failurePolicy applies). */
        accessReviews: z.boolean().default(true),
        /** Kubeconfig path; default: KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
        kubeconfig: z.string().min(1).optional(),
        /** Budget of one SubjectAccessReview. */
        reviewTimeout: duration().default(2_000),
        /** How long an answer is reused. */
        cacheTtl: duration().default(30_000),
        /** Most answers kept (least recently used evicted first). */
        cacheMaxEntries: z.number().int().min(0).default(10_000),
      })
      .strict()
      .prefault({}),
    /**
     * The Kubernetes ValidatingAdmissionWebhook (POST /validate-pods over
     * HTTPS): host-path and tenant rules on every pod create and update,
     * whoever schedules the pod. Off unless enabled; needs a certificate the
     * API server trusts (the webhook configuration's caBundle).
     */
    validatingWebhook: z
      .object({
        enabled: z.boolean().default(false),
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(8443),
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
        /** Largest AdmissionReview accepted (a pod is at most ~1.5 MiB in etcd). */
        maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
        /** Budget of one decision; keep it under the webhook configuration's timeoutSeconds (deploy/: 10s). */
        timeout: duration().default(5_000),
      })
      .strict()
      .refine((w) => !w.enabled || (w.certFile !== undefined && w.keyFile !== undefined), {
        message: 'validatingWebhook.certFile and validatingWebhook.keyFile are required when the webhook is enabled (the API server calls webhooks over TLS only)',
        path: ['certFile'],
      })
      .prefault({}),
    /** Admit's min_generation waits. */
    minGeneration: minGenerationConfigSchema.prefault({}),
    gateway: clientConfigSchema
      .extend({
        /** GatewayService address ("host:port"); unset = no webhooks (a policy's webhookRef is then unavailable). */
        address: z.string().min(1).optional(),
        /** Deadline of one webhook call through the gateway. */
        deadline: duration().default(2_000),
      })
      .prefault({}),
  })
  .strict();

/** The resolved options. */
export type AdmissionConfig = z.output<typeof admissionConfigSchema>;

