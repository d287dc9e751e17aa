import { ClusterEventType } from '@schedmesh/proto/v1/types';
import { clusterKindFilter, clusterObjectKey, followClusterStream } from '@schedmesh/runtime';
import type { ClusterObjectKind, Logger } from '@schedmesh/runtime';
import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * The keys of the objects of one kind that the stream holds as live (their
 * latest message is an UPSERT). Used to publish deletions for objects that
 * disappeared while no informer was watching.
 */
export async function liveKeys(nc: NatsConnection, js: JetStreamClient, options: { stream: string; prefix: string; kind: ClusterObjectKind; logger: Logger }): Promise<Set<string>> {
  const filter = clusterKindFilter(options.kind, options.prefix);
  const info = await (await jetstreamManager(nc)).streams.info(options.stream, { subjects_filter: filter });
  const keys = new Set<string>();
  if (!info.state.subjects || Object.keys(info.state.subjects).length === 0) return keys;
  const ac = new AbortController();
  const head = info.state.last_seq;
  await followClusterStream({
    js,
    logger: options.logger,
    stream: options.stream,
    afterGeneration: 0,
    filterSubject: filter,
    signal: ac.signal,
    onEvent: ({ event, pending }) => {
      const key = clusterObjectKey(event);
      if (event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE) keys.delete(key);
      else keys.add(key);
      if (pending === 0 || event.generation >= head) ac.abort();
    },
  });
  return keys;
}
