import { describe, expect, test } from '@jest/globals';
import { Status } from '@schedmesh/framework';
import type { EvaluateResult } from '@schedmesh/scheduling';
import { cycleEvents } from './cycle-trace.js';

// Only the fields cycleEvents reads; the rest of a result does not shape the events.
function result(parts: Partial<Pick<EvaluateResult, 'rejected' | 'scoreSummary' | 'preFilterStatus'>>): EvaluateResult {
  return { rejected: [], scoreSummary: [], preFilterStatus: undefined, ...parts } as unknown as EvaluateResult;
}

const rejected = (count: number, plugin: string, reason: string) =>
  Array.from({ length: count }, (_, i) => ({ nodeName: `${plugin}-${reason}-${i}`, status: Status.unschedulable(reason).withPlugin(plugin) }));

describe('cycleEvents: one event per plugin, never per node', () => {
  test('5,000 rejected nodes make one event per rejecting plugin, with the count and the most frequent reason', () => {
    const events = cycleEvents(
      result({
        rejected: [...rejected(3_000, 'NodeResourcesFit', 'Insufficient cpu'), ...rejected(1_000, 'NodeResourcesFit', 'Insufficient memory'), ...rejected(1_000, 'TaintToleration', 'untolerated taint')],
      }),
    );
    expect(events).toEqual([
      { name: 'plugin.filter.rejected', attributes: { 'schedmesh.plugin': 'NodeResourcesFit', 'schedmesh.nodes_rejected': 4_000, 'schedmesh.reason': 'Insufficient cpu', 'schedmesh.reasons': 2 } },
      { name: 'plugin.filter.rejected', attributes: { 'schedmesh.plugin': 'TaintToleration', 'schedmesh.nodes_rejected': 1_000, 'schedmesh.reason': 'untolerated taint', 'schedmesh.reasons': 1 } },
    ]);
  });

  test('a PreFilter rejection and each Score plugin get their own event', () => {
    const events = cycleEvents(
      result({
        preFilterStatus: Status.unresolvable("node(s) didn't match Pod's node affinity/selector").withPlugin('NodeAffinity'),
        scoreSummary: [{ plugin: 'NodeResourcesFit', weight: 1, nodes: 3, min: 20, max: 80, mean: 50.123 }],
      }),
    );
    expect(events).toEqual([
      { name: 'plugin.prefilter.rejected', attributes: { 'schedmesh.plugin': 'NodeAffinity', 'schedmesh.reason': "node(s) didn't match Pod's node affinity/selector" } },
      {
        name: 'plugin.score',
        attributes: { 'schedmesh.plugin': 'NodeResourcesFit', 'schedmesh.weight': 1, 'schedmesh.nodes_scored': 3, 'schedmesh.score.min': 20, 'schedmesh.score.max': 80, 'schedmesh.score.mean': 50.12 },
      },
    ]);
  });
});
