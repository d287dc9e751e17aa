import type { z } from 'zod';
import { loadConfig } from './config.js';
import type { ConfigOverride, ConfigSources } from './config.js';
import { ConfigError } from './errors.js';

/** Options of {@link runMain}; the defaults are the process's own (tests pass their own). */
export interface RunMainOptions {
  /**
   * Command-line flags, each setting one configuration key:
   * `{ fixture: 'source.fixture' }` accepts `--fixture FILE` and
   * `--fixture=FILE`. Flags win over the file and the environment. Any other
   * argument is a configuration error.
   */
  flags?: Readonly<Record<string, string>>;
  /** The arguments (default process.argv.slice(2)). */
  argv?: readonly string[];
  /** Where configuration comes from besides the flags (default: process.env, $SCHEDMESH_CONFIG). */
  sources?: Omit<ConfigSources, 'overrides'>;
  /** Where a failure is written (default process.stderr). */
  stderr?: { write(text: string): unknown };
  /** Ends the process after a failure (default process.exit). */
  exit?: (code: number) => void;
}

/**
 * A service's whole `main.ts`: loads and validates its configuration
 * (schema ← file ← environment ← flags), then starts it. A failure to start
 * exits 1 after one line on stderr: the message of a configuration error
 * (it names every bad key, a stack would only hide them), the stack of
 * anything else. Resolves once the service started (or the failure was
 * reported); the service then runs until its signal handling stops it.
 */
export async function runMain<S extends z.ZodType>(
  name: string,
  schema: S,
  start: (config: z.output<S>) => Promise<unknown>,
  options: RunMainOptions = {},
): Promise<void> {
  const stderr = options.stderr ?? process.stderr;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  try {
    const overrides = parseFlags(options.argv ?? process.argv.slice(2), options.flags ?? {});
    const config = loadConfig(schema, { ...options.sources, overrides });
    await start(config);
  } catch (err) {
    stderr.write(`${name}: ${err instanceof ConfigError ? err.message : ((err as Error)?.stack ?? String(err))}\n`);
    exit(1);
  }
}

function parseFlags(argv: readonly string[], flags: Readonly<Record<string, string>>): ConfigOverride[] {
  const accepted = Object.keys(flags).map((f) => `--${f} VALUE`);
  const usage = accepted.length > 0 ? `accepted: ${accepted.join(', ')}` : 'this command takes no arguments (configure it with SCHEDMESH_* or SCHEDMESH_CONFIG)';
  const overrides: ConfigOverride[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const key = match ? flags[match[1]!] : undefined;
    if (!match || key === undefined) throw new ConfigError([`unknown argument ${JSON.stringify(arg)}; ${usage}`]);
    const value = match[2] ?? argv[++i];
    if (value === undefined || value === '') throw new ConfigError([`--${match[1]}: expected a value`]);
    overrides.push({ key, value, origin: `--${match[1]}` });
  }
  return overrides;
}
