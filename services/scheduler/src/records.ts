/**
 * What GetSchedulingStatus answers beyond the queue: the last attempt of
 * every pod seen recently (its trace id, message, node), kept in a bounded
 * LRU so a long-running scheduler does not grow with every pod it ever bound.
 * The explanation of the attempt (reasons, top nodes, deciding plugin) is
 * larger, so fewer pods keep one: a second, smaller LRU.
 */
import type { AttemptResult } from '@schedmesh/mesh';
import type { AttemptExplanation } from '@schedmesh/proto/v1/scheduler';
import type { Pod } from '@schedmesh/proto/v1/types';
import { DEFAULT_EXPLANATION_BOUNDS, explainAttempt } from './explanation.js';
import type { ExplanationBounds } from './explanation.js';

/** The last attempt of one pod. */
export interface AttemptRecord {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly attempts: number;
  readonly inFlight: boolean;
  readonly outcome: AttemptResult['outcome'] | undefined;
  readonly message: string;
  readonly nodeName: string;
  readonly traceId: string;
  readonly at: number;
}

/** The pod's record of an attempt, as of now. */
function podRecord(pod: Pod, attempt: Omit<AttemptRecord, 'uid' | 'namespace' | 'name' | 'at'>): AttemptRecord {
  return { uid: pod.uid, namespace: pod.namespace, name: pod.name, ...attempt, at: Date.now() };
}

/** The bounds of {@link AttemptRecords}. */
export interface AttemptRecordsOptions {
  /** Pods whose last attempt is kept (default 50,000). */
  readonly capacity?: number;
  /** Pods whose last attempt's explanation is kept, the most recently finished (default 10,000; 0: none is made). */
  readonly explained?: number;
  readonly explanationBounds?: ExplanationBounds;
}

/** A bounded record of recent attempts, by pod uid and by namespace/name. */
export class AttemptRecords {
  private readonly byUid = new Map<string, AttemptRecord>();
  private readonly byName = new Map<string, string>();
  private readonly explanations = new Map<string, AttemptExplanation>();
  private readonly capacity: number;
  private readonly explained: number;
  private readonly bounds: ExplanationBounds;

  constructor(options: AttemptRecordsOptions = {}) {
    this.capacity = options.capacity ?? 50_000;
    this.explained = Math.min(options.explained ?? 10_000, this.capacity);
    this.bounds = options.explanationBounds ?? DEFAULT_EXPLANATION_BOUNDS;
  }

  started(pod: Pod, attempts: number): void {
    const old = this.byUid.get(pod.uid);
    // Until it finishes, the record keeps telling how the previous attempt ended.
    this.put(podRecord(pod, { attempts, inFlight: true, outcome: old?.outcome, message: old?.message ?? '', nodeName: old?.nodeName ?? '', traceId: old?.traceId ?? '' }));
  }

  finished(pod: Pod, result: AttemptResult): void {
    const old = this.byUid.get(pod.uid);
    const { outcome, message, nodeName, traceId } = result;
    this.put(podRecord(pod, { attempts: old?.attempts ?? 1, inFlight: false, outcome, message, nodeName, traceId }));
    this.explanations.delete(pod.uid);
    if (this.explained === 0) return;
    this.explanations.set(pod.uid, explainAttempt(result, this.bounds));
    if (this.explanations.size > this.explained) this.explanations.delete(this.explanations.keys().next().value as string);
  }

  /** A pod bound by anyone: its record says so. */
  bound(pod: Pod): void {
    const old = this.byUid.get(pod.uid);
    if (!old) return;
    this.put({ ...old, inFlight: false, outcome: old.outcome === 'scheduled' ? 'scheduled' : 'settled', nodeName: pod.nodeName });
  }

  get(uid: string): AttemptRecord | undefined {
    return this.byUid.get(uid);
  }

  /** Why the pod's last finished attempt ended as it did, while it is among the most recently explained. */
  explanation(uid: string): AttemptExplanation | undefined {
    return this.explanations.get(uid);
  }

  byPodName(namespace: string, name: string): AttemptRecord | undefined {
    const uid = this.byName.get(`${namespace}/${name}`);
    return uid === undefined ? undefined : this.byUid.get(uid);
  }

  /** Pods whose last attempt is kept (at most `capacity`). */
  get size(): number {
    return this.byUid.size;
  }

  /** Pods whose last attempt's explanation is kept (at most `explained`). */
  get explainedSize(): number {
    return this.explanations.size;
  }

  private put(record: AttemptRecord): void {
    this.byUid.delete(record.uid);
    this.byUid.set(record.uid, record);
    this.byName.set(`${record.namespace}/${record.name}`, record.uid);
    while (this.byUid.size > this.capacity) {
      const oldest = this.byUid.keys().next().value as string;
      const gone = this.byUid.get(oldest)!;
      this.byUid.delete(oldest);
      this.explanations.delete(oldest);
      if (this.byName.get(`${gone.namespace}/${gone.name}`) === oldest) this.byName.delete(`${gone.namespace}/${gone.name}`);
    }
  }
}
