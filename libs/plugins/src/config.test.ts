// The profile configuration (@schedmesh/scheduling) resolved against the in-tree registry: upstream's
// default plugins and weights, kube-scheduler's merging, and every invalid field named. It lives here,
// not beside config.ts, because the runner's package never depends on the plugins.
import { describe, expect, test } from '@jest/globals';
import { definePlugin } from '@schedmesh/framework';
import { DuplicatePluginError, Registry, resolveProfiles, SchedulerConfigError } from '@schedmesh/scheduling';
import type { ResolvedSchedulerConfig } from '@schedmesh/scheduling';
import { inTreeRegistry } from './registry.js';

const names = (config: ResolvedSchedulerConfig, point: keyof ResolvedSchedulerConfig['profiles'][number]['points'], profile = 0) =>
  config.profiles[profile]?.points[point].map((p) => (point === 'score' ? `${p.name}:${p.weight}` : p.name));

function issues(raw: unknown): string[] {
  try {
    resolveProfiles(raw, inTreeRegistry());
  } catch (err) {
    if (err instanceof SchedulerConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('default profile', () => {
  const config = resolveProfiles(undefined, inTreeRegistry());

  test('upstream default plugins and weights, expanded from multiPoint', () => {
    expect(config.profiles.map((p) => p.schedulerName)).toEqual(['default-scheduler']);
    expect(names(config, 'queueSort')).toEqual(['PrioritySort']);
    expect(names(config, 'preFilter')).toEqual(['NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity']);
    expect(names(config, 'filter')).toEqual(['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity']);
    expect(names(config, 'postFilter')).toEqual(['DefaultPreemption']);
    expect(names(config, 'score')).toEqual([
      'TaintToleration:3',
      'NodeAffinity:2',
      'NodeResourcesFit:1',
      'PodTopologySpread:2',
      'InterPodAffinity:2',
      'NodeResourcesBalancedAllocation:1',
      'ImageLocality:1',
      'TopologyAware:1',
    ]);
    expect(config.percentageOfNodesToScore).toBe(0);
  });
});

describe('merging as kube-scheduler does', () => {
  test('re-enabling a default plugin at a point overrides its weight in place', () => {
    const config = resolveProfiles({ profiles: [{ plugins: { score: { enabled: [{ name: 'NodeResourcesFit', weight: 5 }] } } }] }, inTreeRegistry());
    expect(names(config, 'score')?.slice(0, 3)).toEqual(['NodeResourcesFit:5', 'TaintToleration:3', 'NodeAffinity:2']);
  });

  test('disabling one default and all defaults of a point', () => {
    const config = resolveProfiles(
      {
        profiles: [
          { schedulerName: 'a', plugins: { score: { disabled: [{ name: 'ImageLocality' }] } } },
          { schedulerName: 'b', plugins: { score: { disabled: [{ name: '*' }], enabled: [{ name: 'NodeResourcesFit', weight: 1 }] } } },
        ],
      },
      inTreeRegistry(),
    );
    expect(names(config, 'score', 0)).not.toContain('ImageLocality:1');
    expect(names(config, 'score', 1)).toEqual(['NodeResourcesFit:1']);
    expect(names(config, 'filter', 1)).toContain('NodeResourcesFit');
  });

  test('multiPoint: disabled "*" and a custom set, percentage per profile', () => {
    const config = resolveProfiles(
      { percentageOfNodesToScore: 30, profiles: [{ schedulerName: 'lean', percentageOfNodesToScore: 70, plugins: { multiPoint: { disabled: [{ name: '*' }], enabled: [{ name: 'PrioritySort' }, { name: 'TaintToleration', weight: 7 }] } } }] },
      inTreeRegistry(),
    );
    expect(names(config, 'filter')).toEqual(['TaintToleration']);
    expect(names(config, 'score')).toEqual(['TaintToleration:7']);
    expect(config.profiles[0]?.percentageOfNodesToScore).toBe(70);
  });
});

describe('invalid configuration names every bad field', () => {
  test.each<[string, unknown, string[]]>([
    ['unknown plugin', { profiles: [{ plugins: { score: { enabled: [{ name: 'Magic', weight: 1 }] } } }] }, ['profiles[0].plugins.score.enabled[0].name: unknown plugin "Magic"']],
    ['negative weight', { profiles: [{ plugins: { score: { enabled: [{ name: 'ImageLocality', weight: -1 }] } } }] }, ['profiles[0].plugins.score.enabled[0].weight: must not be negative, got -1']],
    ['a point the plugin does not implement', { profiles: [{ plugins: { filter: { enabled: [{ name: 'ImageLocality' }] } } }] }, ['profiles[0].plugins.filter.enabled[0].name: plugin ImageLocality does not implement the filter extension point']],
    ['bad args', { profiles: [{ pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'Best' } } }] }] }, ['profiles[0].pluginConfig[0].args.scoringStrategy.type: ']],
    ['args of an unknown plugin', { profiles: [{ pluginConfig: [{ name: 'Nope', args: {} }] }] }, ['profiles[0].pluginConfig[0].name: unknown plugin "Nope"']],
    ['duplicate profile names', { profiles: [{ schedulerName: 'x' }, { schedulerName: 'x' }] }, ['profiles[1].schedulerName: duplicate scheduler name "x"']],
    ['unknown top-level key', { profile: [] }, ['(root): Unrecognized key: "profile"']],
    ['percentage out of range', { percentageOfNodesToScore: 120 }, ['percentageOfNodesToScore: ']],
    ['no queueSort', { profiles: [{ plugins: { queueSort: { disabled: [{ name: '*' }] } } }] }, ['profiles[0].plugins.queueSort: exactly one queueSort plugin must be enabled, got 0']],
  ])('%s', (_name, raw, want) => {
    const got = issues(raw);
    for (const w of want) expect(got.some((g) => g.startsWith(w))).toBe(true);
  });

  test('every problem at once', () => {
    const got = issues({
      profiles: [
        {
          plugins: { score: { enabled: [{ name: 'Magic' }, { name: 'ImageLocality', weight: -2 }] } },
          pluginConfig: [{ name: 'TopologyAware', args: { zoneWeight: 'heavy' } }],
        },
      ],
    });
    expect(got).toHaveLength(3);
  });
});

describe('registry', () => {
  test('refuses duplicate names', () => {
    const p = definePlugin({ name: 'X', points: ['filter'], create: () => ({ name: 'X' }) });
    expect(() => new Registry([p, p])).toThrow(DuplicatePluginError);
    expect(() => inTreeRegistry().register(p).register(p)).toThrow('a plugin named "X" is already registered');
  });

  test('a plugin without args refuses args', () => {
    expect(inTreeRegistry().get('NodeName')?.validateArgs({ x: 1 })).toEqual([{ path: [], message: 'plugin NodeName takes no args' }]);
  });
});
