/**
 * The Kubernetes writes of a scheduling attempt, as kube-scheduler makes
 * them: the Binding subresource, the pod's PodScheduled condition and
 * nominated node, the FailedScheduling/Scheduled events, metadata patches
 * from PreBind plugins, and evictions for preemption.
 */
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { KubeApiError, PatchType, podPath } from './api.js';
import type { KubeApi } from './api.js';

/** Which pod a write is about (the UID is a precondition where the API allows one). */
export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** The outcome of a bind. */
export type BindOutcome =
  /** The pod is bound to the node (now, or by an earlier attempt whose answer was lost). */
  | { readonly kind: 'bound'; readonly already: boolean }
  /** The pod is bound to another node, by someone else. */
  | { readonly kind: 'boundElsewhere'; readonly nodeName: string }
  /** The pod no longer exists (or is another pod with the same name). */
  | { readonly kind: 'gone' };

/** Labels and annotations to merge into a pod (a PreBind mutation). */
export interface MetadataPatch {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An event about a pod (events.k8s.io/v1). */
export interface PodEvent {
  readonly type: 'Normal' | 'Warning';
  /** "Scheduled", "FailedScheduling", "Preempted", … */
  readonly reason: string;
  /** What was being done: "Scheduling", "Binding", "Preempting". */
  readonly action: string;
  /** The human-readable message (kubectl describe's "Message"). */
  readonly note: string;
}

/** Options of {@link PodWriter}. */
export interface PodWriterOptions {
  /** The controller named on events (kube-scheduler uses the profile's schedulerName). */
  readonly reportingController: string;
  /** This replica (pod name or host), named on events. */
  readonly reportingInstance: string;
}

// An event note is capped by the API server at 1 KiB.
const MAX_NOTE = 1024;

/** Writes the outcome of scheduling attempts to the Kubernetes API. */
export class PodWriter {
  constructor(
    private readonly api: KubeApi,
    private readonly options: PodWriterOptions,
  ) {}

  /**
   * Binds the pod through its Binding subresource (UID-checked). Idempotent:
   * when the pod is already on nodeName — a retry whose first answer was
   * lost — it answers bound.
   */
  async bind(pod: PodIdentity, nodeName: string, signal: AbortSignal): Promise<BindOutcome> {
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    };
    const res = await this.api.post(podPath(pod.namespace, pod.name, 'binding'), binding, signal, [404, 409]);
    if (res.status === 201 || res.status === 200) return { kind: 'bound', already: false };
    if (res.status === 404) return { kind: 'gone' };
    // 409: assigned already, or the UID precondition failed. Read the pod to tell which.
    const current = await this.read(pod, signal);
    if (!current) return { kind: 'gone' };
    const boundTo = current.spec?.nodeName ?? '';
    if (boundTo === nodeName) return { kind: 'bound', already: true };
    if (boundTo !== '') return { kind: 'boundElsewhere', nodeName: boundTo };
    const status = res.body as { message?: string } | undefined;
    throw new KubeApiError('POST', podPath(pod.namespace, pod.name, 'binding'), 409, 'Conflict', status?.message ?? 'binding refused');
  }

  /** The pod as the API server has it, or undefined when it is gone or was replaced (another UID). */
  async read(pod: PodIdentity, signal: AbortSignal): Promise<V1Pod | undefined> {
    const res = await this.api.get<V1Pod>(podPath(pod.namespace, pod.name), signal);
    if (res.status === 404 || !res.body) return undefined;
    if (pod.uid && res.body.metadata?.uid !== pod.uid) return undefined;
    return res.body;
  }

  /** Merges labels and annotations into the pod (a JSON merge patch of its metadata). */
  async patchMetadata(pod: PodIdentity, patch: MetadataPatch, signal: AbortSignal): Promise<void> {
    const metadata: Record<string, unknown> = { uid: pod.uid };
    if (patch.labels && Object.keys(patch.labels).length > 0) metadata.labels = patch.labels;
    if (patch.annotations && Object.keys(patch.annotations).length > 0) metadata.annotations = patch.annotations;
    if (!metadata.labels && !metadata.annotations) return;
    await this.api.patch(podPath(pod.namespace, pod.name), { metadata }, PatchType.merge, signal);
  }

  /**
   * Marks the pod unschedulable as kube-scheduler does: the PodScheduled
   * condition False with reason Unschedulable (or SchedulerError) and the
   * message, and optionally the node nominated for it by preemption.
   */
  async markUnschedulable(pod: PodIdentity, reason: 'Unschedulable' | 'SchedulerError', message: string, signal: AbortSignal, nominatedNodeName?: string): Promise<void> {
    const status: Record<string, unknown> = {
      conditions: [{ type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null, lastTransitionTime: new Date().toISOString() }],
    };
    if (nominatedNodeName !== undefined) status.nominatedNodeName = nominatedNodeName === '' ? null : nominatedNodeName;
    await this.api.patch(podPath(pod.namespace, pod.name, 'status'), { status }, PatchType.strategic, signal, [404]);
  }

  /** Sets or clears status.nominatedNodeName. */
  async nominate(pod: PodIdentity, nodeName: string, signal: AbortSignal): Promise<void> {
    await this.api.patch(podPath(pod.namespace, pod.name, 'status'), { status: { nominatedNodeName: nodeName === '' ? null : nodeName } }, PatchType.merge, signal, [404]);
  }

  /**
   * Evicts a pod through the Eviction API, so PodDisruptionBudgets are
   * honoured by the API server. Answers 'evicted', 'gone', or 'blocked'
   * (429: a budget does not allow it now). With `dryRun` the API server runs
   * every check, budgets included, and changes nothing (dryRun=All): a trial
   * before evicting a set of victims at all.
   */
  async evict(pod: PodIdentity, signal: AbortSignal, options: { readonly dryRun?: boolean } = {}): Promise<'evicted' | 'gone' | 'blocked'> {
    const dryRun = options.dryRun === true;
    const eviction = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: pod.name, namespace: pod.namespace },
      deleteOptions: { preconditions: { uid: pod.uid }, ...(dryRun ? { dryRun: ['All'] } : {}) },
    };
    const path = `${podPath(pod.namespace, pod.name, 'eviction')}${dryRun ? '?dryRun=All' : ''}`;
    const res = await this.api.post(path, eviction, signal, [404, 409, 429]);
    if (res.status === 404 || res.status === 409) return 'gone';
    if (res.status === 429) return 'blocked';
    return 'evicted';
  }

  /** Records an event about the pod. Best effort is the caller's choice: this throws on failure. */
  async event(pod: PodIdentity, event: PodEvent, signal: AbortSignal): Promise<void> {
    const now = new Date();
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${pod.name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`, namespace: pod.namespace },
      // MicroTime: RFC 3339 with microseconds.
      eventTime: now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
      reportingController: this.options.reportingController,
      reportingInstance: this.options.reportingInstance,
      action: event.action,
      reason: event.reason,
      type: event.type,
      note: event.note.length > MAX_NOTE ? `${event.note.slice(0, MAX_NOTE - 3)}...` : event.note,
      regarding: { apiVersion: 'v1', kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid },
    };
    await this.api.post(`/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(pod.namespace)}/events`, body, signal);
  }
}
