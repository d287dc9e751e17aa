import { expect, test } from '@jest/globals';
import { EdgeError } from './edge.js';
import { convertAdmissionPolicy } from './policy.js';

const policy = (fields: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'schedmesh.io/v1alpha1',
  kind: 'AdmissionPolicy',
  metadata: { name: 'tenants', namespace: 'team-a', resourceVersion: '42', generation: 3, ...metadata },
  spec: { targetNamespaces: { names: ['team-a'] }, hibernation: { apps: ['batch'] } },
  ...fields,
});

test('a policy keeps its identity and its spec as the JSON served', () => {
  expect(convertAdmissionPolicy(policy())).toEqual({
    name: 'tenants',
    namespace: 'team-a',
    resourceVersion: '42',
    generation: 3,
    specJson: '{"targetNamespaces":{"names":["team-a"]},"hibernation":{"apps":["batch"]}}',
  });
});

test('a cluster-scoped policy without a spec: namespace "", spec "{}", generation 0', () => {
  expect(convertAdmissionPolicy({ metadata: { name: 'global' } })).toEqual({ name: 'global', namespace: '', resourceVersion: '', generation: 0, specJson: '{}' });
});

test('the spec is passed on unchecked: its schema belongs to the admission service', () => {
  expect(convertAdmissionPolicy(policy({ spec: { unknownField: [1, 'x'] } })).specJson).toBe('{"unknownField":[1,"x"]}');
});

test.each<[string, unknown, string, string]>([
  ['not an object', 'tenants', '', ''],
  ['null', null, '', ''],
  ['no metadata', { spec: {} }, 'metadata', ''],
  ['no name', policy({}, { name: undefined }), 'metadata.name', 'team-a/'],
  ['an empty name', policy({}, { name: '' }), 'metadata.name', 'team-a/'],
  ['a name that is no string', policy({}, { name: 7 }), 'metadata.name', 'team-a/'],
  ['a namespace that is no string', policy({}, { namespace: ['a'] }), 'metadata.namespace', 'tenants'],
  ['a negative generation', policy({}, { generation: -1 }), 'metadata.generation', 'team-a/tenants'],
  ['a generation that is no integer', policy({}, { generation: '3' }), 'metadata.generation', 'team-a/tenants'],
  ['a resource version that is no string', policy({}, { resourceVersion: 42 }), 'metadata.resourceVersion', 'team-a/tenants'],
])('%s is an EdgeError naming the field', (_name, obj, field, object) => {
  let err: unknown;
  try {
    convertAdmissionPolicy(obj);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EdgeError);
  expect(err).toMatchObject({ kind: 'AdmissionPolicy', field, object });
});
