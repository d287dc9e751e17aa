/**
 * Score normalization helpers shared by plugins (upstream plugins/helper).
 * Integer arithmetic truncates toward zero, as Go's int64 division does.
 */
import { MAX_NODE_SCORE } from '@schedmesh/framework';
import type { NodeScore } from '@schedmesh/framework';

/**
 * Scales scores so the highest becomes maxPriority (upstream
 * DefaultNormalizeScore); with reverse, the lowest does. All zero: every
 * score stays 0, or becomes maxPriority with reverse.
 */
export function defaultNormalizeScore(scores: NodeScore[], reverse: boolean, maxPriority: number = MAX_NODE_SCORE): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxPriority;
    return;
  }
  for (const s of scores) {
    let v = Math.trunc((maxPriority * s.score) / max);
    if (reverse) v = maxPriority - v;
    s.score = v;
  }
}

/** A point of a broken-line function: utilization (0..100) → score. */
export interface FunctionShapePoint {
  readonly utilization: number;
  readonly score: number;
}

/**
 * The piecewise linear function through the points (upstream
 * BuildBrokenLinearFunction): constant before the first and after the last
 * point, integer-interpolated in between. Points must be sorted by
 * utilization.
 */
export function brokenLinearFunction(shape: readonly FunctionShapePoint[]): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      const point = shape[i] as FunctionShapePoint;
      if (p <= point.utilization) {
        if (i === 0) return point.score;
        const prev = shape[i - 1] as FunctionShapePoint;
        return prev.score + Math.trunc(((point.score - prev.score) * (p - prev.utilization)) / (point.utilization - prev.utilization));
      }
    }
    return (shape[shape.length - 1] as FunctionShapePoint).score;
  };
}
