// The command-line frame of the benchmarks that start a cluster
// (bench/scheduling, bench/soak): --help, flags parsed before anything
// starts, a time bound, SIGINT/SIGTERM, and on every way out the teardown of
// whatever the run started, then the exit code — 0 done, 1 failed, 2 a bad
// flag, 3 past --time-limit, 130 a signal.
import { performance } from 'node:perf_hooks';

import { BenchOptionError } from './scheduling/options.js';
import { Teardown } from './scheduling/teardown.js';

export type Log = (line: string) => void;

/** One benchmark's command. */
export interface BenchCommand<O> {
  /** Prefix of its messages on stderr ("soak: …"). */
  readonly name: string;
  readonly usage: string;
  /** Parses argv (without node and the script); throws BenchOptionError for a flag that cannot be used. */
  parse(argv: readonly string[]): O;
  timeLimitMs(opts: O): number;
  /**
   * Runs it, adding everything it starts to `teardown`. Resolves with what
   * to print at the end, which is skipped if the run was stopped meanwhile.
   */
  run(opts: O, teardown: Teardown, log: Log, progress: Log): Promise<() => void>;
}

/** Runs `command` as this process's main. */
export function benchMain<O>(command: BenchCommand<O>): void {
  const log: Log = (line) => void process.stdout.write(`${line}\n`);
  const started = performance.now();
  const progress: Log = (line) => log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`);
  const teardown = new Teardown();
  let finishing = false;
  const finish = (code: number, message?: string): void => {
    if (finishing) return;
    finishing = true;
    if (message) process.stderr.write(`${command.name}: ${message}\n`);
    void teardown.run((line) => process.stderr.write(`${line}\n`)).finally(() => process.exit(code));
  };

  if (process.argv.includes('--help')) return log(command.usage);
  let opts: O;
  try {
    opts = command.parse(process.argv.slice(2));
  } catch (err) {
    if (err instanceof BenchOptionError) return finish(2, err.message);
    throw err;
  }
  const limitMs = command.timeLimitMs(opts);
  const limit = setTimeout(() => finish(3, `the run exceeded its time bound of ${limitMs / 1000} s (--time-limit); every process it started is stopped`), limitMs);
  limit.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => finish(130, `${signal}: stopping every process it started`));
  command.run(opts, teardown, log, progress).then(
    (conclude) => {
      if (finishing) return;
      conclude();
      finish(0);
    },
    (err: unknown) => finish(1, err instanceof Error ? err.message : String(err)),
  );
}
