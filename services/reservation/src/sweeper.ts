import type { Logger } from '@schedmesh/runtime';
import type { GangCoordinator } from './gang.js';
import type { Ledger } from './ledger.js';
import type { LedgerSync } from './sync.js';

/** Options of {@link Sweeper}. */
export interface SweeperOptions {
  ledger: Ledger;
  gangs: GangCoordinator;
  sync: LedgerSync;
  logger: Logger;
  intervalMs: number;
}

/**
 * Releases lapsed leases and ends gang rounds past their deadline when no
 * caller touches them. Correctness never depends on it — every script sweeps
 * its node first, so a lapsed lease is never counted — but it gives capacity
 * back in the ledger (and in GetLedger, metrics and gangs) without waiting for
 * the next call on that node. Every replica may run it: each sweep is one
 * atomic script, so a lease is released once.
 */
export class Sweeper {
  private readonly o: SweeperOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(options: SweeperOptions) {
    this.o = options;
  }

  /** Starts sweeping every interval. */
  start(): void {
    this.timer = setInterval(() => {
      if (this.running || !this.o.sync.synced) return;
      this.running = this.tick()
        .then(() => undefined)
        .finally(() => {
          this.running = undefined;
        });
    }, this.o.intervalMs);
    this.timer.unref();
  }

  /** One pass; resolves with the leases released and gangs rejected. */
  async tick(): Promise<{ leases: number; gangs: number }> {
    try {
      const leases = await this.o.ledger.sweepDue();
      const gangs = await this.o.gangs.sweep();
      if (leases > 0 || gangs > 0) this.o.logger.debug({ leases, gangs }, 'swept lapsed leases and gangs');
      return { leases, gangs };
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'sweep failed; retrying next interval');
      return { leases: 0, gangs: 0 };
    }
  }

  /** Stops; waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
