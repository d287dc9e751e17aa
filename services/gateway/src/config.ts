import { z } from 'zod';
import { commonConfigSchema, duration, natsConfigSchema } from '@schedmesh/runtime';
import { EndpointPolicy } from './endpoint-policy.js';
import type { PluginPolicy } from './plugin-config.js';
import { DEFAULT_SECRET_ROOTS } from './secret-file.js';

/**
 * The gateway's service configuration: the common options plus `gateway.*`.
 * The plugins themselves live in their own document (plugin-config.ts), in
 * `gateway.pluginsFile` and/or the plugin-config ConfigMap.
 *
 * | key | env | default |
 * |---|---|---|
 * | gateway.pluginsFile | SCHEDMESH_GATEWAY__PLUGINS_FILE | none (no plugins until a ConfigMap arrives) |
 * | gateway.watch | SCHEDMESH_GATEWAY__WATCH | true: reload the file when it changes |
 * | gateway.watchDebounce | SCHEDMESH_GATEWAY__WATCH_DEBOUNCE | 200ms |
 * | gateway.maxResponseBytes | SCHEDMESH_GATEWAY__MAX_RESPONSE_BYTES | 4194304 |
 * | gateway.secretRoots | SCHEDMESH_GATEWAY__SECRET_ROOTS | [/var/run/secrets, /etc/schedmesh]: plugin secret and TLS files must lie in one |
 * | gateway.allowedEndpoints | SCHEDMESH_GATEWAY__ALLOWED_ENDPOINTS | none: every endpoint but link-local and metadata addresses |
 * | gateway.insecureCredentialsOverHttp | SCHEDMESH_GATEWAY__INSECURE_CREDENTIALS_OVER_HTTP | false: JWT and HMAC over https only |
 * | nats.* | SCHEDMESH_NATS__URL, … | no block: with one (any nats.* key), the plugin ConfigMap on the cluster stream reconfigures the gateway |
 * | configMap.name | SCHEDMESH_CONFIG_MAP__NAME | schedmesh-system/schedmesh-plugins |
 * | configMap.key | SCHEDMESH_CONFIG_MAP__KEY | plugins.yaml |
 */
export const gatewayConfigSchema = commonConfigSchema
  .extend({
    gateway: z
      .object({
        pluginsFile: z.string().min(1).optional(),
        watch: z.boolean().default(true),
        watchDebounce: duration().default(200),
        maxResponseBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
        /** Directories that plugin secret and TLS files must lie in (symlinks resolved). */
        secretRoots: z.array(z.string().startsWith('/', 'must be an absolute path')).min(1).default([...DEFAULT_SECRET_ROOTS]),
        /** Host names, *.suffixes, IP addresses and CIDRs that plugin endpoints may name; absent: all but link-local and metadata addresses. */
        allowedEndpoints: z
          .array(z.string())
          .min(1)
          .superRefine((entries, ctx) => {
            for (const problem of EndpointPolicy.allowlist(entries).problems) ctx.addIssue({ code: 'custom', message: problem });
          })
          .optional(),
        /** Development only: allow auth.jwt and auth.hmac on http endpoints (the credentials travel in clear). */
        insecureCredentialsOverHttp: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** The plugin ConfigMap the informer carries on the cluster stream (followed when `nats` is set). */
    configMap: z
      .object({
        name: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, 'expected "namespace/name"').default('schedmesh-system/schedmesh-plugins'),
        key: z.string().min(1).default('plugins.yaml'),
      })
      .strict()
      .prefault({}),
    /** The cluster stream's NATS; without this block the plugin ConfigMap is not followed. */
    nats: natsConfigSchema.optional(),
  })
  .strict();

/** The resolved gateway configuration. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;


/** The plugin policy the service configuration sets (gateway.secretRoots, allowedEndpoints, insecureCredentialsOverHttp). */
export function pluginPolicyOf(config: GatewayConfig['gateway']): PluginPolicy {
  return {
    secretRoots: config.secretRoots,
    endpoints: config.allowedEndpoints ? EndpointPolicy.allowlist(config.allowedEndpoints).policy : EndpointPolicy.default,
    insecureCredentialsOverHttp: config.insecureCredentialsOverHttp,
  };
}
