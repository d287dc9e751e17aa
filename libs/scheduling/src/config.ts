/**
 * The scheduler configuration, in the shape of KubeSchedulerConfiguration
 * (kubescheduler.config.k8s.io/v1): profiles[].schedulerName,
 * plugins.<point>.enabled/disabled (with weights for score), pluginConfig[].args,
 * percentageOfNodesToScore. Validated with zod, then resolved against the
 * registry the way upstream merges defaults (mergePluginSet) and expands
 * multiPoint. Every problem is reported with its field path; nothing is
 * silently ignored.
 */
import { z } from 'zod';
import { EXTENSION_POINTS, PluginNames } from '@schedmesh/framework';
import type { ExtensionPoint } from '@schedmesh/framework';
import type { Registry } from './registry.js';

/** The schedulerName of the default profile. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

const pluginRef = z
  .object({
    /** The plugin name; in `disabled`, "*" disables every default plugin of the point. */
    name: z.string().min(1),
    /** Score weight (score and multiPoint only); 0 or absent means the plugin's default. */
    weight: z.number().int().optional(),
  })
  .strict();

const pluginSet = z
  .object({
    enabled: z.array(pluginRef).default([]),
    disabled: z.array(pluginRef).default([]),
  })
  .strict();

/** A plugin set as written. */
export type PluginSetConfig = z.output<typeof pluginSet>;

const pluginsShape = Object.fromEntries([['multiPoint', pluginSet.optional()], ...EXTENSION_POINTS.map((p) => [p, pluginSet.optional()])]) as Record<
  'multiPoint' | ExtensionPoint,
  z.ZodOptional<typeof pluginSet>
>;

const percentage = z.number().int().min(0).max(100);

const profileSchema = z
  .object({
    schedulerName: z.string().min(1).default(DEFAULT_SCHEDULER_NAME),
    /** Overrides the top-level percentageOfNodesToScore for this profile. */
    percentageOfNodesToScore: percentage.optional(),
    plugins: z.object(pluginsShape).strict().optional(),
    pluginConfig: z.array(z.object({ name: z.string().min(1), args: z.unknown().optional() }).strict()).default([]),
  })
  .strict();

/** The configuration file's schema (unknown keys are errors). */
export const schedulerConfigSchema = z
  .object({
    apiVersion: z.enum(['kubescheduler.config.k8s.io/v1', 'schedmesh.io/v1alpha1']).optional(),
    kind: z.literal('KubeSchedulerConfiguration').optional(),
    /** Percentage of nodes to find feasible before scoring; 0 = adaptive (50 - nodes/125, at least 5). */
    percentageOfNodesToScore: percentage.default(0),
    profiles: z.array(profileSchema).min(1).default([{ schedulerName: DEFAULT_SCHEDULER_NAME, pluginConfig: [] }]),
  })
  .strict();

/** The configuration as written, defaults applied. */
export type SchedulerConfigInput = z.input<typeof schedulerConfigSchema>;

/** One enabled plugin at one point. */
export interface ResolvedPlugin {
  readonly name: string;
  /** Score weight (1 when unset); meaningful at the score point only. */
  readonly weight: number;
}

/** A profile ready to instantiate. */
export interface ResolvedProfile {
  readonly schedulerName: string;
  /** The profile's percentage, or the top-level one. */
  readonly percentageOfNodesToScore: number;
  /** The enabled plugins of each point, in order. */
  readonly points: Readonly<Record<ExtensionPoint, readonly ResolvedPlugin[]>>;
  /** Raw args by plugin name (validated; each factory parses its own). */
  readonly pluginArgs: ReadonlyMap<string, unknown>;
}

/** The resolved configuration. */
export interface ResolvedSchedulerConfig {
  readonly percentageOfNodesToScore: number;
  readonly profiles: readonly ResolvedProfile[];
}

/** One problem of the configuration. */
export interface ConfigIssue {
  /** The field path, e.g. `profiles[0].plugins.score.enabled[1].weight`. */
  readonly path: string;
  readonly message: string;
}

/** The configuration is invalid; `issues` names every bad field. */
export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid scheduler configuration:\n  - ${issues.map((i) => `${i.path}: ${i.message}`).join('\n  - ')}`);
  }
}

/** Renders a zod-style path as `a.b[0].c`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * The default plugins, as upstream's default multiPoint set (with its score
 * weights) restricted to the plugins schedmesh implements, plus TopologyAware
 * (which skips pods without a zone/rack preference).
 */
export const DEFAULT_MULTI_POINT: readonly ResolvedPlugin[] = Object.freeze([
  { name: PluginNames.PrioritySort, weight: 0 },
  { name: PluginNames.NodeUnschedulable, weight: 0 },
  { name: PluginNames.NodeName, weight: 0 },
  { name: PluginNames.TaintToleration, weight: 3 },
  { name: PluginNames.NodeAffinity, weight: 2 },
  { name: PluginNames.NodePorts, weight: 0 },
  { name: PluginNames.NodeResourcesFit, weight: 1 },
  { name: PluginNames.PodTopologySpread, weight: 2 },
  { name: PluginNames.InterPodAffinity, weight: 2 },
  { name: PluginNames.DefaultPreemption, weight: 0 },
  { name: PluginNames.NodeResourcesBalancedAllocation, weight: 1 },
  { name: PluginNames.ImageLocality, weight: 1 },
  { name: PluginNames.TopologyAware, weight: 1 },
]);

interface PluginEntry {
  readonly name: string;
  readonly weight: number | undefined;
}

interface MergedSet {
  readonly enabled: readonly PluginEntry[];
  readonly disabled: ReadonlySet<string>;
}

// Upstream mergePluginSet: defaults minus the disabled ones, a re-enabled
// default replaced in place (keeping its position), then the custom ones.
function mergePluginSet(defaults: readonly PluginEntry[], custom: PluginSetConfig | undefined): MergedSet {
  const disabled = new Set((custom?.disabled ?? []).map((p) => p.name));
  const customEnabled = custom?.enabled ?? [];
  const byName = new Map<string, number>();
  customEnabled.forEach((p, i) => byName.set(p.name, i));
  const replaced = new Set<number>();
  const enabled: PluginEntry[] = [];
  if (!disabled.has('*')) {
    for (const d of defaults) {
      if (disabled.has(d.name)) continue;
      const i = byName.get(d.name);
      if (i !== undefined) {
        const c = customEnabled[i];
        replaced.add(i);
        enabled.push({ name: d.name, weight: c?.weight });
      } else enabled.push(d);
    }
  }
  customEnabled.forEach((p, i) => {
    if (!replaced.has(i)) enabled.push({ name: p.name, weight: p.weight });
  });
  return { enabled, disabled };
}

/**
 * Validates raw configuration (as parsed from YAML) and resolves every
 * profile's plugins against the registry. (Named apart from the test kit's
 * resolveSchedulerConfig, which writes a configuration for the real
 * kube-scheduler binary.)
 *
 * @throws SchedulerConfigError naming every bad field.
 */
export function resolveProfiles(raw: unknown, registry: Registry): ResolvedSchedulerConfig {
  const parsed = schedulerConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new SchedulerConfigError(parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  }
  const config = parsed.data;
  const issues: ConfigIssue[] = [];
  const profiles: ResolvedProfile[] = [];
  const names = new Map<string, number>();
  let queueSortName: string | undefined;

  config.profiles.forEach((profile, pi) => {
    const at = `profiles[${pi}]`;
    const seen = names.get(profile.schedulerName);
    if (seen !== undefined) issues.push({ path: `${at}.schedulerName`, message: `duplicate scheduler name ${JSON.stringify(profile.schedulerName)} (also profiles[${seen}])` });
    else names.set(profile.schedulerName, pi);

    const plugins = profile.plugins ?? {};
    // Unknown names, negative weights, points a plugin does not implement.
    for (const key of ['multiPoint', ...EXTENSION_POINTS] as const) {
      const set = plugins[key];
      if (set === undefined) continue;
      for (const list of ['enabled', 'disabled'] as const) {
        const listed = new Set<string>();
        set[list].forEach((ref, ri) => {
          const path = `${at}.plugins.${key}.${list}[${ri}]`;
          if (listed.has(ref.name)) issues.push({ path: `${path}.name`, message: `plugin ${ref.name} is listed twice` });
          listed.add(ref.name);
          if (ref.name === '*' && list === 'disabled') return;
          const factory = registry.get(ref.name);
          if (factory === undefined) {
            issues.push({ path: `${path}.name`, message: `unknown plugin ${JSON.stringify(ref.name)}; registered: ${registry.names().join(', ')}` });
            return;
          }
          if (ref.weight !== undefined && ref.weight < 0) issues.push({ path: `${path}.weight`, message: `must not be negative, got ${ref.weight}` });
          if (list === 'enabled' && key !== 'multiPoint' && !factory.points.includes(key)) {
            issues.push({ path: `${path}.name`, message: `plugin ${ref.name} does not implement the ${key} extension point (it implements ${factory.points.join(', ')})` });
          }
        });
      }
    }

    const multi = mergePluginSet(
      DEFAULT_MULTI_POINT.map((p) => ({ name: p.name, weight: p.weight })),
      plugins.multiPoint,
    );
    const points = {} as Record<ExtensionPoint, ResolvedPlugin[]>;
    for (const point of EXTENSION_POINTS) {
      const explicit = mergePluginSet([], plugins[point]);
      points[point] = expandPoint(point, explicit, multi, registry);
    }

    const queueSort = points.queueSort;
    if (queueSort.length !== 1) {
      issues.push({ path: `${at}.plugins.queueSort`, message: `exactly one queueSort plugin must be enabled, got ${queueSort.length}` });
    } else if (queueSortName === undefined) {
      queueSortName = queueSort[0]?.name;
    } else if (queueSort[0]?.name !== queueSortName) {
      issues.push({ path: `${at}.plugins.queueSort`, message: `every profile must use the same queueSort plugin (${queueSortName})` });
    }

    const pluginArgs = new Map<string, unknown>();
    profile.pluginConfig.forEach((pc, ci) => {
      const path = `${at}.pluginConfig[${ci}]`;
      const factory = registry.get(pc.name);
      if (factory === undefined) {
        issues.push({ path: `${path}.name`, message: `unknown plugin ${JSON.stringify(pc.name)}` });
        return;
      }
      if (pluginArgs.has(pc.name)) {
        issues.push({ path: `${path}.name`, message: `duplicate pluginConfig for ${pc.name}` });
        return;
      }
      for (const issue of factory.validateArgs(pc.args)) issues.push({ path: formatPath(issue.path, `${path}.args`), message: issue.message });
      pluginArgs.set(pc.name, pc.args);
    });

    profiles.push({
      schedulerName: profile.schedulerName,
      percentageOfNodesToScore: profile.percentageOfNodesToScore ?? config.percentageOfNodesToScore,
      points,
      pluginArgs,
    });
  });

  if (issues.length > 0) throw new SchedulerConfigError(issues);
  return { percentageOfNodesToScore: config.percentageOfNodesToScore, profiles };
}

// Upstream expandMultiPointPlugins: explicit re-configurations of multiPoint
// plugins first (in the point's order), then the multiPoint plugins the point
// did not name, then the point's other plugins.
function expandPoint(point: ExtensionPoint, explicit: MergedSet, multi: MergedSet, registry: Registry): ResolvedPlugin[] {
  const weightOf = (entry: PluginEntry): number => {
    if (point !== 'score') return 1;
    if (entry.weight !== undefined && entry.weight > 0) return entry.weight;
    return registry.get(entry.name)?.defaultWeight ?? 1;
  };
  const explicitNames = explicit.enabled.map((p) => p.name);
  if (explicit.disabled.has('*')) return explicit.enabled.map((p) => ({ name: p.name, weight: weightOf(p) }));

  const overrides = new Set<string>();
  const fromMulti: PluginEntry[] = [];
  for (const entry of multi.enabled) {
    const factory = registry.get(entry.name);
    if (factory === undefined || !factory.points.includes(point)) continue;
    if (explicit.disabled.has(entry.name)) continue;
    if (explicitNames.includes(entry.name)) {
      overrides.add(entry.name);
      continue;
    }
    if (fromMulti.some((p) => p.name === entry.name)) continue;
    fromMulti.push(entry);
  }
  const out: ResolvedPlugin[] = [];
  for (const entry of explicit.enabled) if (overrides.has(entry.name)) out.push({ name: entry.name, weight: weightOf(entry) });
  for (const entry of fromMulti) out.push({ name: entry.name, weight: weightOf(entry) });
  for (const entry of explicit.enabled) if (!overrides.has(entry.name)) out.push({ name: entry.name, weight: weightOf(entry) });
  // A plugin listed twice at one point is an error upstream; keep the first.
  const unique = new Map<string, ResolvedPlugin>();
  for (const p of out) if (!unique.has(p.name)) unique.set(p.name, p);
  return [...unique.values()];
}
