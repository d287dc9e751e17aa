import { describe, expect, test } from '@jest/globals';
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import type { LabelSelector, NodeSelector, NodeSelectorTerm, SelectorRequirement } from '@schedmesh/proto/v1/types';
import {
  compileLabelSelector,
  compileMapSelector,
  compileNodeSelector,
  compileNodeSelectorTerm,
  compileRequiredNodeAffinity,
  labelKeyProblem,
  labelSelectorMatches,
  labelValueProblem,
  mapSelectorMatches,
  nodeSelectorMatches,
  nodeSelectorTermMatches,
  parseInt64,
  requiredNodeAffinityMatches,
  requirementProblem,
  SelectorError,
  selectorOperatorFromString,
  validateLabelSelector,
  validateNodeSelector,
} from './selectors.js';
import type { Labels, RequirementKind } from './selectors.js';

const { SELECTOR_OPERATOR_IN: IN, SELECTOR_OPERATOR_NOT_IN: NOT_IN, SELECTOR_OPERATOR_EXISTS: EXISTS } = SelectorOperator;
const { SELECTOR_OPERATOR_DOES_NOT_EXIST: DOES_NOT_EXIST, SELECTOR_OPERATOR_GT: GT, SELECTOR_OPERATOR_LT: LT } = SelectorOperator;

function req(key: string, operator: SelectorOperator, ...values: string[]): SelectorRequirement {
  return { key, operator, values };
}

function sel(matchLabels: Record<string, string>, ...matchExpressions: SelectorRequirement[]): LabelSelector {
  return { matchLabels, matchExpressions };
}

const labels: Labels = { app: 'web', tier: 'frontend', gen: '6', empty: '' };

describe('label selectors', () => {
  // Mirrors TestLabelSelectorAsSelector / TestRequirementMatches
  // (k8s.io/apimachinery/pkg/apis/meta/v1/helpers_test.go, pkg/labels/selector_test.go).
  test.each<[string, LabelSelector | undefined, boolean]>([
    ['absent selects nothing', undefined, false],
    ['empty selects everything', sel({}), true],
    ['matchLabels hit', sel({ app: 'web' }), true],
    ['matchLabels miss', sel({ app: 'db' }), false],
    ['matchLabels on an absent key', sel({ zone: 'a' }), false],
    ['matchLabels with an empty value', sel({ empty: '' }), true],
    ['In hit', sel({}, req('tier', IN, 'backend', 'frontend')), true],
    ['In miss', sel({}, req('tier', IN, 'backend')), false],
    ['In on an absent key', sel({}, req('zone', IN, 'a')), false],
    ['NotIn hit', sel({}, req('tier', NOT_IN, 'backend')), true],
    ['NotIn miss', sel({}, req('tier', NOT_IN, 'frontend')), false],
    ['NotIn on an absent key matches', sel({}, req('zone', NOT_IN, 'a')), true],
    ['Exists', sel({}, req('app', EXISTS)), true],
    ['Exists on an absent key', sel({}, req('zone', EXISTS)), false],
    ['DoesNotExist', sel({}, req('zone', DOES_NOT_EXIST)), true],
    ['DoesNotExist on a present key', sel({}, req('app', DOES_NOT_EXIST)), false],
    ['all conditions must hold', sel({ app: 'web' }, req('tier', IN, 'frontend'), req('zone', EXISTS)), false],
    ['all conditions hold', sel({ app: 'web' }, req('tier', IN, 'frontend'), req('zone', DOES_NOT_EXIST)), true],
    ['In with many values', sel({}, req('app', IN, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'web')), true],
    ['NotIn with many values', sel({}, req('app', NOT_IN, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'web')), false],
    ['inherited properties are no labels', sel({}, req('constructor', EXISTS)), false],
  ])('%s', (_name, selector, expected) => {
    expect(labelSelectorMatches(selector, labels)).toBe(expected);
    expect(compileLabelSelector(selector).matches(labels)).toBe(expected);
  });

  test('map selectors (spec.nodeSelector)', () => {
    expect(mapSelectorMatches({}, labels)).toBe(true);
    expect(mapSelectorMatches({ app: 'web', tier: 'frontend' }, labels)).toBe(true);
    expect(mapSelectorMatches({ app: 'web', tier: 'backend' }, labels)).toBe(false);
    expect(compileMapSelector({ app: 'web' }).matches(labels)).toBe(true);
    expect(compileMapSelector({ app: 'db' }).matches(labels)).toBe(false);
  });
});

describe('node selectors', () => {
  const term = (...matchExpressions: SelectorRequirement[]): NodeSelectorTerm => ({ matchExpressions, matchFields: [] });
  const fields = (...matchFields: SelectorRequirement[]): NodeSelectorTerm => ({ matchExpressions: [], matchFields });

  // Mirrors TestNodeSelectorMatch (k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity_test.go).
  test.each<[string, NodeSelectorTerm, boolean]>([
    ['an empty term selects no node', term(), false],
    ['In', term(req('app', IN, 'web')), true],
    ['Gt', term(req('gen', GT, '5')), true],
    ['Gt at the bound', term(req('gen', GT, '6')), false],
    ['Lt', term(req('gen', LT, '7')), true],
    ['Lt with a negative operand', term(req('gen', LT, '-1')), false],
    ['Gt on a non-integer label', term(req('tier', GT, '1')), false],
    ['Gt on an absent label', term(req('zone', GT, '1')), false],
    ['Gt with a non-integer operand never matches', term(req('gen', GT, 'five')), false],
    ['Gt with an int64 operand', term(req('gen', GT, '-9223372036854775808')), true],
    ['matchFields metadata.name In', fields(req('metadata.name', IN, 'node-1')), true],
    ['matchFields metadata.name In another', fields(req('metadata.name', IN, 'node-2')), false],
    ['matchFields metadata.name NotIn', fields(req('metadata.name', NOT_IN, 'node-2')), true],
    ['matchFields on another field never matches', fields(req('metadata.uid', IN, 'node-1')), false],
    ['expressions and fields are ANDed', { matchExpressions: [req('app', IN, 'web')], matchFields: [req('metadata.name', IN, 'node-2')] }, false],
  ])('%s', (_name, t, expected) => {
    expect(nodeSelectorTermMatches(t, 'node-1', labels)).toBe(expected);
    expect(compileNodeSelectorTerm(t).matches('node-1', labels)).toBe(expected);
  });

  test.each<[string, NodeSelector, boolean]>([
    ['no terms selects no node', { terms: [] }, false],
    ['terms are ORed', { terms: [term(req('app', IN, 'db')), term(req('tier', IN, 'frontend'))] }, true],
    ['no term matches', { terms: [term(req('app', IN, 'db')), term()] }, false],
  ])('%s', (_name, selector, expected) => {
    expect(nodeSelectorMatches(selector, 'node-1', labels)).toBe(expected);
    expect(compileNodeSelector(selector).matches('node-1', labels)).toBe(expected);
  });

  test('required node affinity: nodeSelector AND the required terms', () => {
    const node = { name: 'node-1', labels };
    const affinity = { nodeAffinity: { required: { terms: [term(req('gen', GT, '5'))] }, preferred: [] } };
    const cases: [Parameters<typeof requiredNodeAffinityMatches>[0], boolean][] = [
      [{ nodeSelector: {}, affinity: undefined }, true],
      [{ nodeSelector: { app: 'web' }, affinity: undefined }, true],
      [{ nodeSelector: { app: 'db' }, affinity: undefined }, false],
      [{ nodeSelector: {}, affinity }, true],
      [{ nodeSelector: { app: 'db' }, affinity }, false],
      [{ nodeSelector: { app: 'web' }, affinity: { nodeAffinity: { required: { terms: [] }, preferred: [] } } }, false],
    ];
    for (const [pod, expected] of cases) {
      expect(requiredNodeAffinityMatches(pod, node)).toBe(expected);
      expect(compileRequiredNodeAffinity(pod).matches(node.name, node.labels)).toBe(expected);
    }
  });
});

describe('validation', () => {
  // Mirrors TestValidateNodeSelectorRequirement / TestValidateLabelSelector (pkg/apis/core/validation,
  // staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation).
  test.each<[string, SelectorRequirement, RequirementKind, string | undefined]>([
    ['In with values', req('app', IN, 'a'), 'label', undefined],
    ['In without values', req('app', IN), 'label', 'values'],
    ['NotIn without values', req('app', NOT_IN), 'node', 'values'],
    ['Exists with values', req('app', EXISTS, 'a'), 'label', 'values'],
    ['DoesNotExist with values', req('app', DOES_NOT_EXIST, 'a'), 'node', 'values'],
    ['Exists', req('app', EXISTS), 'label', undefined],
    ['Gt in a label selector', req('gen', GT, '1'), 'label', 'operator'],
    ['Gt with one integer', req('gen', GT, '1'), 'node', undefined],
    ['Lt with two values', req('gen', LT, '1', '2'), 'node', 'values'],
    ['Lt with a non-integer', req('gen', LT, '1.5'), 'node', 'values'],
    ['Gt beyond int64', req('gen', GT, '9223372036854775808'), 'node', 'values'],
    ['unspecified operator', req('app', SelectorOperator.SELECTOR_OPERATOR_UNSPECIFIED), 'label', 'operator'],
    ['empty key', req('', EXISTS), 'label', 'key'],
    ['invalid key', req('-app', EXISTS), 'node', 'key'],
    ['field metadata.name In one', req('metadata.name', IN, 'n'), 'field', undefined],
    ['field In two values', req('metadata.name', IN, 'a', 'b'), 'field', 'values'],
    ['field Exists', req('metadata.name', EXISTS), 'field', 'operator'],
    ['field other key', req('metadata.uid', IN, 'n'), 'field', 'key'],
  ])('%s', (_name, r, kind, field) => {
    expect(requirementProblem(r, kind)?.field).toBe(field);
  });

  test('errors name the field path', () => {
    const bad: NodeSelector = {
      terms: [
        { matchExpressions: [req('a', EXISTS)], matchFields: [] },
        { matchExpressions: [req('a', IN, 'x'), req('b', SelectorOperator.SELECTOR_OPERATOR_UNSPECIFIED)], matchFields: [req('metadata.name', NOT_IN)] },
      ],
    };
    const path = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution';
    const errors = validateNodeSelector(bad, path);
    expect(errors.map((e) => e.field)).toEqual([`${path}.nodeSelectorTerms[1].matchExpressions[1].operator`, `${path}.nodeSelectorTerms[1].matchFields[0].values`]);
    expect(errors[0]).toBeInstanceOf(SelectorError);
    expect(errors[0]?.message).toMatch(/^spec\.affinity\..*\.operator: unsupported value /);
    expect(validateNodeSelector({ terms: [] }, path).map((e) => e.field)).toEqual([`${path}.nodeSelectorTerms`]);
  });

  test('label selector errors', () => {
    expect(validateLabelSelector(sel({ app: 'web' }, req('tier', IN, 'a')), 'x')).toEqual([]);
    expect(validateLabelSelector(sel({ app: 'not valid' }, req('tier', IN)), 'x').map((e) => e.field)).toEqual(['x.matchLabels[app]', 'x.matchExpressions[0].values']);
  });

  test.each<[string, RequirementKind, SelectorOperator | undefined]>([
    ['In', 'label', IN],
    ['Gt', 'label', undefined],
    ['Gt', 'node', GT],
    ['Exists', 'field', undefined],
    ['NotIn', 'field', NOT_IN],
    ['in', 'label', undefined],
    ['Foo', 'node', undefined],
  ])('operator %p in a %s selector', (name, kind, op) => {
    expect(selectorOperatorFromString(name, kind)).toBe(op);
  });

  // Mirrors TestIsQualifiedName / TestIsValidLabelValue (k8s.io/apimachinery/pkg/util/validation).
  test.each<[string, boolean]>([
    ['app', true],
    ['app.kubernetes.io/name', true],
    ['node.kubernetes.io/instance-type', true],
    ['a', true],
    ['1-2_3.4', true],
    ['', false],
    ['-app', false],
    ['app-', false],
    ['/name', false],
    ['Example.com/name', false],
    ['example.com/', false],
    ['a/b/c', false],
    ['x'.repeat(64), false],
    [`${'a'.repeat(254)}/name`, false],
  ])('label key %p valid: %p', (key, valid) => {
    expect(labelKeyProblem(key) === undefined).toBe(valid);
  });

  test.each<[string, boolean]>([
    ['', true],
    ['web', true],
    ['eu-west-1a', true],
    ['a.b_c-d', true],
    ['-web', false],
    ['has space', false],
    ['x'.repeat(64), false],
  ])('label value %p valid: %p', (v, valid) => {
    expect(labelValueProblem(v) === undefined).toBe(valid);
  });

  // Mirrors strconv.ParseInt(s, 10, 64).
  test.each<[string, bigint | undefined]>([
    ['0', 0n],
    ['+5', 5n],
    ['-5', -5n],
    ['9223372036854775807', 9223372036854775807n],
    ['-9223372036854775808', -9223372036854775808n],
    ['9223372036854775808', undefined],
    ['', undefined],
    ['-', undefined],
    ['1.0', undefined],
    ['1e3', undefined],
    [' 1', undefined],
    ['1_000', undefined],
  ])('parseInt64(%p) = %p', (s, v) => {
    expect(parseInt64(s)).toBe(v);
  });
});
