/**
 * A pending pod that cannot be converted at the edge never reaches a
 * scheduler, so nobody would tell its owner why it stays Pending. For pods
 * that name one of schedmesh's schedulers, the informer says it where
 * kube-scheduler would: a FailedScheduling event naming the field, and
 * PodScheduled=False. Once per pod: the report itself changes the pod's
 * status (a new version, delivered again), and a relist or a restarted watch
 * delivers it once more; none of that is news.
 */
import type { PodWriter } from '@schedmesh/mesh';
import type { PodIdentity } from '@schedmesh/mesh';
import { EdgeError } from '@schedmesh/model';
import type { Logger } from '@schedmesh/runtime';

/** Options of {@link RejectedPodReporter}. */
export interface RejectedPodReporterOptions {
  readonly writer: PodWriter;
  readonly logger: Logger;
  /** The schedulerNames whose pods are reported (schedmesh's profiles). */
  readonly schedulerNames: ReadonlySet<string>;
  /** Pods remembered as reported (default 10,000). */
  readonly memory?: number;
}

interface RawPod {
  metadata?: { name?: unknown; namespace?: unknown; uid?: unknown; resourceVersion?: unknown };
  spec?: { schedulerName?: unknown; nodeName?: unknown };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Reports pods rejected at the edge to the pods themselves. */
export class RejectedPodReporter {
  private readonly reported = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: RejectedPodReporterOptions) {}

  /** A pod failed conversion with `err`. Writes the event and condition in the background; never throws. */
  report(obj: unknown, err: unknown): void {
    const raw = obj as RawPod;
    const pod: PodIdentity = { namespace: str(raw.metadata?.namespace), name: str(raw.metadata?.name), uid: str(raw.metadata?.uid) };
    const schedulerName = str(raw.spec?.schedulerName) || 'default-scheduler';
    if (!pod.name || !pod.namespace || !pod.uid || str(raw.spec?.nodeName) !== '' || !this.options.schedulerNames.has(schedulerName)) return;
    const key = pod.uid;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    if (this.reported.size > (this.options.memory ?? 10_000)) this.reported.delete(this.reported.values().next().value as string);

    const why = err instanceof EdgeError ? `${err.field}: ${err.reason}` : err instanceof Error ? err.message : String(err);
    const message = `the pod cannot be scheduled: its spec is invalid for ${schedulerName} (${why}); fix the field and recreate the pod`;
    const write = (async () => {
      const signal = AbortSignal.timeout(10_000);
      try {
        await this.options.writer.markUnschedulable(pod, 'Unschedulable', message, signal);
        await this.options.writer.event(pod, { type: 'Warning', reason: 'FailedScheduling', action: 'Scheduling', note: message }, signal);
      } catch (e) {
        // Forget it, so the next delivery of the pod tries again.
        this.reported.delete(key);
        this.options.logger.warn({ pod: `${pod.namespace}/${pod.name}`, err: (e as Error).message }, 'could not report a rejected pod to the API server');
      }
    })();
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
  }

  /** Waits for the writes in flight (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
