// The demo's terminal output. On a TTY: a progress bar and the placement
// table, redrawn in place. Elsewhere (a pipe, CI, the test): a plain progress
// line when something changed, and the table once at the end.
import type { Writable } from 'node:stream';

import { countStates, placementByRack } from './placements.js';
import type { NodeView, PodView } from './placements.js';

const BAR_WIDTH = 40;

export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** One line: bar, counts and elapsed time. */
export function progressLine(pods: readonly PodView[], total: number, elapsedMs: number): string {
  const c = countStates(pods);
  const settled = c.bound + c.refused;
  return `${progressBar(settled, total)} ${settled}/${total} settled: ${c.bound} bound, ${c.refused} refused, ${c.retrying} retrying, ${total - settled - c.retrying} pending  ${(elapsedMs / 1000).toFixed(1)} s`;
}

/** The placement table: one row per zone, one column per rack position (the zone's racks in name order). */
export function placementTable(pods: readonly PodView[], nodes: readonly NodeView[]): string[] {
  const table = placementByRack(pods, nodes);
  const zones = [...table.keys()].sort();
  const lines = ['pods bound per zone and rack:'];
  for (const zone of zones) {
    const racks = [...table.get(zone)!.entries()].sort(([a], [b]) => a.localeCompare(b));
    const total = racks.reduce((sum, [, n]) => sum + n, 0);
    lines.push(`  ${zone.padEnd(8)} ${racks.map(([rack, n]) => `${rack} ${String(n).padStart(4)}`).join('   ')}   total ${String(total).padStart(4)}`);
  }
  return lines;
}

/** Writes progress to a stream; redraws in place when it is a TTY. */
export class ProgressDisplay {
  private drawnLines = 0;
  private lastPlain = '';
  private lastPlainAt = 0;

  constructor(
    private readonly out: Writable & { isTTY?: boolean },
    private readonly total: number,
  ) {}

  get isTTY(): boolean {
    return this.out.isTTY === true;
  }

  update(pods: readonly PodView[], nodes: readonly NodeView[], elapsedMs: number): void {
    const line = progressLine(pods, this.total, elapsedMs);
    if (this.isTTY) {
      const lines = [line, ...placementTable(pods, nodes)];
      // Move up over the last frame and clear it, then draw the new one.
      const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[0J` : '';
      this.out.write(`${up}${lines.join('\n')}\n`);
      this.drawnLines = lines.length;
      return;
    }
    // Plain: a line when the counts changed, at most every 2 s.
    const counts = line.slice(0, line.lastIndexOf('  '));
    if (counts !== this.lastPlain && elapsedMs - this.lastPlainAt >= 2_000) {
      this.out.write(`${line}\n`);
      this.lastPlain = counts;
      this.lastPlainAt = elapsedMs;
    }
  }

  /** The final frame; on a plain stream the table too. */
  finish(pods: readonly PodView[], nodes: readonly NodeView[], elapsedMs: number): void {
    if (this.isTTY) {
      this.update(pods, nodes, elapsedMs);
      return;
    }
    const line = progressLine(pods, this.total, elapsedMs);
    const fresh = line.slice(0, line.lastIndexOf('  ')) !== this.lastPlain;
    this.out.write(`${[...(fresh ? [line] : []), ...placementTable(pods, nodes)].join('\n')}\n`);
  }
}
