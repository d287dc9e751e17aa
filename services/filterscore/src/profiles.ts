// The scheduling profiles: a KubeSchedulerConfiguration-shaped YAML document,
// from a file at start-up and/or a ConfigMap at run time, validated against
// the plugin registry.
import { resolveProfiles, SchedulerConfigError } from '@schedmesh/scheduling';
import type { Registry, ResolvedSchedulerConfig } from '@schedmesh/scheduling';
import { ConfigError, readYamlFile } from '@schedmesh/runtime';
import { parse as parseYaml } from 'yaml';

function resolve(raw: unknown, registry: Registry, source: string): ResolvedSchedulerConfig {
  try {
    return resolveProfiles(raw, registry);
  } catch (err) {
    if (err instanceof SchedulerConfigError) throw new ConfigError(err.issues.map((i) => `${i.path}: ${i.message} (in ${source})`), { cause: err });
    throw err;
  }
}

/**
 * Reads and resolves the profiles. Without a file, the default profile.
 *
 * @throws ConfigError naming every bad key of the file (and the file itself when it cannot be read or parsed).
 */
export function loadProfiles(file: string | undefined, registry: Registry): ResolvedSchedulerConfig {
  const raw = file !== undefined ? readYamlFile(file, 'profiles.file') : undefined;
  return resolve(raw, registry, file ?? 'the default profile');
}

/**
 * Resolves a profiles document given as text (a ConfigMap's key). An empty
 * document is the default profile, as an absent file is.
 *
 * @throws ConfigError naming every bad field, or the YAML error, with `source`.
 */
export function parseProfiles(text: string, source: string, registry: Registry): ResolvedSchedulerConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text) as unknown;
  } catch (err) {
    throw new ConfigError([`(root): not valid YAML (${(err as Error).message}) (in ${source})`], { cause: err });
  }
  return resolve(raw, registry, source);
}
