import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * Configuration in stages: documented options with defaults (a zod schema) →
 * values from an optional YAML file → values from the environment → one
 * validated, resolved object with units normalized. Invalid input fails at
 * start-up with every wrong key named, never a warning.
 */

/** Where configuration comes from. */
export interface ConfigSources {
  /** Environment variables (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Prefix of the variables read (default "SCHEDMESH_"). */
  envPrefix?: string;
  /** A YAML file to read first; env wins over it. Default: $<prefix>CONFIG if set. */
  file?: string;
  /** Values that win over the file and the environment (command-line flags). */
  overrides?: readonly ConfigOverride[];
}

/** One value given outside the file and the environment, such as a command-line flag. */
export interface ConfigOverride {
  /** The dotted key it sets ("source.fixture"). */
  key: string;
  value: unknown;
  /** Where it came from, for error messages ("--fixture"). */
  origin: string;
}

/**
 * Loads configuration described by `schema`.
 *
 * Environment variables map onto nested keys with `__` between levels and
 * SCREAMING_SNAKE for camelCase: `SCHEDMESH_GRPC__PORT` is `grpc.port`,
 * `SCHEDMESH_NATS__SUBJECT_PREFIX` is `nats.subjectPrefix`. Values that look
 * like numbers or booleans are converted; the schema decides whether they are
 * valid. Overrides (command-line flags) win over both.
 */
export function loadConfig<S extends z.ZodType>(schema: S, sources: ConfigSources = {}): z.output<S> {
  const env = sources.env ?? process.env;
  const prefix = sources.envPrefix ?? 'SCHEDMESH_';
  const file = sources.file ?? env[`${prefix}CONFIG`];
  let fromFile: Record<string, unknown> = {};
  if (file) {
    const parsed = readYamlFile(file, 'config file');
    if (parsed != null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ConfigError([`config file ${file}: expected a mapping at the top level`]);
    }
    fromFile = (parsed ?? {}) as Record<string, unknown>;
  }

  const origins = new Map<string, string>();
  const merged = structuredClone(fromFile);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(prefix) || raw === undefined || name === `${prefix}CONFIG`) continue;
    const path = name.slice(prefix.length).split('__').map(snakeToCamel);
    if (path.some((p) => p === '')) continue;
    setPath(merged, path, coerce(raw));
    origins.set(path.join('.'), name);
  }
  for (const override of sources.overrides ?? []) {
    setPath(merged, override.key.split('.'), override.value);
    origins.set(override.key, override.origin);
  }

  const result = schema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.map(String).join('.') || '(root)';
        const origin = origins.get(key);
        const where = origin ? ` (from ${origin})` : file ? ` (in ${file})` : '';
        return `${key}: ${issue.message}${where}`;
      }),
    );
  }
  return result.data;
}

/**
 * Reads a file that configuration names. A file that cannot be read is a
 * ConfigError naming the key and the path, so start-up fails with the
 * message alone (see runMain).
 */
export function readConfigFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${key} ${path}: cannot be read (${(err as Error).message})`], { cause: err });
  }
}

/** {@link readConfigFile} for a YAML document: its value (null for an empty file), or a ConfigError. */
export function readYamlFile(path: string, key: string): unknown {
  const text = readConfigFile(path, key);
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw new ConfigError([`${key} ${path}: not valid YAML (${(err as Error).message})`], { cause: err });
  }
}

/**
 * A duration option: a number of milliseconds, or a string with a unit
 * ("250ms", "30s", "5m", "1h", "1m30s"). Resolves to milliseconds.
 */
export function duration(): z.ZodType<number, number | string> {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "500ms", "30s" or "5m", got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return ms;
  });
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "1m30s", "250ms", "2h" into milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    total += Number(m[1]) * (durationUnits[m[2]!] ?? Number.NaN);
    consumed = re.lastIndex;
  }
  return consumed === trimmed.length ? total : undefined;
}

function snakeToCamel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function coerce(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}
