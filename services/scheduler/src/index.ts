/**
 * What other code imports by the package name (@schedmesh/scheduler-service):
 * the app (start function, config schema, handle) for in-process tests and
 * benchmarks, and the scheduling queue. The process starts in main.ts. The
 * sub-queues are internal.
 */
export { startSchedulerApp } from './app.js';
export type { SchedulerApp, SchedulerAppOptions } from './app.js';
export { schedulerConfigSchema } from './config.js';
export type { SchedulerConfig } from './config.js';
export { ClusterView } from './cluster-view.js';
export { isPendingFor, PodSource } from './pod-source.js';
export { AttemptRecords } from './records.js';
export { ServedProfiles } from './served-profiles.js';
export type { ProfilesChange, ProfileSet, ServedProfilesOptions, ServedProfilesResult } from './served-profiles.js';
export type { AttemptRecord } from './records.js';
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
