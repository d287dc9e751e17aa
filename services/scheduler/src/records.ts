/**
 * What GetSchedulingStatus answers beyond the queue: the last attempt of
 * every pod seen recently (its trace id, message, node), kept in a bounded
 * LRU so a long-running scheduler does not grow with every pod it ever bound.
 */
import type { AttemptResult } from '@schedmesh/mesh';
import type { Pod } from '@schedmesh/proto/v1/types';

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

/** A bounded record of recent attempts, by pod uid and by namespace/name. */
export class AttemptRecords {
  private readonly byUid = new Map<string, AttemptRecord>();
  private readonly byName = new Map<string, string>();

  constructor(private readonly capacity = 50_000) {}

  started(pod: Pod, attempts: number): void {
    const old = this.byUid.get(pod.uid);
    // Until it finishes, the record keeps telling how the previous attempt ended.
    this.put(podRecord(pod, { attempts, inFlight: true, outcome: old?.outcome, message: old?.message ?? '', nodeName: old?.nodeName ?? '', traceId: old?.traceId ?? '' }));
  }

  finished(pod: Pod, result: AttemptResult): void {
    const old = this.byUid.get(pod.uid);
    const { outcome, message, nodeName, traceId } = result;
    this.put(podRecord(pod, { attempts: old?.attempts ?? 1, inFlight: false, outcome, message, nodeName, traceId }));
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

  byPodName(namespace: string, name: string): AttemptRecord | undefined {
    const uid = this.byName.get(`${namespace}/${name}`);
    return uid === undefined ? undefined : this.byUid.get(uid);
  }

  get size(): number {
    return this.byUid.size;
  }

  private put(record: AttemptRecord): void {
    this.byUid.delete(record.uid);
    this.byUid.set(record.uid, record);
    this.byName.set(`${record.namespace}/${record.name}`, record.uid);
    while (this.byUid.size > this.capacity) {
      const oldest = this.byUid.keys().next().value as string;
      const gone = this.byUid.get(oldest)!;
      this.byUid.delete(oldest);
      if (this.byName.get(`${gone.namespace}/${gone.name}`) === oldest) this.byName.delete(`${gone.namespace}/${gone.name}`);
    }
  }
}
