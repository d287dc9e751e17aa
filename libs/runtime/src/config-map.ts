// Following one ConfigMap that the informer carries on the cluster stream:
// the gateway's plugins, the profiles of filterscore and the scheduler.
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { clusterEventSubject, followClusterStreamResilient } from './cluster-stream.js';
import type { GenerationGate } from './generation-gate.js';
import type { Logger } from './logger.js';

/** One version of the followed ConfigMap's key. */
export interface ConfigMapVersion {
  /** The key's text. */
  readonly text: string;
  /** The ConfigMap's resourceVersion. */
  readonly resourceVersion: string;
  /** "ConfigMap namespace/name[key]", for errors and logs. */
  readonly source: string;
}

/** Options of {@link followConfigMap}. */
export interface FollowConfigMapOptions {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  /** In sync once the ConfigMap's latest version on the stream (if any) was applied. */
  readonly gate: GenerationGate;
  /** "namespace/name" of the ConfigMap. */
  readonly name: string;
  /** The data key followed. */
  readonly key: string;
  /** What the ConfigMap holds, for logs ("plugin", "profiles"). */
  readonly what: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  /**
   * Applies one version, in stream order. It refuses an invalid version
   * itself (logs and counts it, keeps the one in force); what it throws is
   * logged and otherwise ignored, so that a bad version is never retried.
   * A returned promise is awaited before the next version (and before the
   * gate counts this one as applied).
   */
  apply(version: ConfigMapVersion): void | Promise<void>;
  readonly signal: AbortSignal;
}

/**
 * Follows one ConfigMap's key on the cluster stream and hands every new
 * version to `apply`. A deleted ConfigMap, or one without the key, leaves
 * the configuration in force (logged): removing a configuration takes an
 * explicit version, never an accident.
 *
 * Only the ConfigMap's subject is followed, with followClusterStreamResilient:
 * it waits for the stream (the informer creates it), survives NATS restarts,
 * and a recreated stream replays the current version (the configuration in
 * force stays meanwhile).
 */
export function followConfigMap(options: FollowConfigMapOptions): Promise<void> {
  const [namespace, name] = options.name.split('/') as [string, string];
  const subject = clusterEventSubject(ClusterEvent.fromPartial({ object: { $case: 'configMap', value: { namespace, name } } }), options.subjectPrefix);
  const source = `ConfigMap ${options.name}[${options.key}]`;
  return followClusterStreamResilient({
    nc: options.nc,
    logger: options.logger,
    stream: options.stream,
    gate: options.gate,
    filterSubject: subject,
    signal: options.signal,
    retry: { initialMs: 250, maxMs: 2_000 },
    apply: async ({ event }) => {
      if (event.object?.$case !== 'configMap') return;
      if (event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE) {
        options.logger.warn({ source }, `${options.what} ConfigMap deleted; the configuration in force stays`);
        return;
      }
      const cm = event.object.value;
      const text = cm.data[options.key];
      if (text === undefined) {
        options.logger.warn({ source }, `${options.what} ConfigMap has no such key; the configuration in force stays`);
        return;
      }
      try {
        await options.apply({ text, resourceVersion: cm.resourceVersion, source });
      } catch (err) {
        options.logger.error({ source, err: (err as Error).message }, `${options.what} ConfigMap version not applied; the configuration in force stays`);
      }
    },
  });
}
