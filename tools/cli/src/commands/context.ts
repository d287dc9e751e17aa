import type { Connections } from '../clients.js';
import type { CliOptions } from '../options.js';

/** What every command gets. */
export interface CommandContext {
  readonly options: CliOptions;
  readonly connections: Connections;
  /** Reads a file, or stdin for "-". */
  readonly readInput: (path: string) => Promise<string>;
}
