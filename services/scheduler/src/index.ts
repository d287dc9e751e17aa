/**
 * @schedmesh/scheduler-service. For now only its scheduling queue (the
 * facade and what it is built with); the rest of the service (main, app,
 * server, the cycle) is planned (see README.md). The sub-queues are internal.
 */
export {
  DEFAULT_BACKOFF_FLUSH_INTERVAL_MS,
  DEFAULT_UNSCHEDULABLE_FLUSH_INTERVAL_MS,
  InternalQueueEvents,
  QueueOptionsError,
  SchedulingQueue,
} from './queue/scheduling-queue.js';
export type {
  AttemptOutcome,
  IncomingEvent,
  PendingPod,
  PodQueueState,
  QueueCounts,
  QueueMetrics,
  QueueName,
  SchedulingQueueOptions,
} from './queue/scheduling-queue.js';
export { IN_TREE_EVENTS_TO_REGISTER, nodeUpdateEvents, podSchedulingPropertiesChanged, QueueingEventKinds } from './queue/events.js';
export type { EventsToRegister, QueueingEvent, QueueingEventKind } from './queue/events.js';
export type { AttemptFailure, QueuedPod, QueueLess } from './queue/queued-pod.js';
export { backoffDuration, DEFAULT_POD_INITIAL_BACKOFF_MS, DEFAULT_POD_MAX_BACKOFF_MS } from './queue/backoff.js';
export type { BackoffOptions } from './queue/backoff.js';
export { DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_MS } from './queue/unschedulable-pool.js';
export { systemClock } from './queue/clock.js';
export type { CancelTimer, QueueClock } from './queue/clock.js';
