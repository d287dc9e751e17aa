import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { clusterEventSubject, followClusterStreamResilient } from '@schedmesh/runtime';
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
 * carries on the cluster stream: every new version is applied with
 * Gateway.reload (an invalid one is refused there and the one in force
 * stays). A deleted ConfigMap, or one without the key, leaves the
 * configuration in force: removing plugins takes an explicit empty list.
 *
 * Only the ConfigMap's subject is followed, with followClusterStreamResilient:
 * it waits for the stream (the informer creates it), survives NATS restarts,
 * and a recreated stream replays the current version (the configuration in
 * force stays meanwhile).
 */
export function followPluginConfigMap(options: ConfigMapFollowOptions): Promise<void> {
  const [namespace, name] = options.name.split('/') as [string, string];
  const subject = clusterEventSubject(
    ClusterEvent.fromPartial({ object: { $case: 'configMap', value: { namespace, name } } }),
    options.subjectPrefix,
  );
  const source = `ConfigMap ${options.name}[${options.key}]`;
  return followClusterStreamResilient({
    nc: options.nc,
    logger: options.logger,
    stream: options.stream,
    gate: options.gate,
    filterSubject: subject,
    signal: options.signal,
    retry: { initialMs: 250, maxMs: 2_000 },
    apply: ({ event }) => {
      if (event.object?.$case !== 'configMap') return;
      if (event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE) {
        options.logger.warn({ source }, 'plugin ConfigMap deleted; the configuration in force stays');
        return;
      }
      const text = event.object.value.data[options.key];
      if (text === undefined) {
        options.logger.warn({ source }, 'plugin ConfigMap has no such key; the configuration in force stays');
        return;
      }
      try {
        options.gateway.reload(text, { source, kind: 'configmap' });
      } catch {
        // Logged and counted by reload; the configuration in force stays.
      }
    },
  });
}
