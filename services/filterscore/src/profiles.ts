// The scheduling profiles: a KubeSchedulerConfiguration-shaped YAML file,
// validated against the plugin registry at start-up.
import { resolveProfiles, SchedulerConfigError } from '@schedmesh/scheduling';
import type { Registry, ResolvedSchedulerConfig } from '@schedmesh/scheduling';
import { ConfigError, readYamlFile } from '@schedmesh/runtime';

/**
 * Reads and resolves the profiles. Without a file, the default profile.
 *
 * @throws ConfigError naming every bad key of the file (and the file itself when it cannot be read or parsed).
 */
export function loadProfiles(file: string | undefined, registry: Registry): ResolvedSchedulerConfig {
  const raw = file !== undefined ? readYamlFile(file, 'profiles.file') : undefined;
  try {
    return resolveProfiles(raw, registry);
  } catch (err) {
    if (err instanceof SchedulerConfigError) throw new ConfigError(err.issues.map((i) => `${i.path}: ${i.message} (in ${file ?? 'the default profile'})`), { cause: err });
    throw err;
  }
}
