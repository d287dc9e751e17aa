import { describe, expect, test } from '@jest/globals';
import type { ExplanationView } from '../views.js';
import { examplesCell, renderExplanation, renderTopNodes } from './explanation.js';

const explanation: ExplanationView = {
  rejectedNodes: 5,
  reasons: [
    { reason: 'node(s) had untolerated taint(s)', nodes: 2, examples: ['gpu-0', 'gpu-1'], plugin: 'TaintToleration', resolvable: false },
    { reason: 'Insufficient cpu', nodes: 3, examples: ['n1', 'n2'], plugin: 'NodeResourcesFit', resolvable: true },
  ],
  topNodes: [
    { node: 'n7', total: 190, plugins: [{ plugin: 'NodeResourcesFit', score: 90, weight: 1 }, { plugin: 'TaintToleration', score: 100, weight: 1 }] },
    { node: 'n8', total: 80, plugins: [{ plugin: 'NodeResourcesFit', score: 80, weight: 1 }] },
  ],
  decidedBy: '',
  admissionPolicies: [],
};

describe('the explanation tables', () => {
  test('reasons with their counts, plugin, whether preemption may help, and the nodes named', () => {
    expect(renderExplanation({ ...explanation, topNodes: [] })).toBe(
      [
        'Rejected nodes (5):',
        'REASON                            NODES  PLUGIN            PREEMPTION MAY HELP  NODES NAMED',
        'node(s) had untolerated taint(s)  2      TaintToleration   no                   gpu-0, gpu-1',
        'Insufficient cpu                  3      NodeResourcesFit  yes                  n1, n2, … (+1)',
      ].join('\n'),
    );
  });

  test('top nodes: a column per plugin with its weight, "-" where a plugin gave no score, the chosen node marked', () => {
    expect(renderTopNodes(explanation.topNodes, 'n7')).toBe(
      ['Top-scored nodes:', 'NODE         TOTAL  NodeResourcesFit ×1  TaintToleration ×1', 'n7 (chosen)  190    90                   100', 'n8           80     80                   -'].join('\n'),
    );
  });

  test('a weight that differs from the header shows beside the score', () => {
    const text = renderTopNodes([
      { node: 'a', total: 10, plugins: [{ plugin: 'P', score: 10, weight: 1 }] },
      { node: 'b', total: 40, plugins: [{ plugin: 'P', score: 20, weight: 2 }] },
    ]);
    expect(text.split('\n')[3]).toBe('b     40     20 ×2');
  });

  test.each([
    [{ nodes: 2, examples: ['a', 'b'] }, 'a, b'],
    [{ nodes: 9, examples: ['a'] }, 'a, … (+8)'],
  ])('examples %p', (r, cell) => {
    expect(examplesCell({ reason: 'r', plugin: 'p', resolvable: true, ...r })).toBe(cell);
  });

  test('nothing to show: no tables', () => {
    expect(renderExplanation({ ...explanation, reasons: [], topNodes: [] })).toBe('');
  });
});
