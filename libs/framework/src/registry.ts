/**
 * The registry: plugin names → factories. A factory validates its args
 * (`<Name>Args`, a zod schema with defaults) and builds the plugin for one
 * profile. Registering a name twice is a programming error and throws.
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

/** Thrown when a name is registered twice. */
export class DuplicatePluginError extends Error {
  override readonly name = 'DuplicatePluginError';
  constructor(readonly plugin: string) {
    super(`a plugin named ${JSON.stringify(plugin)} is already registered`);
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

/** Plugin factories by name. */
export class Registry {
  private readonly factories = new Map<string, PluginFactory>();

  constructor(factories: Iterable<PluginFactory> = []) {
    for (const f of factories) this.register(f);
  }

  /** Adds a factory; throws DuplicatePluginError for a name already present. */
  register(factory: PluginFactory): this {
    if (this.factories.has(factory.name)) throw new DuplicatePluginError(factory.name);
    this.factories.set(factory.name, factory);
    return this;
  }

  /** A factory by name. */
  get(name: string): PluginFactory | undefined {
    return this.factories.get(name);
  }

  /** Whether a name is registered. */
  has(name: string): boolean {
    return this.factories.has(name);
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** A new registry with this one's factories and more (duplicates throw). */
  merge(other: Iterable<PluginFactory>): Registry {
    return new Registry([...this.factories.values(), ...other]);
  }
}
