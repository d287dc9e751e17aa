/**
 * The registry: plugin names → factories (upstream runtime.Registry). A
 * factory (the contract's definePlugin) validates its args and builds the
 * plugin for one profile. Registering a name twice is a programming error and
 * throws.
 */
import type { PluginFactory } from '@schedmesh/framework';

/** Thrown when a name is registered twice. */
export class DuplicatePluginError extends Error {
  override readonly name = 'DuplicatePluginError';
  constructor(readonly plugin: string) {
    super(`a plugin named ${JSON.stringify(plugin)} is already registered`);
  }
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
