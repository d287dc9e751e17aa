// Profiles replaced at run time from a ConfigMap: each version is validated
// whole, and an invalid one leaves the profiles in force.
import type { ConfigMapVersion, Logger } from '@schedmesh/runtime';
import { ConfigError } from '@schedmesh/runtime';
import type { Registry, ResolvedSchedulerConfig } from '@schedmesh/scheduling';
import { parseProfiles } from './profiles.js';

/** What a profiles version did. */
export type ProfileReloadResult =
  | { readonly result: 'applied'; readonly profiles: readonly string[] }
  | { readonly result: 'rejected'; readonly issues: readonly string[] };

/** Options of {@link ProfileReloader}. */
export interface ProfileReloaderOptions {
  /** Where a valid version goes (the engine). */
  readonly target: { reload(config: ResolvedSchedulerConfig): void };
  readonly registry: Registry;
  readonly logger: Logger;
  /** Called with every outcome (the reloads metric). */
  readonly onResult?: (result: ProfileReloadResult['result']) => void;
}

/**
 * Applies profile versions: a valid one (resolveProfiles accepts it and
 * every plugin is built) replaces the profiles at once; an invalid one is
 * logged with the fields it got wrong and the profiles in force stay.
 */
export class ProfileReloader {
  constructor(private readonly options: ProfileReloaderOptions) {}

  /** Applies one version; never throws for a bad version. */
  apply(version: ConfigMapVersion): ProfileReloadResult {
    const { logger, onResult } = this.options;
    let outcome: ProfileReloadResult;
    try {
      const config = parseProfiles(version.text, version.source, this.options.registry);
      this.options.target.reload(config);
      outcome = { result: 'applied', profiles: config.profiles.map((p) => p.schedulerName) };
      logger.info({ source: version.source, resourceVersion: version.resourceVersion, profiles: outcome.profiles }, 'profiles reloaded');
    } catch (err) {
      // A plugin whose factory throws on its args is as invalid as a bad field.
      const issues = err instanceof ConfigError ? err.issues : [`${version.source}: ${(err as Error).message}`];
      outcome = { result: 'rejected', issues };
      logger.error({ source: version.source, resourceVersion: version.resourceVersion, issues }, 'profiles refused; the profiles in force stay');
    }
    onResult?.(outcome.result);
    return outcome;
  }
}
