import { expect, test } from '@jest/globals';
import { convertConfigMap } from './configmap.js';
import { EdgeError } from './edge.js';

const configMap = (fields: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'schedmesh-plugins', namespace: 'schedmesh-system', resourceVersion: '7', ...metadata },
  data: { 'plugins.yaml': 'plugins: []\n' },
  ...fields,
});

test('a config map keeps its identity and its data', () => {
  expect(convertConfigMap(configMap())).toEqual({ name: 'schedmesh-plugins', namespace: 'schedmesh-system', resourceVersion: '7', data: { 'plugins.yaml': 'plugins: []\n' } });
});

test('no data is empty data; binaryData is not read', () => {
  expect(convertConfigMap(configMap({ data: undefined, binaryData: { blob: 'AAEC' } })).data).toEqual({});
});

test.each<[string, unknown, string, string]>([
  ['not an object', [], '', ''],
  ['no metadata', { data: {} }, 'metadata', ''],
  ['no name', configMap({}, { name: undefined }), 'metadata.name', 'schedmesh-system/'],
  ['a namespace that is no string', configMap({}, { namespace: 1 }), 'metadata.namespace', 'schedmesh-plugins'],
  ['data that is no object', configMap({ data: 'plugins: []' }), 'data', 'schedmesh-system/schedmesh-plugins'],
  ['a data value that is no string', configMap({ data: { 'plugins.yaml': 'x', replicas: 3 } }), 'data[replicas]', 'schedmesh-system/schedmesh-plugins'],
])('%s is an EdgeError naming the field', (_name, obj, field, object) => {
  let err: unknown;
  try {
    convertConfigMap(obj);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EdgeError);
  expect(err).toMatchObject({ kind: 'ConfigMap', field, object });
});
