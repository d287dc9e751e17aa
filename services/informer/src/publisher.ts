import { SpanKind } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { convertAdmissionPolicy, convertConfigMap, convertNamespace, convertNode, convertPod, convertPodDisruptionBudget, convertPodGroup, convertWorkloadSelector, EdgeError, objectKey, splitObjectKey } from '@schedmesh/model';
import type { NodeConvertOptions, WorkloadKind } from '@schedmesh/model';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import type { WorkloadSelector } from '@schedmesh/proto/v1/types';
import { clusterObjectAttributes, MessageTooLargeError, withSpan } from '@schedmesh/runtime';
import type { ClusterObjectKind, Logger } from '@schedmesh/runtime';
import type { Counter } from 'prom-client';
import type { StreamIndex } from './stream-index.js';

/** The Kubernetes kinds the informer carries. */
export type WatchedKind = 'Node' | 'Pod' | 'Namespace' | 'AdmissionPolicy' | 'ConfigMap' | 'PodDisruptionBudget' | 'PodGroup' | WorkloadKind;

/** The stream kind of each Kubernetes kind. */
export const streamKindOf: Record<WatchedKind, ClusterObjectKind> = {
  Node: 'node',
  Pod: 'pod',
  Namespace: 'namespace',
  AdmissionPolicy: 'admissionPolicy',
  ConfigMap: 'configMap',
  PodDisruptionBudget: 'podDisruptionBudget',
  PodGroup: 'podGroup',
  Service: 'service',
  ReplicaSet: 'replicaSet',
  StatefulSet: 'statefulSet',
  ReplicationController: 'replicationController',
};

/** The ClusterEvent case that carries a workload kind's selector. */
function workloadObject(kind: WorkloadKind, value: WorkloadSelector): ClusterEvent['object'] {
  switch (kind) {
    case 'Service':
      return { $case: 'service', value };
    case 'ReplicaSet':
      return { $case: 'replicaSet', value };
    case 'StatefulSet':
      return { $case: 'statefulSet', value };
    case 'ReplicationController':
      return { $case: 'replicationController', value };
  }
}

/** Options of {@link ClusterPublisher}. */
export interface PublisherOptions {
  /** The stream as this informer knows it: publishes go through it, ordered by resourceVersion. */
  index: StreamIndex;
  logger: Logger;
  tracer: Tracer;
  nodeOptions: NodeConvertOptions;
  /** Objects rejected at the edge, by kind and field. */
  rejected: Counter;
  /** Events published, by kind and type. */
  published: Counter;
  /** Events not published because the stream held the same or a later version (another writer was ahead), by kind. */
  stale?: Counter;
  /** Called for each object rejected at the edge (after the metric and the log line). */
  onRejected?: (kind: WatchedKind, obj: unknown, err: unknown) => void;
}

interface Meta {
  name?: unknown;
  namespace?: unknown;
  uid?: unknown;
  resourceVersion?: unknown;
}

function metaOf(obj: unknown): Meta {
  const m = (obj as { metadata?: unknown } | null)?.metadata;
  return m !== null && typeof m === 'object' ? (m) : {};
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Converts Kubernetes objects once, at the edge, into the compact model and
 * publishes them on the cluster stream. A malformed object is rejected with a
 * logged reason and a metric, and never passed on; the stream goes on.
 */
export class ClusterPublisher {
  constructor(private readonly options: PublisherOptions) {}

  /** Publishes the object's new state. Returns false if it was rejected at the edge. */
  async upsert(kind: WatchedKind, obj: unknown): Promise<boolean> {
    let event: ClusterEvent;
    try {
      event = ClusterEvent.fromPartial({ type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: this.convert(kind, obj) });
    } catch (err) {
      // The conversions throw EdgeErrors only; anything else still rejects the object, never the stream.
      this.reject(kind, obj, err, err instanceof EdgeError ? err.field : 'object', 'rejected a malformed object at the edge; it is not published');
      return false;
    }
    try {
      await this.send(kind, event);
    } catch (err) {
      if (!(err instanceof MessageTooLargeError)) throw err;
      // Retrying cannot help and would hold up every later event of the kind
      // (one tenant's 1 MB of labels must not freeze the cluster's pods).
      // The stream keeps the object's last version that fitted, if any.
      const meta = metaOf(obj);
      const edge = new EdgeError(
        { kind, object: objectKey(str(meta.namespace), str(meta.name)), field: 'metadata', reason: `the object is ${err.bytes} bytes in the compact model, over the cluster stream's message size limit (labels and annotations count)` },
        { cause: err },
      );
      this.reject(kind, obj, edge, 'size', 'rejected an object too large for the cluster stream; it is not published');
      return false;
    }
    return true;
  }

  private reject(kind: WatchedKind, obj: unknown, err: unknown, field: string, message: string): void {
    const meta = metaOf(obj);
    this.options.rejected.inc({ kind, field });
    this.options.logger.warn({ kind, object: objectKey(str(meta.namespace), str(meta.name)), reason: err instanceof Error ? err.message : String(err) }, message);
    this.options.onRejected?.(kind, obj, err);
  }

  /** Publishes the object's deletion; only its key fields are read. */
  async delete(kind: WatchedKind, obj: unknown): Promise<void> {
    const m = metaOf(obj);
    const name = str(m.name);
    const namespace = str(m.namespace);
    if (name === '') return;
    await this.send(kind, this.deletion(kind, name, namespace, str(m.uid), str(m.resourceVersion)));
  }

  /**
   * Publishes a deletion by stream key ("name" or "namespace/name"):
   * reconciliation of objects gone while nobody watched. `listVersion` is the
   * resourceVersion of the list they were missing from: the deletion is at
   * least that late, so an older update cannot follow it.
   */
  async deleteKey(kind: WatchedKind, key: string, listVersion = ''): Promise<void> {
    const { namespace, name } = splitObjectKey(key);
    await this.send(kind, this.deletion(kind, name, namespace, '', listVersion));
  }

  private deletion(kind: WatchedKind, name: string, namespace: string, uid: string, resourceVersion: string): ClusterEvent {
    const type = ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
    switch (kind) {
      case 'Node':
        return ClusterEvent.fromPartial({ type, object: { $case: 'node', value: { name, uid, resourceVersion } } });
      case 'Pod':
        return ClusterEvent.fromPartial({ type, object: { $case: 'pod', value: { name, namespace, uid, resourceVersion } } });
      case 'Namespace':
        return ClusterEvent.fromPartial({ type, object: { $case: 'namespace', value: { name } } });
      case 'AdmissionPolicy':
        return ClusterEvent.fromPartial({ type, object: { $case: 'admissionPolicy', value: { name, namespace, resourceVersion } } });
      case 'ConfigMap':
        return ClusterEvent.fromPartial({ type, object: { $case: 'configMap', value: { name, namespace, resourceVersion } } });
      case 'PodDisruptionBudget':
        return ClusterEvent.fromPartial({ type, object: { $case: 'podDisruptionBudget', value: { name, namespace, resourceVersion } } });
      case 'PodGroup':
        return ClusterEvent.fromPartial({ type, object: { $case: 'podGroup', value: { name, namespace, resourceVersion } } });
      case 'Service':
      case 'ReplicaSet':
      case 'StatefulSet':
      case 'ReplicationController':
        return ClusterEvent.fromPartial({ type, object: workloadObject(kind, { name, namespace, resourceVersion }) });
    }
  }

  private convert(kind: WatchedKind, obj: unknown): ClusterEvent['object'] {
    switch (kind) {
      case 'Node':
        return { $case: 'node', value: convertNode(obj, this.options.nodeOptions) };
      case 'Pod':
        return { $case: 'pod', value: convertPod(obj) };
      case 'Namespace':
        return { $case: 'namespace', value: convertNamespace(obj) };
      case 'AdmissionPolicy':
        return { $case: 'admissionPolicy', value: convertAdmissionPolicy(obj) };
      case 'ConfigMap':
        return { $case: 'configMap', value: convertConfigMap(obj) };
      case 'PodDisruptionBudget':
        return { $case: 'podDisruptionBudget', value: convertPodDisruptionBudget(obj) };
      case 'PodGroup':
        return { $case: 'podGroup', value: convertPodGroup(obj) };
      case 'Service':
      case 'ReplicaSet':
      case 'StatefulSet':
      case 'ReplicationController':
        return workloadObject(kind, convertWorkloadSelector(kind, obj));
    }
  }

  private async send(kind: WatchedKind, event: ClusterEvent): Promise<void> {
    const type = event.type === ClusterEventType.CLUSTER_EVENT_TYPE_DELETE ? 'delete' : 'upsert';
    // Each object change starts a trace (the root of everything it causes downstream).
    await withSpan(
      this.options.tracer,
      `informer.publish ${kind}`,
      { kind: SpanKind.PRODUCER, attributes: { ...clusterObjectAttributes(event), 'schedmesh.event': type } },
      async (span) => {
        const outcome = await this.options.index.publish(event);
        if (outcome.kind === 'published') {
          span.setAttribute('schedmesh.generation', outcome.ack.seq);
          this.options.published.inc({ kind, type });
          return;
        }
        span.setAttribute('schedmesh.stale', true);
        this.options.stale?.inc({ kind });
        this.options.logger.debug(
          { kind, subject: clusterObjectAttributes(event)['schedmesh.object.key'], held: outcome.held.version, heldDeleted: outcome.held.deleted, type },
          'not published: the stream holds this version of the object or a later one',
        );
      },
    );
  }
}

