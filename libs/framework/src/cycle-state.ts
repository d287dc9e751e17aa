/**
 * Per-cycle state: what a plugin computes once per pod (at PreFilter or
 * PreScore) and reads per node (at Filter or Score).
 *
 * One CycleState lives for one scheduling cycle of one pod and is never
 * shared between cycles. Filter and Score receive it read-only
 * ({@link ReadonlyCycleState}); only the once-per-cycle points and the
 * PreFilter extensions (AddPod/RemovePod, on a clone) write to it.
 */

/** Data a plugin stores in the cycle state. */
export interface StateData {
  /**
   * A copy for a simulation (preemption, nominated pods): data that AddPod or
   * RemovePod change must be copied; read-only data may return itself.
   */
  clone(): StateData;
}

/** A typed key: the plugin that writes the data owns the key. */
export class StateKey<T extends StateData> {
  /** Only for the type. */
  declare private readonly phantom: T;
  constructor(
    /** A name for messages ("PreFilterNodePorts"). */
    readonly name: string,
  ) {}
}

/** What Filter and Score may do with the cycle state: read. */
export interface ReadonlyCycleState {
  /** The data stored under key, or undefined. */
  read<T extends StateData>(key: StateKey<T>): T | undefined;
  /** Plugins whose PreFilter returned Skip (their Filter does not run). */
  readonly skipFilterPlugins: ReadonlySet<string>;
  /** Plugins whose PreScore returned Skip (their Score does not run). */
  readonly skipScorePlugins: ReadonlySet<string>;
}

/** The writable cycle state of one scheduling cycle. */
export class CycleState implements ReadonlyCycleState {
  private readonly data = new Map<StateKey<StateData>, StateData>();
  /** Plugins whose PreFilter returned Skip; written by the runner. */
  readonly skipFilterPlugins = new Set<string>();
  /** Plugins whose PreScore returned Skip; written by the runner. */
  readonly skipScorePlugins = new Set<string>();

  read<T extends StateData>(key: StateKey<T>): T | undefined {
    // The key's type parameter is the type written under it (see write).
    return this.data.get(key) as T | undefined;
  }

  /** Stores value under key, replacing what was there. */
  write<T extends StateData>(key: StateKey<T>, value: T): void {
    this.data.set(key, value);
  }

  /** Removes the data under key. */
  delete<T extends StateData>(key: StateKey<T>): void {
    this.data.delete(key);
  }

  /** A copy whose data are cloned (for a simulation on one node). */
  clone(): CycleState {
    const copy = new CycleState();
    for (const [key, value] of this.data) copy.data.set(key, value.clone());
    for (const name of this.skipFilterPlugins) copy.skipFilterPlugins.add(name);
    for (const name of this.skipScorePlugins) copy.skipScorePlugins.add(name);
    return copy;
  }
}
