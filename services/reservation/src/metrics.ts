import { gauge } from '@schedmesh/runtime';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** Where the ledger-size gauges read their values at scrape time. */
export interface LedgerSizeSource {
  /** Nodes the ledger holds. */
  nodeCount(): number;
  /** Leases (reserved and confirmed) over every node. */
  leaseCount(): Promise<number>;
}

/** The reservation service's Prometheus metrics, on the service registry. */
export class ReservationMetrics {
  /** Reserve latency by outcome (granted, existing, conflict, error). */
  readonly reserveSeconds: Histogram<'outcome'>;
  /** Refusals, by short resource (one Reserve may count under several). */
  readonly conflicts: Counter<'resource'>;
  /** Leases released because they lapsed. */
  readonly expiries: Counter;
  /** Ledger rebuilds (start-up and after Redis lost its data). */
  readonly rebuilds: Counter<'reason'>;
  /** Permit decisions. */
  readonly permits: Counter<'decision'>;
  private source: LedgerSizeSource | undefined;

  constructor(registry: Registry) {
    this.reserveSeconds = new Histogram({
      name: 'schedmesh_reservation_reserve_duration_seconds',
      help: 'Reserve latency, from request to reply, by outcome',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
    this.conflicts = new Counter({
      name: 'schedmesh_reservation_conflicts_total',
      help: 'Reserve refusals by the resource that was short',
      labelNames: ['resource'],
      registers: [registry],
    });
    this.expiries = new Counter({
      name: 'schedmesh_reservation_lease_expiries_total',
      help: 'Leases released because their TTL lapsed before Confirm',
      registers: [registry],
    });
    this.rebuilds = new Counter({
      name: 'schedmesh_reservation_ledger_rebuilds_total',
      help: 'Rebuilds of the bound-capacity ledger in Redis from the cluster stream state',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.permits = new Counter({
      name: 'schedmesh_reservation_permit_decisions_total',
      help: 'Permit decisions',
      labelNames: ['decision'],
      registers: [registry],
    });
    const sizeSource = (): LedgerSizeSource | undefined => this.source;
    gauge(registry, 'schedmesh_reservation_ledger_nodes', 'Nodes in the ledger', () => sizeSource()?.nodeCount() ?? 0);
    new Gauge({
      name: 'schedmesh_reservation_ledger_leases',
      help: 'Leases held (reserved and confirmed) over every node',
      registers: [registry],
      async collect() {
        try {
          this.set((await sizeSource()?.leaseCount()) ?? 0);
        } catch {
          // Redis away: keep the last value rather than fail the scrape.
        }
      },
    });
  }

  /** Tells the size gauges where to read. */
  setLedgerSizeSource(source: LedgerSizeSource): void {
    this.source = source;
  }
}
