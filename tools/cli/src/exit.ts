/**
 * The exit codes of `schedmesh`, and the one error class a command throws to
 * end with a message and a code. Scripts can tell "could not ask" (1) from
 * "asked wrong" (2), "no such pod" (3) and "asked, and the answer is no" (4).
 */

/** What the process exit code means. */
export const ExitCode = {
  /** The question was answered (a pod was placed; every service serves). */
  OK: 0,
  /** The question could not be answered: a service is unreachable or failed. */
  FAILURE: 1,
  /** The command line or an input file is wrong. */
  USAGE: 2,
  /** The scheduler does not know the pod. */
  NOT_FOUND: 3,
  /** Answered, and the answer is negative: the pod does not fit, or a service is not serving. */
  NEGATIVE: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Ends a command with a message for stderr (it says what to do) and an exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A wrong command line or input file (exit 2). */
  static usage(message: string, options?: { cause?: unknown }): CliError {
    return new CliError(message, ExitCode.USAGE, options);
  }
}
