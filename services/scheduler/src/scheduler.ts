/**
 * The scheduling loop: workers pop pods from the queue, run one attempt
 * each over the mesh (libs/mesh), and settle the outcome as kube-scheduler
 * does — bound pods leave the queue; unschedulable ones get the
 * PodScheduled=False condition and a FailedScheduling event, then wait in
 * the unschedulable pool for an event that could help; errors back off.
 * Those writes are retried while the API server is away (outcome-writes.ts).
 * A pod for which preemption evicted victims is nominated to their node (in
 * the queue's nominator and on the pod's status) and comes back when their
 * deletions arrive; its next attempt tries that node first. The nomination
 * is cleared when preemption finds no candidate any more, or when the pod
 * binds to another node.
 *
 * Several attempts run at once (`parallelism`): the snapshot is advisory,
 * reservation arbitrates, so concurrent attempts (here or on other replicas)
 * never double-book a node.
 */
import type { Context } from '@opentelemetry/api';
import type { SchedulingAttempt, AttemptResult, PodWriter } from '@schedmesh/mesh';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { Logger } from '@schedmesh/runtime';
import type { QueuedPod } from './queue/queued-pod.js';
import type { SchedulingQueue } from './queue/scheduling-queue.js';
import { OutcomeWrites } from './outcome-writes.js';
import type { OutcomeWrite } from './outcome-writes.js';
import type { AttemptRecords } from './records.js';

/** What the loop needs. */
export interface SchedulerOptions {
  readonly queue: SchedulingQueue;
  readonly attempt: SchedulingAttempt;
  /** Kubernetes writes (conditions and events); absent in a dry mesh. */
  readonly writer?: PodWriter;
  readonly records: AttemptRecords;
  readonly logger: Logger;
  /** The profile of a pod (its schedulerName, when it is one of ours). */
  readonly profileOf: (pod: Pod) => string;
  /** The trace context of a pod's cluster event, if any: each attempt is a trace of its own that links to it. */
  readonly traceOf?: (uid: string) => Context | undefined;
  /** The generation the pod's latest event was seen at (its attempts wait for it). */
  readonly generationOf: (uid: string) => number;
  /** Attempts in flight at once (default 8). */
  readonly parallelism?: number;
  /** Nodes tried at Reserve on conflicts (default 3). */
  readonly maxReserveTries?: number;
  /** Called once a pod's attempt settled for good (bound, gone, bound by someone else). */
  readonly onSettled?: (pod: Pod, result: AttemptResult) => void;
  /** Called after every attempt (metrics, callers waiting for the pod). */
  readonly onAttempt?: (result: AttemptResult, durationMs: number, pod: Pod) => void;
}

/** The scheduling loop. */
export class Scheduler {
  /** The outcomes written to the API server, retried while it is away. */
  readonly outcomes: OutcomeWrites;

  constructor(private readonly options: SchedulerOptions) {
    this.outcomes = new OutcomeWrites({ logger: options.logger });
  }

  /** Runs the workers until `signal` aborts or the queue closes; resolves when all are done. */
  async run(signal: AbortSignal): Promise<void> {
    const workers = Math.max(1, this.options.parallelism ?? 8);
    await Promise.all(Array.from({ length: workers }, () => this.worker(signal)));
    await this.outcomes.close();
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      let entry: QueuedPod | undefined;
      try {
        entry = await this.options.queue.pop(signal);
      } catch {
        return; // aborted
      }
      if (!entry) return; // closed
      await this.scheduleOne(entry, signal);
    }
  }

  /** One pod: the attempt, then its outcome settled in the queue and the API. */
  async scheduleOne(entry: QueuedPod, signal: AbortSignal): Promise<AttemptResult> {
    const { queue, attempt, records, logger } = this.options;
    const pod = entry.pod;
    records.started(pod, entry.attempts);
    const started = performance.now();
    // Our nomination may not have come back from the API server yet. The attempt must see it:
    // preemption does not evict again while pods are leaving the nominated node for this one.
    const nominated = queue.nominatedNodeName(pod.uid);
    const follows = this.options.traceOf?.(pod.uid);
    const result = await attempt.run({
      pod: nominated && pod.nominatedNodeName === '' ? { ...pod, nominatedNodeName: nominated } : pod,
      profile: this.options.profileOf(pod),
      minGeneration: this.options.generationOf(pod.uid),
      mode: 'bind',
      maxReserveTries: this.options.maxReserveTries ?? 3,
      ...(follows ? { follows } : {}),
      signal,
    });
    const ms = performance.now() - started;
    this.options.onAttempt?.(result, ms, pod);
    records.finished(pod, result);
    const log = { pod: `${pod.namespace}/${pod.name}`, attempt: entry.attempts, trace_id: result.traceId, ms: Math.round(ms) };

    switch (result.outcome) {
      case 'scheduled':
        queue.done(pod.uid);
        logger.debug({ ...log, node: result.nodeName }, 'pod bound');
        this.write(pod, 'Scheduled', async (writer, s) => {
          // Bound elsewhere than preemption had nominated: that nomination no longer holds room for it.
          if (nominated && nominated !== result.nodeName) await writer.nominate(pod, '', s);
          await writer.event(pod, { type: 'Normal', reason: 'Scheduled', action: 'Binding', note: `Successfully assigned ${pod.namespace}/${pod.name} to ${result.nodeName}` }, s);
        });
        this.options.onSettled?.(pod, result);
        break;
      case 'settled':
        queue.done(pod.uid);
        logger.info({ ...log, why: result.message }, 'pod settled outside this attempt');
        this.options.onSettled?.(pod, result);
        break;
      case 'unschedulable':
      case 'rejected': {
        // A new nomination, a stale one cleared ('' clears), or none to change.
        const nomination = result.nominatedNodeName || (result.nominationCleared ? '' : undefined);
        if (nomination !== undefined) queue.nominate(pod.uid, nomination);
        const where = queue.addUnschedulable(entry, { unschedulable: true, rejectorPlugins: result.rejectors, message: result.message });
        logger.info({ ...log, queue: where, why: result.message, ...(nomination !== undefined ? { nominated: nomination } : {}) }, 'pod unschedulable');
        this.reportFailure(pod, 'Unschedulable', result.message, nomination);
        break;
      }
      case 'error': {
        const where = queue.addUnschedulable(entry, { unschedulable: false, message: result.message });
        if (result.heldElsewhere) {
          // Another replica is scheduling this pod: nothing is wrong with it, so nothing is written to it.
          logger.debug({ ...log, queue: where, why: result.message }, 'another replica holds the pod; backing off');
          break;
        }
        logger.warn({ ...log, queue: where, err: result.message }, 'scheduling attempt failed; the pod backs off');
        this.reportFailure(pod, 'SchedulerError', result.message);
        break;
      }
    }
    return result;
  }

  /** The PodScheduled=False condition and a FailedScheduling event, as kube-scheduler writes them. */
  private reportFailure(pod: Pod, reason: 'Unschedulable' | 'SchedulerError', message: string, nominatedNodeName?: string): void {
    this.write(pod, 'FailedScheduling', async (writer, s) => {
      await writer.markUnschedulable(pod, reason, message, s, nominatedNodeName);
      await writer.event(pod, { type: 'Warning', reason: 'FailedScheduling', action: 'Scheduling', note: message }, s);
    });
  }

  // Status writes and events must not hold a worker: kube-scheduler's event
  // broadcaster is asynchronous too. They are retried while the API server is away.
  private write(pod: Pod, what: string, fn: (writer: PodWriter, signal: AbortSignal) => Promise<void>): void {
    const writer = this.options.writer;
    if (!writer) return;
    const write: OutcomeWrite = (signal) => fn(writer, signal);
    this.outcomes.submit(pod, what, write);
  }
}
