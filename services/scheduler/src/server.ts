/**
 * SchedulerService over gRPC: Schedule runs one attempt for a pod a client
 * sends (dry run: the decision only; otherwise a lease, and a Binding when
 * `bind` is set) — except a `bind` of a pod that exists in the API and that
 * this scheduler serves, which goes through the queue: the pod is moved to
 * activeQ (added, if another replica holds its event) and the call answers
 * with its next attempt's outcome, so no attempt runs beside the queue's.
 * GetSchedulingStatus reports where a pod is and why its last attempt ended
 * as it did, and GetQueueStatus how many pods wait where.
 */
import type { AttemptResult, SchedulingAttempt } from '@schedmesh/mesh';
import { validatePod } from '@schedmesh/model';
import { GetQueueStatusResponse, GetSchedulingStatusResponse, QueueState, ScheduleResponse, ScheduleResult } from '@schedmesh/proto/v1/scheduler';
import type { SchedulerServiceImplementation } from '@schedmesh/proto/v1/scheduler';
import type { Pod } from '@schedmesh/proto/v1/types';
import { InvalidArgumentError, NotFoundError, UnavailableError } from '@schedmesh/runtime';
import { explainAttempt } from './explanation.js';
import type { OutcomeWaiters } from './outcome-waiters.js';
import type { AttemptRecords } from './records.js';
import type { SchedulingQueue } from './queue/scheduling-queue.js';
import type { ServedProfiles } from './served-profiles.js';

/** What the server needs. */
export interface SchedulerServerDeps {
  readonly attempt: SchedulingAttempt;
  readonly queue: SchedulingQueue;
  readonly records: AttemptRecords;
  /** The served schedulerNames, the default first, and the filterscore profile of each. */
  readonly profiles: ServedProfiles;
  /** The generation of the scheduler's cluster view, and whether it has caught up with the stream. */
  readonly generation: () => number;
  readonly synced: () => boolean;
  readonly maxReserveTries: number;
  /** The pod as the cluster has it (the scheduler's view), if it exists. */
  readonly viewPod: (uid: string) => Pod | undefined;
  /** Whether a pod of the view is pending for one of this scheduler's profiles. */
  readonly isPending: (pod: Pod) => boolean;
  /** Where queued Schedule calls wait for their pod's outcome. */
  readonly outcomes: OutcomeWaiters;
}

const RESULTS: Record<AttemptResult['outcome'], ScheduleResult> = {
  scheduled: ScheduleResult.SCHEDULE_RESULT_SCHEDULED,
  unschedulable: ScheduleResult.SCHEDULE_RESULT_UNSCHEDULABLE,
  rejected: ScheduleResult.SCHEDULE_RESULT_REJECTED,
  settled: ScheduleResult.SCHEDULE_RESULT_UNSCHEDULABLE,
  error: ScheduleResult.SCHEDULE_RESULT_ERROR,
};

const QUEUE_STATES = {
  active: QueueState.QUEUE_STATE_ACTIVE,
  backoff: QueueState.QUEUE_STATE_BACKOFF,
  unschedulable: QueueState.QUEUE_STATE_UNSCHEDULABLE,
  inFlight: QueueState.QUEUE_STATE_IN_FLIGHT,
} as const;

/** The gRPC mapping. */
export function schedulerServer(deps: SchedulerServerDeps): SchedulerServiceImplementation {
  return {
    async schedule(request, context) {
      if (!request.pod) throw new InvalidArgumentError('pod', 'required');
      const problems = validatePod(request.pod, 'pod');
      if (problems.length > 0) throw InvalidArgumentError.fromProblem(problems[0]!);
      const profile = request.profile || deps.profiles.defaultProfile;
      if (!deps.profiles.has(profile)) throw new InvalidArgumentError('profile', `unknown profile "${profile}"; this scheduler serves ${deps.profiles.list.join(', ')}`);
      if (request.bind && !request.dryRun) {
        const existing = deps.viewPod(request.pod.uid);
        // Already bound: the answer, with no attempt (a retried call after a lost reply).
        if (existing?.nodeName) return ScheduleResponse.fromPartial({ result: ScheduleResult.SCHEDULE_RESULT_SCHEDULED, nodeName: existing.nodeName, generation: deps.generation() });
        if (existing && deps.isPending(existing)) return throughQueue(deps, existing, context.signal);
      }
      const result = await deps.attempt.run({
        pod: request.pod,
        profile: deps.profiles.filterscoreProfile(profile),
        minGeneration: deps.generation(),
        mode: request.dryRun ? 'dryRun' : request.bind ? 'bind' : 'reserve',
        maxReserveTries: deps.maxReserveTries,
        signal: context.signal,
      });
      return responseOf(result, request.dryRun);
    },

    async getSchedulingStatus(request) {
      if (!request.uid && !(request.namespace && request.name)) throw new InvalidArgumentError('uid', 'required (or namespace and name)');
      const record = request.uid ? deps.records.get(request.uid) : deps.records.byPodName(request.namespace, request.name);
      const uid = request.uid || record?.uid || '';
      const queued = uid ? deps.queue.status(uid) : undefined;
      if (!record && !queued) throw new NotFoundError('pod', request.uid || `${request.namespace}/${request.name}`);
      const bound = record?.outcome === 'scheduled' || (record?.outcome === 'settled' && record.nodeName !== '');
      return GetSchedulingStatusResponse.fromPartial({
        state: queued ? QUEUE_STATES[queued.queue] : bound ? QueueState.QUEUE_STATE_BOUND : QueueState.QUEUE_STATE_UNSPECIFIED,
        attempts: queued?.attempts ?? record?.attempts ?? 0,
        message: queued?.lastFailure?.message ?? record?.message ?? '',
        nodeName: record?.nodeName ?? '',
        ...(queued?.backoffUntil !== undefined ? { backoffUntil: new Date(queued.backoffUntil) } : {}),
        lastTraceId: record?.traceId ?? '',
        ...(record?.outcome !== undefined ? { lastResult: RESULTS[record.outcome] } : {}),
        ...(uid ? { lastExplanation: deps.records.explanation(uid) } : {}),
      });
    },

    async getQueueStatus() {
      return GetQueueStatusResponse.fromPartial({
        ...deps.queue.counts(),
        generation: deps.generation(),
        synced: deps.synced(),
        recordedPods: deps.records.size,
      });
    },
  };
}

function responseOf(result: AttemptResult, dryRun: boolean): ScheduleResponse {
  // A service failure is not a scheduling answer: the caller retries.
  if (result.outcome === 'error') throw new ScheduleFailedError(result.message, result.traceId);
  return ScheduleResponse.fromPartial({
    result: RESULTS[result.outcome],
    nodeName: result.nodeName || (dryRun ? (result.ranked[0]?.nodeName ?? '') : ''),
    nominatedNodeName: result.nominatedNodeName,
    message: result.message,
    generation: result.generation,
    fencingVersion: result.fencingVersion,
    steps: [...result.steps],
    traceId: result.traceId,
    explanation: explainAttempt(result),
  });
}

/** The pod's next attempt in the queue (now: it is activated), or its settling elsewhere. */
async function throughQueue(deps: SchedulerServerDeps, pod: Pod, signal: AbortSignal): Promise<ScheduleResponse> {
  const outcome = deps.outcomes.wait(pod.uid, signal);
  // Not held here (another replica holds its event): queued here too; reservation lets one replica bind it.
  if (!deps.queue.activate(pod.uid)) deps.queue.add(pod);
  const out = await outcome;
  if (out.kind === 'attempt') return responseOf(out.result, false);
  if (out.pod.nodeName) return ScheduleResponse.fromPartial({ result: ScheduleResult.SCHEDULE_RESULT_SCHEDULED, nodeName: out.pod.nodeName, generation: deps.generation() });
  throw new NotFoundError('pod', `${pod.namespace}/${pod.name} (deleted or finished before it was scheduled)`);
}

/** A Schedule attempt failed on a service (UNAVAILABLE to the caller, with the trace id). */
export class ScheduleFailedError extends UnavailableError {
  constructor(
    message: string,
    readonly traceId: string,
  ) {
    super(`scheduling attempt failed (trace ${traceId}): ${message}; retry with backoff`);
  }
}
