import type { PoolHealth, ZoneHealth } from '@schedmesh/proto/v1/snapshot';
import type { Node } from '@schedmesh/proto/v1/types';

/** The health of every node pool at one generation. */
export interface PoolHealthReport {
  readonly generation: number;
  readonly pools: readonly PoolHealth[];
}

/** Options of {@link PoolHealthReconciler}. */
export interface PoolHealthOptions {
  /** Quiet time after the last node change before recomputing, in ms. */
  debounceMs: number;
  /** Longest a burst may postpone a recomputation, in ms (default 10 × debounce). */
  maxDelayMs?: number;
  /** Fraction of healthy nodes at or above which a pool is healthy (0..1). */
  healthyThreshold: number;
  /** Where the nodes come from, at the time of recomputation. */
  source: () => { generation: number; nodes: Iterable<Node> };
  /** Called after each recomputation. */
  onReport?: (report: PoolHealthReport) => void;
}

/**
 * Aggregates node health per pool and zone: the multi-source reconcile
 * pattern — child nodes change often, the parent pool's health is derived
 * from all of them — debounced, so a burst of node updates yields one
 * recomputation (bounded by maxDelayMs, so a steady stream still yields some).
 */
export class PoolHealthReconciler {
  private timer: NodeJS.Timeout | undefined;
  private firstDirtyAt = 0;
  private current: PoolHealthReport = { generation: 0, pools: [] };
  private recomputations = 0;

  constructor(private readonly options: PoolHealthOptions) {}

  /** The debounce interval in force, in ms. */
  get debounceMs(): number {
    return this.options.debounceMs;
  }

  /** The latest report. */
  get report(): PoolHealthReport {
    return this.current;
  }

  /** How many times health was recomputed (a metric, and what tests check debouncing with). */
  get recomputeCount(): number {
    return this.recomputations;
  }

  /** Marks health stale after a node change; recomputation follows after the debounce. */
  markDirty(): void {
    const now = Date.now();
    if (this.timer === undefined) this.firstDirtyAt = now;
    else clearTimeout(this.timer);
    const maxDelay = this.options.maxDelayMs ?? this.options.debounceMs * 10;
    const wait = Math.max(0, Math.min(this.options.debounceMs, this.firstDirtyAt + maxDelay - now));
    this.timer = setTimeout(() => this.recompute(), wait);
    this.timer.unref();
  }

  /** Recomputes now. */
  recompute(): PoolHealthReport {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const { generation, nodes } = this.options.source();
    this.current = { generation, pools: aggregate(nodes, this.options.healthyThreshold) };
    this.recomputations++;
    this.options.onReport?.(this.current);
    return this.current;
  }

  /** Cancels a pending recomputation. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A node counts as healthy when it is Ready and not cordoned. */
export function nodeHealthy(node: Node): boolean {
  return node.ready && !node.unschedulable;
}

/** Health per pool (and per zone inside it), pools and zones ordered by name. */
export function aggregate(nodes: Iterable<Node>, threshold: number): PoolHealth[] {
  const pools = new Map<string, { total: number; healthy: number; zones: Map<string, ZoneHealth> }>();
  for (const node of nodes) {
    let pool = pools.get(node.pool);
    if (!pool) pools.set(node.pool, (pool = { total: 0, healthy: 0, zones: new Map() }));
    let zone = pool.zones.get(node.zone);
    if (!zone) pool.zones.set(node.zone, (zone = { zone: node.zone, totalNodes: 0, healthyNodes: 0 }));
    const ok = nodeHealthy(node);
    pool.total++;
    zone.totalNodes++;
    if (ok) {
      pool.healthy++;
      zone.healthyNodes++;
    }
  }
  return [...pools.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, p]) => ({
      pool: name,
      totalNodes: p.total,
      healthyNodes: p.healthy,
      zones: [...p.zones.values()].sort((a, b) => (a.zone < b.zone ? -1 : a.zone > b.zone ? 1 : 0)),
      healthy: p.total > 0 && p.healthy / p.total >= threshold,
    }));
}
