import { expect, test } from '@jest/globals';
import { InvalidArgumentError } from './errors.js';

test.each<[{ field: string; reason: string }, string]>([
  [{ field: 'pod.uid', reason: 'must not be empty' }, 'pod.uid: must not be empty'],
  [{ field: 'requests.scalar["x"]', reason: 'must not be negative, got -1' }, 'requests.scalar["x"]: must not be negative, got -1'],
])('InvalidArgumentError.fromProblem(%j) names the field', (problem, message) => {
  const cause = new Error('why');
  const err = InvalidArgumentError.fromProblem(problem, { cause });
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect(err).toMatchObject({ name: 'InvalidArgumentError', field: problem.field, reason: problem.reason, message, cause });
});
