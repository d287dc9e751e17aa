import { describe, expect, test } from '@jest/globals';
import { Code } from '@schedmesh/proto/v1/types';
import { mergeResults } from './merge.js';
import type { PluginResultView } from './merge.js';

const result = (plugin: string, code: Code, extra: Partial<PluginResultView> = {}): PluginResultView => ({
  plugin, code, reasons: code === Code.CODE_SUCCESS ? [] : [`${plugin} says no`], rejected: [], scores: {}, cached: false, durationMs: 1, weight: 1, ...extra,
});
const nodes = ['n1', 'n2', 'n3'];

describe('mergeResults', () => {
  test.each<[string, Code[], Code, string]>([
    ['all succeed', [Code.CODE_SUCCESS, Code.CODE_SUCCESS], Code.CODE_SUCCESS, ''],
    ['skips are neutral', [Code.CODE_SKIP, Code.CODE_SUCCESS], Code.CODE_SUCCESS, ''],
    ['the first non-success in plugin order decides', [Code.CODE_SUCCESS, Code.CODE_UNSCHEDULABLE, Code.CODE_ERROR], Code.CODE_UNSCHEDULABLE, 'p1'],
    ['an error before a rejection', [Code.CODE_ERROR, Code.CODE_UNSCHEDULABLE], Code.CODE_ERROR, 'p0'],
    ['wait', [Code.CODE_SKIP, Code.CODE_WAIT], Code.CODE_WAIT, 'p1'],
  ])('verdict: %s', (_what, codes, code, plugin) => {
    const merged = mergeResults('preFilter', [], codes.map((c, i) => result(`p${i}`, c)));
    expect(merged).toMatchObject({ code, plugin, reasons: plugin ? [`${plugin} says no`] : [] });
  });

  test('filter: feasible is what no answering plugin rejected, in request order; skipped plugins do not count', () => {
    const merged = mergeResults('filter', nodes, [
      result('a', Code.CODE_SUCCESS, { rejected: [{ node: 'n3', code: Code.CODE_UNSCHEDULABLE, reasons: [] }] }),
      result('b', Code.CODE_SKIP, { rejected: [{ node: 'n1', code: Code.CODE_UNSCHEDULABLE, reasons: [] }] }),
      result('c', Code.CODE_SUCCESS, { rejected: [{ node: 'n2', code: Code.CODE_UNSCHEDULABLE, reasons: [] }] }),
    ]);
    expect(merged.feasible).toEqual(['n1']);
  });

  test('score: every candidate gets the weighted sum, 0 when nobody scored it', () => {
    const merged = mergeResults('score', nodes, [
      result('a', Code.CODE_SUCCESS, { scores: { n1: 50, n2: 10 }, weight: 3 }),
      result('b', Code.CODE_SUCCESS, { scores: { n1: 100 }, weight: 1 }),
      result('ignored', Code.CODE_SKIP, { scores: { n3: 100 }, weight: 10 }),
    ]);
    expect(merged.scores).toEqual({ n1: 250, n2: 30, n3: 0 });
  });

  test('preBind: later plugins win on a key both set', () => {
    const merged = mergeResults('preBind', ['n1'], [
      result('a', Code.CODE_SUCCESS, { patch: { labels: { x: '1', y: '1' }, annotations: { a: 'A' } } }),
      result('b', Code.CODE_SUCCESS, { patch: { labels: { y: '2' }, annotations: {} } }),
    ]);
    expect(merged.patch).toEqual({ labels: { x: '1', y: '2' }, annotations: { a: 'A' } });
  });

  test('an ERROR verdict leaves nothing usable: no feasible nodes, no scores, no patch', () => {
    const failing = result('down', Code.CODE_ERROR);
    expect(mergeResults('filter', nodes, [result('a', Code.CODE_SUCCESS), failing]).feasible).toEqual([]);
    expect(mergeResults('score', nodes, [result('a', Code.CODE_SUCCESS, { scores: { n1: 1 } }), failing]).scores).toEqual({});
    expect(mergeResults('preBind', nodes, [result('a', Code.CODE_SUCCESS, { patch: { labels: { x: '1' }, annotations: {} } }), failing]).patch).toEqual({ labels: {}, annotations: {} });
  });
});
