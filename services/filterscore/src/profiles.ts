// The scheduling profiles: a KubeSchedulerConfiguration-shaped YAML file,
// validated against the plugin registry at start-up.
import { readFileSync } from 'node:fs';
import { resolveProfiles, SchedulerConfigError } from '@schedmesh/scheduling';
import type { Registry, ResolvedSchedulerConfig } from '@schedmesh/scheduling';
import { ConfigError } from '@schedmesh/runtime';
import { parse as parseYaml } from 'yaml';

/**
 * Reads and resolves the profiles. Without a file, the default profile.
 *
 * @throws ConfigError naming every bad key of the file (and the file itself when it cannot be read or parsed).
 */
export function loadProfiles(file: string | undefined, registry: Registry): ResolvedSchedulerConfig {
  let raw: unknown;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`profiles.file ${file}: cannot be read (${(err as Error).message})`], { cause: err });
    }
    try {
      raw = parseYaml(text);
    } catch (err) {
      throw new ConfigError([`profiles.file ${file}: not valid YAML (${(err as Error).message})`], { cause: err });
    }
  }
  try {
    return resolveProfiles(raw, registry);
  } catch (err) {
    if (err instanceof SchedulerConfigError) throw new ConfigError(err.issues.map((i) => `${i.path}: ${i.message} (in ${file ?? 'the default profile'})`), { cause: err });
    throw err;
  }
}
