/**
 * Builders for admission's tests, the end-to-end test and the benchmark:
 * AdmissionPolicy and Namespace cluster events, and pods with volumes and
 * service accounts.
 */
import { ClusterEvent, ClusterEventType, Pod } from '@schedmesh/proto/v1/types';
import type { AdmissionPolicy, DeepPartial, Volume } from '@schedmesh/proto/v1/types';

/** Options of {@link policyObject}. */
export interface PolicyObjectOptions {
  generation?: number;
  resourceVersion?: string;
}

/** An AdmissionPolicy object whose spec is `spec` as JSON (any value: invalid specs are fixtures too). */
export function policyObject(name: string, spec: unknown, options: PolicyObjectOptions = {}): AdmissionPolicy {
  return {
    name,
    namespace: '',
    generation: options.generation ?? 1,
    resourceVersion: options.resourceVersion ?? String(options.generation ?? 1),
    specJson: JSON.stringify(spec),
  };
}

/** An upsert (or delete) of an AdmissionPolicy. */
export function policyEvent(name: string, spec: unknown, options: PolicyObjectOptions & { type?: 'upsert' | 'delete'; sequence?: number } = {}): ClusterEvent {
  return ClusterEvent.fromPartial({
    generation: options.sequence ?? 0,
    type: options.type === 'delete' ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT,
    object: { $case: 'admissionPolicy', value: policyObject(name, spec, options) },
  });
}

/** An upsert (or delete) of a Namespace with labels and schedmesh.io annotations. */
export function namespaceEvent(
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
  options: { type?: 'upsert' | 'delete'; sequence?: number } = {},
): ClusterEvent {
  return ClusterEvent.fromPartial({
    generation: options.sequence ?? 0,
    type: options.type === 'delete' ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT,
    object: { $case: 'namespace', value: { name, labels, annotations } },
  });
}

/** A hostPath volume; `type` is the hostPath type ("" = unset, "Socket", "CharDevice", …). */
export function hostPathVolume(name: string, path: string, readOnly = false, type = ''): Volume {
  return { name, source: { $case: 'hostPath', value: { path, type } }, readOnly };
}

/** A pending pod: `admissionPod('web-0', 'team-a', { labels: { app: 'web' }, volumes: [...] })`. */
export function admissionPod(name: string, namespace: string, fields: DeepPartial<Pod> = {}): Pod {
  return Pod.fromPartial({ uid: `uid-${namespace}-${name}`, name, namespace, resourceVersion: '1', ...fields });
}
