import { expect, test } from '@jest/globals';
import { compareResourceVersions } from './resource-version.js';

test.each([
  ['9', '10', -1],
  ['10', '9', 1],
  ['12345', '12345', 0],
  ['123456789012345678901', '123456789012345678902', -1],
  ['0', '1', -1],
  ['', '5', undefined],
  ['5', 'abc', undefined],
  ['05', '6', undefined],
  ['-1', '6', undefined],
])('compareResourceVersions(%j, %j) = %j', (a, b, order) => {
  expect(compareResourceVersions(a, b)).toBe(order);
});
