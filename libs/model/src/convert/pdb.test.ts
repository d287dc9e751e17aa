import { expect, test } from '@jest/globals';
import { EdgeError } from './edge.js';
import { convertPodDisruptionBudget } from './pdb.js';

const pdb = (fields: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'web', namespace: 'shop', resourceVersion: '12', ...metadata },
  spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
  status: { disruptionsAllowed: 1, disruptedPods: { 'web-0': '2026-01-01T00:00:00Z' }, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
  ...fields,
});

test('a budget keeps its identity, selector, allowed disruptions and the names of its disrupted pods', () => {
  expect(convertPodDisruptionBudget(pdb())).toEqual({
    name: 'web',
    namespace: 'shop',
    resourceVersion: '12',
    selector: { matchLabels: { app: 'web' }, matchExpressions: [] },
    disruptionsAllowed: 1,
    disruptedPods: ['web-0'],
  });
});

test('a budget without a selector or a status selects nothing and allows no disruption', () => {
  const out = convertPodDisruptionBudget(pdb({ spec: { maxUnavailable: 1 }, status: undefined }));
  expect(out.selector).toBeUndefined();
  expect(out.disruptionsAllowed).toBe(0);
  expect(out.disruptedPods).toEqual([]);
});

test.each<[string, unknown, string]>([
  ['no name', pdb({}, { name: undefined }), 'metadata.name'],
  ['a selector operator that does not exist', pdb({ spec: { selector: { matchExpressions: [{ key: 'app', operator: 'Near', values: ['x'] }] } } }), 'spec.selector.matchExpressions[0].operator'],
  ['a negative disruption count', pdb({ status: { disruptionsAllowed: -1 } }), 'status.disruptionsAllowed'],
  ['disrupted pods that are no map', pdb({ status: { disruptionsAllowed: 0, disruptedPods: ['web-0'] } }), 'status.disruptedPods'],
])('%s is an EdgeError naming the field', (_name, obj, field) => {
  let err: unknown;
  try {
    convertPodDisruptionBudget(obj);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EdgeError);
  expect(err).toMatchObject({ kind: 'PodDisruptionBudget', field });
});
