/**
 * How a plugin is declared: {@link definePlugin} turns a definition (its name,
 * points, `<Name>Args` zod schema with defaults, constructor) into a
 * {@link PluginFactory} that validates raw args and builds the plugin for one
 * profile. A plugin needs only this contract; the Registry that maps names to
 * factories and the runner that calls them live in @schedmesh/scheduling.
 */
import type { z } from 'zod';
import type { ExtensionPoint, FrameworkHandle, Plugin } from './interfaces.js';

/** One problem with a plugin's args, at a path relative to the args object. */
export interface ArgsIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** How a plugin is declared: its points, its args schema and its constructor. */
export interface PluginDefinition<A> {
  /** The name (a names.ts constant). */
  readonly name: string;
  /** The extension points the plugin implements. */
  readonly points: readonly ExtensionPoint[];
  /** The weight of its Score when the config names none (upstream's defaults). */
  readonly defaultWeight?: number;
  /** The args schema, with defaults; absent for a plugin without args. */
  readonly args?: z.ZodType<A>;
  /** Builds the plugin from validated args. */
  create(args: A, handle: FrameworkHandle): Plugin;
}

/** A registered factory, its args type erased behind validation. */
export interface PluginFactory {
  readonly name: string;
  readonly points: readonly ExtensionPoint[];
  readonly defaultWeight: number;
  readonly hasArgs: boolean;
  /** The problems of raw args (undefined = defaults); empty when valid. */
  validateArgs(raw: unknown): ArgsIssue[];
  /** Builds the plugin; throws InvalidPluginArgsError for invalid args. */
  create(raw: unknown, handle: FrameworkHandle): Plugin;
}

/** Args that do not validate; `issues` name each bad field. */
export class InvalidPluginArgsError extends Error {
  override readonly name = 'InvalidPluginArgsError';
  constructor(
    readonly plugin: string,
    readonly issues: readonly ArgsIssue[],
  ) {
    super(`invalid args for plugin ${plugin}: ${issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`);
  }
}

/** Turns a definition into a factory. */
export function definePlugin<A>(definition: PluginDefinition<A>): PluginFactory {
  const schema = definition.args;
  const parse = (raw: unknown): { ok: true; args: A } | { ok: false; issues: ArgsIssue[] } => {
    if (schema === undefined) {
      if (raw === undefined || raw === null || (typeof raw === 'object' && Object.keys(raw).length === 0)) return { ok: true, args: undefined as A };
      return { ok: false, issues: [{ path: [], message: `plugin ${definition.name} takes no args` }] };
    }
    const result = schema.safeParse(raw ?? {});
    if (result.success) return { ok: true, args: result.data };
    return { ok: false, issues: result.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), message: i.message })) };
  };
  return {
    name: definition.name,
    points: definition.points,
    defaultWeight: definition.defaultWeight ?? 1,
    hasArgs: schema !== undefined,
    validateArgs(raw) {
      const r = parse(raw);
      return r.ok ? [] : r.issues;
    },
    create(raw, handle) {
      const r = parse(raw);
      if (!r.ok) throw new InvalidPluginArgsError(definition.name, r.issues);
      return definition.create(r.args, handle);
    },
  };
}
