import { z } from 'zod';
import { commonConfigSchema, duration, loadConfig } from '@schedmesh/runtime';
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
  })
  .strict();

/** The resolved gateway configuration. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Loads the configuration from SCHEDMESH_CONFIG and SCHEDMESH_* variables; throws ConfigError naming every wrong key. */
export function loadGatewayConfig(sources?: ConfigSources): GatewayConfig {
  return loadConfig(gatewayConfigSchema, sources);
}
