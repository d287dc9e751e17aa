import { z } from 'zod';
import { clusterStream, commonConfigSchema, duration, loadConfig } from '@schedmesh/runtime';
import type { ConfigSources } from '@schedmesh/runtime';

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
 * | configMap.natsUrl | SCHEDMESH_CONFIG_MAP__NATS_URL | none: with it, the plugin ConfigMap on the cluster stream reconfigures the gateway |
 * | configMap.name | SCHEDMESH_CONFIG_MAP__NAME | schedmesh-system/schedmesh-plugins |
 * | configMap.key | SCHEDMESH_CONFIG_MAP__KEY | plugins.yaml |
 * | configMap.stream / configMap.subjectPrefix | | SCHEDMESH_CLUSTER / schedmesh.cluster |
 */
export const gatewayConfigSchema = commonConfigSchema
  .extend({
    gateway: z
      .object({
        pluginsFile: z.string().min(1).optional(),
        watch: z.boolean().default(true),
        watchDebounce: duration().default(200),
        maxResponseBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    configMap: z
      .object({
        natsUrl: z.string().min(1).optional(),
        natsToken: z.string().optional(),
        name: z.string().regex(/^[a-z0-9-]+\/[a-z0-9.-]+$/, 'expected "namespace/name"').default('schedmesh-system/schedmesh-plugins'),
        key: z.string().min(1).default('plugins.yaml'),
        stream: z.string().min(1).default(clusterStream.name),
        subjectPrefix: z.string().min(1).default(clusterStream.prefix),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The resolved gateway configuration. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Loads the configuration from SCHEDMESH_CONFIG and SCHEDMESH_* variables; throws ConfigError naming every wrong key. */
export function loadGatewayConfig(sources?: ConfigSources): GatewayConfig {
  return loadConfig(gatewayConfigSchema, sources);
}
