// The served schedulerNames follow the profiles ConfigMap: a valid version
// replaces them, an invalid one is refused with the field named.
import { describe, expect, test } from '@jest/globals';
import { createLogger } from '@schedmesh/runtime';
import { ServedProfiles } from './served-profiles.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const source = 'ConfigMap schedmesh-system/schedmesh-profiles[config.yaml]';
const doc = (...names: string[]): string => `profiles:\n${names.map((n) => `- schedulerName: ${n}\n`).join('')}`;

describe('ServedProfiles', () => {
  test('serves the start-up names, scored with filterscore\'s default profile unless mapped', () => {
    const p = new ServedProfiles({ initial: ['schedmesh', 'other'], filterscoreProfiles: { other: 'fs-other' }, logger });
    expect(p.list).toEqual(['schedmesh', 'other']);
    expect(p.defaultProfile).toBe('schedmesh');
    expect(p.filterscoreProfile('schedmesh')).toBe('');
    expect(p.filterscoreProfile('other')).toBe('fs-other');
  });

  test.each([
    { name: 'a profile added', text: doc('schedmesh', 'schedmesh-packed'), list: ['schedmesh', 'schedmesh-packed'], added: ['schedmesh-packed'], removed: [] },
    { name: 'a profile replaced', text: doc('schedmesh-packed'), list: ['schedmesh-packed'], added: ['schedmesh-packed'], removed: ['schedmesh'] },
  ])('applies $name', ({ text, list, added, removed }) => {
    const p = new ServedProfiles({ initial: ['schedmesh'], filterscoreProfiles: { mapped: 'x' }, logger });
    expect(p.apply(text, source)).toEqual({ result: 'applied', added, removed });
    expect(p.list).toEqual(list);
    // From the ConfigMap: the filterscore profile of the same name (filterscore follows the same ConfigMap).
    for (const name of list) expect(p.filterscoreProfile(name)).toBe(name);
    expect(p.has('schedmesh')).toBe(list.includes('schedmesh'));
  });

  test.each([
    { name: 'an unknown plugin', text: 'profiles:\n- schedulerName: a\n  plugins:\n    filter:\n      enabled: [{name: Nope}]\n', field: 'profiles[0].plugins.filter.enabled[0].name' },
    { name: 'a bad weight', text: 'profiles:\n- schedulerName: a\n  plugins:\n    score:\n      enabled: [{name: NodeResourcesFit, weight: -1}]\n', field: 'profiles[0].plugins.score.enabled[0].weight' },
    { name: 'no profiles', text: 'profiles: []\n', field: 'profiles' },
    { name: 'broken YAML', text: 'profiles: [', field: '(root)' },
    { name: 'kube-scheduler\'s name (an unnamed profile)', text: 'profiles:\n- schedulerName: a\n- plugins: {}\n', field: 'profiles[1].schedulerName' },
  ])('refuses $name, naming $field, and keeps the names in force', ({ text, field }) => {
    const p = new ServedProfiles({ initial: ['schedmesh'], filterscoreProfiles: {}, logger });
    const outcome = p.apply(text, source);
    expect(outcome.result).toBe('rejected');
    expect(outcome.result === 'rejected' && outcome.issues.some((i) => i.startsWith(`${field}:`))).toBe(true);
    expect(p.list).toEqual(['schedmesh']);
    expect(p.filterscoreProfile('schedmesh')).toBe('');
  });
});
