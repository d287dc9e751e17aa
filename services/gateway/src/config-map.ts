import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { clusterEventSubject, followClusterStream, jetStreamClient } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import type { Gateway } from './gateway.js';

/** Options of {@link followPluginConfigMap}. */
export interface ConfigMapFollowOptions {
  nc: NatsConnection;
  gateway: Gateway;
  logger: Logger;
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
 */
export async function followPluginConfigMap(options: ConfigMapFollowOptions): Promise<void> {
  const [namespace, name] = options.name.split('/') as [string, string];
  const subject = clusterEventSubject(
    ClusterEvent.fromPartial({ object: { $case: 'configMap', value: { namespace, name } } }),
    options.subjectPrefix,
  );
  const source = `ConfigMap ${options.name}[${options.key}]`;
  // The stream may not exist yet (the informer creates it), or NATS may be
  // away: keep trying. The stream holds only the latest ConfigMap version, so
  // each (re)start applies the current one.
  while (!options.signal.aborted) {
    try {
      await follow(options, subject, source);
    } catch (err) {
      if (options.signal.aborted) break;
      options.logger.warn({ source, err: (err as Error).message }, 'cannot follow the plugin ConfigMap yet; retrying');
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function follow(options: ConfigMapFollowOptions, subject: string, source: string): Promise<void> {
  await followClusterStream({
    js: jetStreamClient(options.nc),
    logger: options.logger,
    stream: options.stream,
    afterGeneration: 0,
    filterSubject: subject,
    signal: options.signal,
    onEvent: ({ event }) => {
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
