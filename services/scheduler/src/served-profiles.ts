/**
 * The schedulerNames this scheduler serves and the filterscore profile each
 * is scored with. At start-up they are `scheduler.profiles`; the profiles
 * ConfigMap (a KubeSchedulerConfiguration, the one filterscore follows)
 * replaces them with its profiles' schedulerNames, each scored with the
 * filterscore profile of the same name unless `scheduler.filterscoreProfiles`
 * maps it explicitly. An invalid version is refused with the field named and
 * the names in force stay; a deleted ConfigMap keeps them too. A profile that
 * is (or defaults to) "default-scheduler" is refused unless `scheduler.profiles`
 * lists that name: serving it would race kube-scheduler.
 */
import { inTreeRegistry } from '@schedmesh/plugins';
import type { Logger } from '@schedmesh/runtime';
import { DEFAULT_SCHEDULER_NAME, resolveProfiles, SchedulerConfigError } from '@schedmesh/scheduling';
import type { Registry } from '@schedmesh/scheduling';
import { parse as parseYaml } from 'yaml';

/** A set of schedulerNames (the pods a scheduler takes). */
export interface ProfileSet {
  has(schedulerName: string): boolean;
}

/** What changed when a version was applied. */
export interface ProfilesChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** What a profiles version did. */
export type ServedProfilesResult = ({ readonly result: 'applied' } & ProfilesChange) | { readonly result: 'rejected'; readonly issues: readonly string[] };

/** Options of {@link ServedProfiles}. */
export interface ServedProfilesOptions {
  /** The start-up names (`scheduler.profiles`); the first is the default. */
  readonly initial: readonly string[];
  /** Explicit schedulerName → filterscore profile (`scheduler.filterscoreProfiles`). */
  readonly filterscoreProfiles: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** Validates versions as filterscore does (default: the in-tree plugins). */
  readonly registry?: Registry;
}

/** The served schedulerNames, replaced whole by each valid ConfigMap version. */
export class ServedProfiles implements ProfileSet {
  private names: ReadonlySet<string>;
  // Whether the names came from the ConfigMap: then filterscore has a profile of each name.
  private fromConfigMap = false;
  private readonly registry: Registry;

  constructor(private readonly options: ServedProfilesOptions) {
    this.names = new Set(options.initial);
    this.registry = options.registry ?? inTreeRegistry();
  }

  has(schedulerName: string): boolean {
    return this.names.has(schedulerName);
  }

  /** The served names, the default first. */
  get list(): string[] {
    return [...this.names];
  }

  /** The default schedulerName (a Schedule call that names none). */
  get defaultProfile(): string {
    return this.list[0] ?? '';
  }

  /** The filterscore profile of a schedulerName ('' = filterscore's default). */
  filterscoreProfile(schedulerName: string): string {
    const explicit = this.options.filterscoreProfiles[schedulerName];
    if (explicit !== undefined) return explicit;
    return this.fromConfigMap && this.names.has(schedulerName) ? schedulerName : '';
  }

  /** Applies one ConfigMap version (`source` names it in errors); never throws for a bad one. */
  apply(text: string, source: string): ServedProfilesResult {
    const { logger } = this.options;
    let names: string[];
    try {
      const config = resolveProfiles(parseYaml(text) as unknown, this.registry);
      names = config.profiles.map((p) => p.schedulerName);
      // Serving kube-scheduler's own name would race it for every ordinary pod: only on purpose.
      const i = names.indexOf(DEFAULT_SCHEDULER_NAME);
      if (i >= 0 && !this.options.initial.includes(DEFAULT_SCHEDULER_NAME)) {
        throw new SchedulerConfigError([{ path: `profiles[${i}].schedulerName`, message: `"${DEFAULT_SCHEDULER_NAME}" is kube-scheduler's; name the profile (or list the name in scheduler.profiles)` }]);
      }
    } catch (err) {
      const issues = err instanceof SchedulerConfigError ? err.issues.map((i) => `${i.path}: ${i.message} (in ${source})`) : [`(root): not valid YAML (${(err as Error).message}) (in ${source})`];
      logger.error({ source, issues }, 'profiles refused; the schedulerNames in force stay');
      return { result: 'rejected', issues };
    }
    const next = new Set(names);
    const added = names.filter((n) => !this.names.has(n));
    const removed = [...this.names].filter((n) => !next.has(n));
    this.names = next;
    this.fromConfigMap = true;
    logger.info({ source, profiles: names, added, removed }, 'served profiles reloaded');
    return { result: 'applied', added, removed };
  }
}
