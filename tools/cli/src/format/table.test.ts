import { describe, expect, test } from '@jest/globals';
import { renderFields, renderTable } from './table.js';

describe('renderTable', () => {
  test('aligns columns two spaces apart, with no trailing blanks', () => {
    expect(renderTable(['NAME', 'NODES', 'NOTE'], [['Insufficient cpu', '3', ''], ['x', '12', 'n1, n2']])).toBe(
      ['NAME              NODES  NOTE', 'Insufficient cpu  3', 'x                 12     n1, n2'].join('\n'),
    );
  });

  test('headers alone when there are no rows', () => {
    expect(renderTable(['A', 'B'], [])).toBe('A  B');
  });
});

describe('renderFields', () => {
  test('aligns the values and leaves empty ones out', () => {
    expect(renderFields([['Pod', 'default/a'], ['Node', ''], ['Decided by', 'NodeResourcesFit']])).toBe('Pod:         default/a\nDecided by:  NodeResourcesFit');
  });
});
