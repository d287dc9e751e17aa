import { describe, expect, test } from '@jest/globals';
import { TaintEffect, TolerationOperator } from '@schedmesh/proto/v1/types';
import type { Taint, Toleration } from '@schedmesh/proto/v1/types';
import {
  countUntoleratedTaints,
  FILTER_EFFECTS,
  findUntoleratedTaint,
  taintEffectFromString,
  taintEffectName,
  taintProblem,
  tolerationOperatorFromString,
  tolerationProblem,
  toleratesTaint,
  tolerationsTolerateTaint,
} from './taints.js';

const { TAINT_EFFECT_UNSPECIFIED: ANY, TAINT_EFFECT_NO_SCHEDULE: NO_SCHEDULE } = TaintEffect;
const { TAINT_EFFECT_PREFER_NO_SCHEDULE: PREFER_NO_SCHEDULE, TAINT_EFFECT_NO_EXECUTE: NO_EXECUTE } = TaintEffect;
const { TOLERATION_OPERATOR_UNSPECIFIED: DEFAULT, TOLERATION_OPERATOR_EQUAL: EQUAL, TOLERATION_OPERATOR_EXISTS: EXISTS } = TolerationOperator;

function taint(key: string, value: string, effect: TaintEffect): Taint {
  return { key, value, effect };
}

function tol(key: string, operator: TolerationOperator, value: string, effect: TaintEffect, tolerationSeconds?: number): Toleration {
  return { key, operator, value, effect, tolerationSeconds };
}

describe('toleratesTaint', () => {
  // Mirrors TestTolerationToleratesTaint (k8s.io/api/core/v1/toleration_test.go).
  test.each<[string, Toleration, Taint, boolean]>([
    ['empty key with Exists tolerates every taint', tol('', EXISTS, '', ANY), taint('foo', 'bar', NO_EXECUTE), true],
    ['empty key with Exists and an effect tolerates that effect only', tol('', EXISTS, '', NO_SCHEDULE), taint('foo', 'bar', NO_EXECUTE), false],
    ['same key, Equal, same value', tol('foo', EQUAL, 'bar', NO_SCHEDULE), taint('foo', 'bar', NO_SCHEDULE), true],
    ['same key, Equal, another value', tol('foo', EQUAL, 'baz', NO_SCHEDULE), taint('foo', 'bar', NO_SCHEDULE), false],
    ['the default operator is Equal', tol('foo', DEFAULT, 'bar', NO_SCHEDULE), taint('foo', 'bar', NO_SCHEDULE), true],
    ['the default operator compares values', tol('foo', DEFAULT, '', NO_SCHEDULE), taint('foo', 'bar', NO_SCHEDULE), false],
    ['Exists ignores the value', tol('foo', EXISTS, '', NO_SCHEDULE), taint('foo', 'bar', NO_SCHEDULE), true],
    ['another key', tol('foo', EXISTS, '', NO_SCHEDULE), taint('baz', 'bar', NO_SCHEDULE), false],
    ['another effect', tol('foo', EQUAL, 'bar', PREFER_NO_SCHEDULE), taint('foo', 'bar', NO_SCHEDULE), false],
    ['an empty effect matches every effect', tol('foo', EQUAL, 'bar', ANY), taint('foo', 'bar', NO_EXECUTE), true],
    ['empty values are equal', tol('foo', EQUAL, '', NO_SCHEDULE), taint('foo', '', NO_SCHEDULE), true],
    // Validation forbids an empty key with Equal; matching compares the value only, as upstream.
    ['empty key with Equal compares the value', tol('', EQUAL, 'bar', ANY), taint('foo', 'bar', NO_SCHEDULE), true],
    ['an unknown operator tolerates nothing', tol('foo', TolerationOperator.UNRECOGNIZED, 'bar', ANY), taint('foo', 'bar', NO_SCHEDULE), false],
  ])('%s', (_name, t, tt, expected) => {
    expect(toleratesTaint(t, tt)).toBe(expected);
    expect(tolerationsTolerateTaint([tol('other', EXISTS, '', ANY), t], tt)).toBe(expected);
  });
});

describe('findUntoleratedTaint', () => {
  const taints = [taint('a', '', PREFER_NO_SCHEDULE), taint('b', 'x', NO_SCHEDULE), taint('c', '', NO_EXECUTE)];

  // Mirrors TestFindMatchingUntoleratedTaint (k8s.io/component-helpers/scheduling/corev1/helpers_test.go)
  // and the TaintToleration filter (NoSchedule and NoExecute only).
  test.each<[string, Toleration[], Parameters<typeof findUntoleratedTaint>[2], string | undefined]>([
    ['no taint is tolerated: the first one', [], undefined, 'a'],
    ['the filter skips PreferNoSchedule', [], FILTER_EFFECTS, 'b'],
    ['tolerating b leaves c', [tol('b', EQUAL, 'x', NO_SCHEDULE)], FILTER_EFFECTS, 'c'],
    ['all tolerated', [tol('b', EQUAL, 'x', ANY), tol('c', EXISTS, '', ANY)], FILTER_EFFECTS, undefined],
    ['tolerate everything', [tol('', EXISTS, '', ANY)], undefined, undefined],
    ['a predicate filter', [], (t: Taint) => t.key === 'c', 'c'],
    ['an empty effect list considers nothing', [], [], undefined],
  ])('%s', (_name, tolerations, filter, key) => {
    expect(findUntoleratedTaint(taints, tolerations, filter)?.key).toBe(key);
  });

  test('countUntoleratedTaints counts one effect', () => {
    const prefer = [taint('a', '', PREFER_NO_SCHEDULE), taint('b', '', PREFER_NO_SCHEDULE), taint('c', '', NO_SCHEDULE)];
    expect(countUntoleratedTaints(prefer, [], PREFER_NO_SCHEDULE)).toBe(2);
    expect(countUntoleratedTaints(prefer, [tol('a', EXISTS, '', PREFER_NO_SCHEDULE)], PREFER_NO_SCHEDULE)).toBe(1);
    expect(countUntoleratedTaints(prefer, [tol('b', EXISTS, '', NO_SCHEDULE)], PREFER_NO_SCHEDULE)).toBe(2);
  });
});

describe('names and validation', () => {
  test.each<[string, TaintEffect | undefined]>([
    ['NoSchedule', NO_SCHEDULE],
    ['PreferNoSchedule', PREFER_NO_SCHEDULE],
    ['NoExecute', NO_EXECUTE],
    ['', undefined],
    ['noschedule', undefined],
  ])('effect %p', (name, effect) => {
    expect(taintEffectFromString(name)).toBe(effect);
    if (effect !== undefined) expect(taintEffectName(effect)).toBe(name);
  });

  test.each<[string, TolerationOperator | undefined]>([
    ['', DEFAULT],
    ['Equal', EQUAL],
    ['Exists', EXISTS],
    ['Gt', undefined],
  ])('toleration operator %p', (name, op) => {
    expect(tolerationOperatorFromString(name)).toBe(op);
  });

  // Mirrors TestValidateTaintsInNodeAnnotations / TestValidateTolerations (pkg/apis/core/validation).
  test.each<[string, Taint, string | undefined]>([
    ['valid', taint('dedicated', 'shop', NO_SCHEDULE), undefined],
    ['empty key', taint('', 'x', NO_SCHEDULE), 'key'],
    ['invalid key', taint('a b', '', NO_SCHEDULE), 'key'],
    ['invalid value', taint('k', 'not ok', NO_SCHEDULE), 'value'],
    ['unspecified effect', taint('k', '', ANY), 'effect'],
  ])('taint: %s', (_name, t, field) => {
    expect(taintProblem(t)?.field).toBe(field);
  });

  test.each<[string, Toleration, string | undefined]>([
    ['valid Equal', tol('k', EQUAL, 'v', NO_SCHEDULE), undefined],
    ['valid Exists on every key', tol('', EXISTS, '', ANY), undefined],
    ['valid tolerationSeconds', tol('k', EXISTS, '', NO_EXECUTE, 300), undefined],
    ['empty key needs Exists', tol('', EQUAL, '', ANY), 'operator'],
    ['Exists with a value', tol('k', EXISTS, 'v', ANY), 'value'],
    ['tolerationSeconds needs NoExecute', tol('k', EXISTS, '', NO_SCHEDULE, 300), 'effect'],
    ['invalid key', tol('-k', EXISTS, '', ANY), 'key'],
    ['invalid value', tol('k', EQUAL, 'v v', ANY), 'value'],
  ])('toleration: %s', (_name, t, field) => {
    expect(tolerationProblem(t)?.field).toBe(field);
  });
});
