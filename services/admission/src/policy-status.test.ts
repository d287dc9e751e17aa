import { describe, expect, test } from '@jest/globals';
import { namespaceEvent, policyEvent } from '@schedmesh/testkit';
import { acceptedCondition } from './policy-status.js';
import { PolicyStore } from './policy-store.js';

// What the status writer reports for each kind of store change, from a real store.
describe('acceptedCondition', () => {
  const valid = { hostPath: { platform: [{ path: '/var/log' }] } };
  const invalid = { hostPath: { platform: [{ path: '/' }] }, bogus: true };

  test('an applied version is Accepted at its generation', () => {
    const store = new PolicyStore();
    expect(acceptedCondition(store.apply({ ...policyEvent('paths', valid, { generation: 4 }), generation: 1 }))).toEqual({
      name: 'paths',
      condition: { status: 'True', reason: 'Accepted', message: 'generation 4 is in force', observedGeneration: 4 },
    });
  });

  test('a refused version is Invalid: its first issue, how many more, and what stays in force', () => {
    const store = new PolicyStore();
    store.apply({ ...policyEvent('paths', valid, { generation: 4 }), generation: 1 });
    expect(acceptedCondition(store.apply({ ...policyEvent('paths', invalid, { generation: 5 }), generation: 2 }))).toEqual({
      name: 'paths',
      condition: {
        status: 'False',
        reason: 'Invalid',
        message: 'spec.hostPath.platform[0].path: "/" would allow the whole host file system; name a directory (and 1 more); generation 4 stays in force',
        observedGeneration: 5,
      },
    });
  });

  test('a refused first version says the policy is not in force', () => {
    const change = new PolicyStore().apply({ ...policyEvent('fresh', invalid, { generation: 1 }), generation: 1 });
    expect(acceptedCondition(change)?.condition.message).toMatch(/; no valid generation is known, so the policy is not in force$/);
  });

  test('deletions and other objects report nothing', () => {
    const store = new PolicyStore();
    expect(acceptedCondition(store.apply({ ...policyEvent('paths', {}, { type: 'delete' }), generation: 1 }))).toBeUndefined();
    expect(acceptedCondition(store.apply({ ...namespaceEvent('team-a', {}), generation: 2 }))).toBeUndefined();
  });
});
