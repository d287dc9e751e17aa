import { expect, test } from '@jest/globals';
import { isDns1123Label, isDns1123Subdomain } from './names.js';

test.each<[string, boolean, boolean]>([
  // value, DNS-1123 label, DNS-1123 subdomain
  ['a', true, true],
  ['team-a', true, true],
  ['0abc', true, true],
  ['worker-1.eu-west-1.compute.internal', false, true],
  ['', false, false],
  ['Team-a', false, false],
  ['-a', false, false],
  ['a-', false, false],
  ['a_b', false, false],
  ['a..b', false, false],
  ['a.-b', false, false],
  ['a'.repeat(63), true, true],
  ['a'.repeat(64), false, true],
  [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, false, true],
  [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, false, false],
])('%j: label %s, subdomain %s', (value, label, subdomain) => {
  expect(isDns1123Label(value)).toBe(label);
  expect(isDns1123Subdomain(value)).toBe(subdomain);
});
