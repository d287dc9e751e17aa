// The caches that fill with churn, and how the soak sees how full each is.
// At their defaults they take 1–3 hours of this machine's churn to fill, so a
// 10-minute window sees them still filling; --small-bounds starts each service
// with them lowered (its SCHEDMESH_* variables) so that every one is full by
// the end of the warm-up, and what still climbs after that is not a cache
// filling. Each is read from the service's /metrics at every sample.
import type { MeshService } from '../../test/e2e/mesh-config.js';

/** How a cache's metric tells that it reached its bound. */
export type FullWhen =
  /** The metric is the cache's size: full at the bound. */
  | 'size'
  /** The metric counts entries evicted past the bound: full once it is above 0. */
  | 'evicted'
  /** The metric is a stream position: every event since the churn started is retained, so the cache is full once it moved by the bound. */
  | 'advanced';

/** One bounded cache that fills with churn. */
export interface BoundedCache {
  readonly service: MeshService;
  /** What it holds. */
  readonly cache: string;
  /** Its configuration key, and the variable that sets it. */
  readonly key: string;
  readonly env: string;
  readonly defaultBound: number;
  /** The bound under --small-bounds. */
  readonly smallBound: number;
  /** The gauge or counter the service exports that shows how full it is. */
  readonly metric: string;
  readonly fullWhen: FullWhen;
}

/**
 * The soak's churn: rounds of --batch pods (100), 3 in 4 through schedmesh's
 * scheduler, each pod 3–4 stream events (created, bound, deleted, and its
 * PodScheduled condition from kube-scheduler) and one tombstone once deleted;
 * at 5,000 nodes on this machine 3–6.5 pods/s (README, "Memory soak"). The
 * small bounds fill in 90–260 s at 3 pods/s, within the 480 s warm-up the
 * README's run uses, and stay far above what one round holds in flight:
 * - attempt records: 500 / 2.25 schedmesh pods/s = 222 s; explanations 200: 89 s;
 * - settled uids: every pod bound by anyone, the 1,000 kept ones at start-up included: full at once;
 * - watch ring: 2,000 events / (3 × 3.5) = 190 s;
 * - tombstones: 600 / 3 = 200 s, then up to one sweep (60 s) until the count is enforced.
 */
export const BOUNDED_CACHES: readonly BoundedCache[] = [
  {
    service: 'scheduler',
    cache: 'attempt records',
    key: 'scheduler.records.capacity',
    env: 'SCHEDMESH_SCHEDULER__RECORDS__CAPACITY',
    defaultBound: 50_000,
    smallBound: 500,
    metric: 'schedmesh_scheduler_attempt_records',
    fullWhen: 'size',
  },
  {
    service: 'scheduler',
    cache: 'attempt explanations',
    key: 'scheduler.records.explained',
    env: 'SCHEDMESH_SCHEDULER__RECORDS__EXPLAINED',
    defaultBound: 10_000,
    smallBound: 200,
    metric: 'schedmesh_scheduler_attempt_explanations',
    fullWhen: 'size',
  },
  {
    service: 'scheduler',
    cache: 'settled pod uids',
    key: 'scheduler.settledMemory',
    env: 'SCHEDMESH_SCHEDULER__SETTLED_MEMORY',
    defaultBound: 100_000,
    smallBound: 1_000,
    metric: 'schedmesh_scheduler_settled_pods',
    fullWhen: 'size',
  },
  {
    service: 'snapshot',
    cache: 'watch ring',
    key: 'watch.retain',
    env: 'SCHEDMESH_WATCH__RETAIN',
    defaultBound: 100_000,
    smallBound: 2_000,
    metric: 'schedmesh_snapshot_generation',
    fullWhen: 'advanced',
  },
  {
    service: 'informer',
    cache: 'stream tombstones',
    key: 'stream.tombstones.maxCount',
    env: 'SCHEDMESH_STREAM__TOMBSTONES__MAX_COUNT',
    defaultBound: 100_000,
    smallBound: 600,
    metric: 'schedmesh_informer_expired_tombstones_total',
    fullWhen: 'evicted',
  },
];

/** The bound each cache runs with. */
export const boundOf = (c: BoundedCache, small: boolean): number => (small ? c.smallBound : c.defaultBound);

/** Each service's SCHEDMESH_* variables that lower its bounds. */
export function smallBoundsEnv(): Partial<Record<MeshService, NodeJS.ProcessEnv>> {
  const env: Partial<Record<MeshService, NodeJS.ProcessEnv>> = {};
  for (const c of BOUNDED_CACHES) env[c.service] = { ...env[c.service], [c.env]: String(c.smallBound) };
  return env;
}

/** A cache as the soak found it at the end of the warm-up. */
export interface CacheFill {
  readonly service: MeshService;
  readonly cache: string;
  readonly key: string;
  readonly bound: number;
  readonly metric: string;
  /** The metric at the first sample (the churn's start) and at the last sample of the warm-up. */
  readonly atStart: number;
  readonly atWarmUpEnd: number;
  /** Whether the metric shows the cache at its bound by then (false also when it could not be read). */
  readonly full: boolean;
}

/** Whether `c`, bounded at `bound`, is full by the metric's reading `end` (and `start`, at the churn's start). */
export function isFull(c: BoundedCache, bound: number, start: number, end: number): boolean {
  switch (c.fullWhen) {
    case 'size':
      return end >= bound;
    case 'evicted':
      return end > 0;
    case 'advanced':
      return end - start >= bound;
  }
}
