import type { NatsConnection } from '@nats-io/transport-node';
import { followConfigMap } from '@schedmesh/runtime';
import type { GenerationGate, Logger } from '@schedmesh/runtime';
import type { Gateway } from './gateway.js';

/** Options of {@link followPluginConfigMap}. */
export interface ConfigMapFollowOptions {
  nc: NatsConnection;
  gateway: Gateway;
  logger: Logger;
  /** In sync once the ConfigMap's latest version on the stream (if any) was applied. */
  gate: GenerationGate;
  /** "namespace/name" of the plugin ConfigMap. */
  name: string;
  /** The data key holding the plugins YAML. */
  key: string;
  stream: string;
  subjectPrefix: string;
  signal: AbortSignal;
}

/**
 * Reconfigures the gateway from the plugin ConfigMap that the informer
 * carries on the cluster stream (followConfigMap): every new version is
 * applied with Gateway.reload (an invalid one is refused there and the one in
 * force stays). A deleted ConfigMap, or one without the key, leaves the
 * configuration in force: removing plugins takes an explicit empty list.
 */
export function followPluginConfigMap(options: ConfigMapFollowOptions): Promise<void> {
  return followConfigMap({
    nc: options.nc,
    logger: options.logger,
    gate: options.gate,
    name: options.name,
    key: options.key,
    what: 'plugin',
    stream: options.stream,
    subjectPrefix: options.subjectPrefix,
    signal: options.signal,
    apply: async ({ text, source }) => {
      try {
        await options.gateway.reload(text, { source, kind: 'configmap' });
      } catch {
        // Logged and counted by reload; the configuration in force stays.
      }
    },
  });
}
