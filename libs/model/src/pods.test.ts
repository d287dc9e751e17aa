import { describe, expect, test } from '@jest/globals';
import { PodPhase } from '@schedmesh/proto/v1/types';
import { isPodTerminal, podHoldsNode } from './pods.js';

describe('podHoldsNode', () => {
  test.each<[string, string, PodPhase, boolean]>([
    ['pending, not bound', '', PodPhase.POD_PHASE_PENDING, false],
    ['bound, pending (image pull)', 'n1', PodPhase.POD_PHASE_PENDING, true],
    ['bound, running', 'n1', PodPhase.POD_PHASE_RUNNING, true],
    ['bound, phase unspecified', 'n1', PodPhase.POD_PHASE_UNSPECIFIED, true],
    ['bound, succeeded', 'n1', PodPhase.POD_PHASE_SUCCEEDED, false],
    ['bound, failed', 'n1', PodPhase.POD_PHASE_FAILED, false],
    ['not bound, failed', '', PodPhase.POD_PHASE_FAILED, false],
  ])('%s', (_name, nodeName, phase, holds) => {
    expect(podHoldsNode({ nodeName, phase })).toBe(holds);
  });

  test('terminal means Succeeded or Failed', () => {
    const terminal = Object.values(PodPhase).filter((p): p is PodPhase => typeof p === 'number' && isPodTerminal({ phase: p }));
    expect(terminal.sort()).toEqual([PodPhase.POD_PHASE_SUCCEEDED, PodPhase.POD_PHASE_FAILED].sort());
  });
});
