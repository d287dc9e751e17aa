// Profile versions as a ConfigMap carries them: a valid one replaces the
// engine's profiles, an invalid one is refused with the field named and the
// profiles in force stay.
import { describe, expect, test } from '@jest/globals';
import { inTreeRegistry } from '@schedmesh/plugins';
import { createLogger } from '@schedmesh/runtime';
import { FilterScoreEngine } from './engine.js';
import { ProfileReloader } from './profile-reload.js';
import type { ProfileReloadResult } from './profile-reload.js';
import { loadProfiles } from './profiles.js';
import { SnapshotReplica } from './replica.js';

const registry = inTreeRegistry();
const source = 'ConfigMap schedmesh-system/schedmesh-profiles[config.yaml]';

const packed = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: schedmesh
- schedulerName: schedmesh-packed
  plugins:
    score:
      disabled: [{name: "*"}]
      enabled: [{name: NodeResourcesFit, weight: 1}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
`;

function setup(): { engine: FilterScoreEngine; reloader: ProfileReloader; results: string[] } {
  const engine = new FilterScoreEngine({ config: loadProfiles(undefined, registry), registry, replica: new SnapshotReplica({ maxWaitMs: 1_000 }), defaultMaxCandidates: 10 });
  const results: string[] = [];
  const reloader = new ProfileReloader({ target: engine, registry, logger: createLogger({ service: 'test', level: 'silent' }), onResult: (r) => results.push(r) });
  return { engine, reloader, results };
}

describe('ProfileReloader', () => {
  test.each([
    { name: 'two profiles, one packing', text: packed, profiles: ['schedmesh', 'schedmesh-packed'] },
    { name: 'an empty document is the default profile', text: '', profiles: ['default-scheduler'] },
    { name: 'the profile list only', text: 'profiles:\n- schedulerName: a\n- schedulerName: b\n', profiles: ['a', 'b'] },
  ])('applies a valid version: $name', ({ text, profiles }) => {
    const { engine, reloader, results } = setup();
    expect(reloader.apply({ text, resourceVersion: '1', source })).toEqual({ result: 'applied', profiles });
    expect(engine.profiles).toEqual(profiles);
    expect(engine.framework(profiles[0]!)).toBe(engine.framework(''));
    expect(results).toEqual(['applied']);
  });

  test.each([
    { name: 'an unknown plugin', text: 'profiles:\n- schedulerName: x\n  plugins:\n    score:\n      enabled: [{name: NoSuchPlugin}]\n', field: 'profiles[0].plugins.score.enabled[0].name' },
    { name: 'a negative weight', text: 'profiles:\n- schedulerName: x\n  plugins:\n    score:\n      enabled: [{name: NodeResourcesFit, weight: -2}]\n', field: 'profiles[0].plugins.score.enabled[0].weight' },
    { name: 'a weight that is not an integer', text: 'profiles:\n- schedulerName: x\n  plugins:\n    score:\n      enabled: [{name: NodeResourcesFit, weight: 1.5}]\n', field: 'profiles[0].plugins.score.enabled[0].weight' },
    { name: 'bad plugin args', text: 'profiles:\n- schedulerName: x\n  pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: Tightest}}\n', field: 'profiles[0].pluginConfig[0].args.scoringStrategy.type' },
    { name: 'a duplicate schedulerName', text: 'profiles:\n- schedulerName: x\n- schedulerName: x\n', field: 'profiles[1].schedulerName' },
    { name: 'an unknown field', text: 'profiles:\n- schedulerName: x\n  plugin: {}\n', field: 'profiles[0]' },
    { name: 'YAML that does not parse', text: 'profiles: [\n', field: '(root)' },
  ])('refuses $name, naming $field, and keeps the profiles in force', ({ text, field }) => {
    const { engine, reloader, results } = setup();
    reloader.apply({ text: packed, resourceVersion: '1', source });
    const outcome = reloader.apply({ text, resourceVersion: '2', source }) as Extract<ProfileReloadResult, { result: 'rejected' }>;
    expect(outcome.result).toBe('rejected');
    expect(outcome.issues.some((i) => i.startsWith(`${field}:`) || i.startsWith(`${field} `))).toBe(true);
    expect(outcome.issues.every((i) => i.endsWith(`(in ${source})`))).toBe(true);
    expect(engine.profiles).toEqual(['schedmesh', 'schedmesh-packed']);
    expect(results).toEqual(['applied', 'rejected']);
  });

  test('a cycle that took its framework before a reload keeps it; the next one gets the new one', () => {
    const { engine, reloader } = setup();
    reloader.apply({ text: packed, resourceVersion: '1', source });
    const before = engine.framework('schedmesh');
    reloader.apply({ text: packed, resourceVersion: '2', source });
    const after = engine.framework('schedmesh');
    expect(after).not.toBe(before);
    expect(before.profileName).toBe('schedmesh');
  });
});
