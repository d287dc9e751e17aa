import { expect, test } from '@jest/globals';
import { SelectorOperator } from '@schedmesh/proto/v1/types';
import { EdgeError } from './edge.js';
import type { WorkloadKind } from './edge.js';
import { convertWorkloadSelector } from './workload.js';

const object = (spec: unknown, metadata: Record<string, unknown> = {}) => ({ metadata: { name: 'web', namespace: 'shop', resourceVersion: '7', ...metadata }, spec });

test.each<[WorkloadKind, unknown]>([
  ['Service', { selector: { app: 'web' }, ports: [{ port: 80 }] }],
  ['ReplicationController', { selector: { app: 'web' }, replicas: 3 }],
  ['ReplicaSet', { selector: { matchLabels: { app: 'web' } }, replicas: 3 }],
  ['StatefulSet', { selector: { matchLabels: { app: 'web' } }, serviceName: 'web' }],
])('a %s keeps its identity and its selector only', (kind, spec) => {
  expect(convertWorkloadSelector(kind, object(spec))).toEqual({ name: 'web', namespace: 'shop', resourceVersion: '7', selector: { matchLabels: { app: 'web' }, matchExpressions: [] } });
});

test('a ReplicaSet keeps its match expressions', () => {
  const rs = object({ selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] } });
  expect(convertWorkloadSelector('ReplicaSet', rs).selector?.matchExpressions).toEqual([{ key: 'tier', operator: SelectorOperator.SELECTOR_OPERATOR_IN, values: ['front'] }]);
});

test.each<[WorkloadKind, unknown]>([
  ['Service', { type: 'ExternalName', externalName: 'db.example.com' }],
  ['Service', { selector: {} }],
  ['ReplicaSet', { selector: {} }],
  ['StatefulSet', undefined],
])('a %s without a selector (%j) carries none', (kind, spec) => {
  expect(convertWorkloadSelector(kind, object(spec)).selector).toBeUndefined();
});

test.each<[string, WorkloadKind, unknown, string]>([
  ['no name', 'Service', object({ selector: { app: 'web' } }, { name: undefined }), 'metadata.name'],
  ['a selector value that is no string', 'Service', object({ selector: { app: 3 } }), 'spec.selector[app]'],
  ['a selector that is no map', 'ReplicationController', object({ selector: ['app'] }), 'spec.selector'],
  ['a selector operator that does not exist', 'ReplicaSet', object({ selector: { matchExpressions: [{ key: 'app', operator: 'Near', values: ['x'] }] } }), 'spec.selector.matchExpressions[0].operator'],
  ['a selector label key that is invalid', 'StatefulSet', object({ selector: { matchLabels: { 'bad key': 'x' } } }), 'spec.selector.matchLabels[bad key]'],
])('%s is an EdgeError naming the kind and the field', (_name, kind, obj, field) => {
  let err: unknown;
  try {
    convertWorkloadSelector(kind, obj);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EdgeError);
  expect(err).toMatchObject({ kind, object: field === 'metadata.name' ? 'shop/' : 'shop/web', field });
});
