import { expect, test } from '@jest/globals';
import type { Duration } from '@schedmesh/proto/google/duration';
import { durationProblem, durationToMs, msToDuration } from './time.js';

test.each<[number, Duration]>([
  [0, { seconds: 0, nanos: 0 }],
  [1, { seconds: 0, nanos: 1_000_000 }],
  [999, { seconds: 0, nanos: 999_000_000 }],
  [1_000, { seconds: 1, nanos: 0 }],
  [1_500, { seconds: 1, nanos: 500_000_000 }],
  [900_000, { seconds: 900, nanos: 0 }],
  [0.25, { seconds: 0, nanos: 250_000 }],
  [12.3456789, { seconds: 0, nanos: 12_345_679 }],
  [-1_500, { seconds: -1, nanos: -500_000_000 }],
  [-250, { seconds: 0, nanos: -250_000_000 }],
])('msToDuration(%j) = %j', (ms, d) => {
  expect(msToDuration(ms)).toEqual(d);
});

test.each<[Duration, number]>([
  [{ seconds: 0, nanos: 0 }, 0],
  [{ seconds: 1, nanos: 500_000_000 }, 1_500],
  [{ seconds: 0, nanos: 999_999 }, 0],
  [{ seconds: 0, nanos: 1_999_999 }, 1],
  [{ seconds: 900, nanos: 0 }, 900_000],
  [{ seconds: -1, nanos: -500_000_000 }, -1_500],
])('durationToMs(%j) = %j', (d, ms) => {
  expect(durationToMs(d)).toBe(ms);
});

test.each([0, 1, 999, 1_000, 86_400_000])('whole milliseconds survive the round trip: %j', (ms) => {
  expect(durationToMs(msToDuration(ms))).toBe(ms);
});

test.each<[Duration, string | undefined]>([
  [{ seconds: 0, nanos: 0 }, undefined],
  [{ seconds: 10, nanos: 999_999_999 }, undefined],
  [{ seconds: -1, nanos: 0 }, 'must be a non-negative duration'],
  [{ seconds: 0, nanos: -1 }, 'must be a non-negative duration'],
  [{ seconds: 0, nanos: 1_000_000_000 }, 'must be a non-negative duration'],
])('durationProblem(%j) = %j', (d, problem) => {
  expect(durationProblem(d)).toBe(problem);
});
