import { expect, test } from '@jest/globals';
import { groupKey, objectKey, podKey, splitObjectKey } from './keys.js';

test.each<[string, string, string]>([
  ['shop', 'web-0', 'shop/web-0'],
  ['', 'worker-1', 'worker-1'],
  ['kube-system', 'plugins', 'kube-system/plugins'],
])('objectKey(%j, %j) = %j, and splitObjectKey undoes it', (namespace, name, key) => {
  expect(objectKey(namespace, name)).toBe(key);
  expect(splitObjectKey(key)).toEqual({ namespace, name });
});

test.each<[{ namespace: string; name: string }, string]>([
  [{ namespace: 'shop', name: 'web-0' }, 'shop/web-0'],
  // A pod is always namespaced: a reference without a namespace keeps its slash.
  [{ namespace: '', name: 'web-0' }, '/web-0'],
])('podKey(%j) = %j', (ref, key) => {
  expect(podKey(ref)).toBe(key);
});

test.each<[string, string | undefined, string]>([
  ['ml', 'train', 'ml/train'],
  ['ml', '', ''],
  ['ml', undefined, ''],
])('groupKey(%j, %j) = %j', (namespace, group, key) => {
  expect(groupKey(namespace, group)).toBe(key);
});

test('splitObjectKey splits at the first slash only', () => {
  expect(splitObjectKey('ns/a/b')).toEqual({ namespace: 'ns', name: 'a/b' });
});
