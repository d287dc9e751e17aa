import { expect, test } from '@jest/globals';
import { AnchorTracker } from './stream-anchor.js';
import type { AnchorVerdict, StreamAnchor } from './stream-anchor.js';

const anchor = (epoch: string, tombstonesExpiredThrough = 0): StreamAnchor => ({ seq: 1, epoch, tombstonesExpiredThrough });

test.each<[string, StreamAnchor | undefined, number, StreamAnchor | undefined, number, AnchorVerdict]>([
  ['no anchor yet, none before (a new or older stream)', undefined, 0, undefined, 10, 'ok'],
  ['the same epoch', anchor('e'), 5, anchor('e'), 10, 'ok'],
  ['the anchor gone (purged)', anchor('e'), 5, undefined, 10, 'lost'],
  ['another epoch (purged and republished)', anchor('e'), 5, anchor('f'), 10, 'reset'],
  ['a horizon the state had passed at its last look', anchor('e'), 50, anchor('e', 40), 60, 'ok'],
  ['a horizon past the state at its last look', anchor('e'), 50, anchor('e', 55), 60, 'reset'],
  ['a horizon already known', anchor('e', 55), 0, anchor('e', 55), 60, 'ok'],
  ['a first look by a state carried over, behind the horizon', undefined, 0, anchor('e', 30), 20, 'reset'],
  ['a first look by a new state', undefined, 0, anchor('e', 30), 0, 'ok'],
])('%s: %s', (_what, before, positionBefore, now, position, verdict) => {
  const tracker = new AnchorTracker();
  tracker.accept(before, positionBefore);
  expect(tracker.verdict(now, position)).toBe(verdict);
});
