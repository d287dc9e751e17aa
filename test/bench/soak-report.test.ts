// The soak's verdicts on made-up series: a heap that climbs between
// collections but returns to the same floor is no leak, one whose floor
// rises is; RSS within a few MiB is flat.
import { expect, test } from '@jest/globals';

import { leastSquares } from '../../bench/soak/memory';
import { summarize } from '../../bench/soak/report';
import type { SoakSample } from '../../bench/soak/report';

/** Samples every 10 s for 10 minutes after a 1-minute warm-up, with the heap and RSS `at` gives. */
function samples(heapAt: (sec: number) => number, rssAt: (sec: number) => number): SoakSample[] {
  return Array.from({ length: 67 }, (_, i) => {
    const atSeconds = i * 10;
    return { atSeconds, measured: atSeconds >= 60, rssMiB: { p: rssAt(atSeconds) }, heapMiB: { p: heapAt(atSeconds) } };
  });
}

/** A heap collected every 2 minutes: from `floor` it climbs 20 MiB a minute until the next collection. */
const sawtooth = (floor: (sec: number) => number) => (sec: number) => floor(sec) + ((sec % 120) / 60) * 20;

test('least squares recovers a line', () => {
  const { slope, intercept } = leastSquares([0, 1, 2, 3].map((x) => [x, 2 * x + 1] as const));
  expect(slope).toBeCloseTo(2);
  expect(intercept).toBeCloseTo(1);
  expect(leastSquares([[1, 5]]).slope).toBeNaN();
});

test('a sawtooth heap over a flat floor is no leak, whatever the slope through every sample says', () => {
  const { measuredMinutes, processes } = summarize(['p'], samples(sawtooth(() => 40), () => 150));
  expect(measuredMinutes).toBe(10);
  const [p] = processes;
  expect(p!.heapFloor.slopeMiBPerMin).toBeCloseTo(0, 5);
  expect(p!.heapFloorVerdict).toBe('flat');
  expect(p!.heapFloor.maxMiB).toBe(40);
  expect(p!.rssVerdict).toBe('flat');
  expect(p!.rss.growthMiB).toBe(0);
});

test('a floor that rises 2 MiB a minute is a leak, in the heap and in RSS', () => {
  const leak = (sec: number) => 40 + (2 * sec) / 60;
  const { processes } = summarize(['p'], samples(sawtooth(leak), (sec) => 150 + (2 * sec) / 60));
  const [p] = processes;
  expect(p!.heapFloor.slopeMiBPerMin).toBeGreaterThan(1.5);
  expect(p!.heapFloorVerdict).toBe('climbing');
  expect(p!.rss.slopeMiBPerMin).toBeCloseTo(2, 5);
  expect(p!.rssVerdict).toBe('climbing');
});

test('a missing reading is left out, not read as zero', () => {
  const s = samples(() => 40, () => 150);
  s[30]!.heapMiB.p = Number.NaN;
  const [p] = summarize(['p'], s).processes;
  expect(p!.heap.slopeMiBPerMin).toBeCloseTo(0, 5);
  expect(p!.heapFloor.maxMiB).toBe(40);
});

test("V8's committed heap gets its own trend, and a report without it reads as no data", () => {
  const withCommitted = samples(() => 40, (sec) => 150 - sec / 60).map((s) => ({ ...s, heapCommittedMiB: { p: 100 - s.atSeconds / 60 } }));
  const [p] = summarize(['p'], withCommitted).processes;
  expect(p!.heapCommitted.slopeMiBPerMin).toBeCloseTo(-1, 5);
  expect(p!.heapCommitted.meanMiB).toBeLessThan(100);
  const [old] = summarize(['p'], samples(() => 40, () => 150)).processes;
  expect(old!.heapCommitted.meanMiB).toBeNaN();
});

test('a window a little past a whole number of spans leaves no short span at its end to read a high sample as the floor', () => {
  // 10.2 minutes after the warm-up, as a run whose sampling overran ends; the floor is flat at 40 and the last sample is at a peak.
  const s = Array.from({ length: 68 }, (_, i): SoakSample => {
    const atSeconds = i * 10 + (i === 67 ? 2 : 0);
    return { atSeconds, measured: atSeconds >= 60, rssMiB: { p: 150 }, heapMiB: { p: i === 67 ? 120 : sawtooth(() => 40)(atSeconds) } };
  });
  const { measuredMinutes, processes } = summarize(['p'], s);
  expect(measuredMinutes).toBeCloseTo(10.2, 5);
  const [p] = processes;
  expect(p!.heapFloor.maxMiB).toBe(40);
  expect(p!.heapFloorVerdict).toBe('flat');
});
