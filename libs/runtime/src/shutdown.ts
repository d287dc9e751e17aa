import type { Logger } from './logger.js';

/** A step of shutdown, run in registration order. */
export type ShutdownHook = () => Promise<void>;

/** Options of {@link handleSignals}. */
export interface SignalOptions {
  /** The logger. */
  logger: Logger;
  /** Hard limit for all hooks together, in ms (default 25 s: under Kubernetes' 30 s grace period). */
  timeoutMs?: number;
  /** Called with the exit code once hooks finish (default process.exit). */
  exit?: (code: number) => void;
}

/**
 * Runs `hooks` in order on SIGTERM or SIGINT (once), then exits 0, or 1 if a
 * hook failed or the limit passed. A second signal exits at once.
 */
export function handleSignals(hooks: readonly ShutdownHook[], options: SignalOptions): void {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const limit = setTimeout(() => {
      logger.error({ timeoutMs: options.timeoutMs ?? 25_000 }, 'shutdown took too long; exiting');
      exit(1);
    }, options.timeoutMs ?? 25_000);
    limit.unref();
    void runHooks(hooks, logger).then((ok) => {
      clearTimeout(limit);
      logger.info('shutdown complete');
      exit(ok ? 0 : 1);
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

async function runHooks(hooks: readonly ShutdownHook[], logger: Logger): Promise<boolean> {
  let ok = true;
  for (const hook of hooks) {
    try {
      await hook();
    } catch (err) {
      ok = false;
      logger.error({ err }, 'shutdown step failed');
    }
  }
  return ok;
}
