/** The command that builds every binary the cluster helpers run. */
export const CLUSTER_BUILD_COMMAND = 'npm run cluster:build';

/** A binary the cluster helpers need is not built (or not executable). */
export class ClusterBinaryMissingError extends Error {
  override readonly name = 'ClusterBinaryMissingError';
  constructor(
    readonly binary: string,
    readonly path: string,
  ) {
    super(`${binary} is not built: ${path} does not exist or is not executable; run \`${CLUSTER_BUILD_COMMAND}\` first`);
  }
}

/** A cluster component did not come up (or died) — the message ends with the tail of its log. */
export class ClusterStartError extends Error {
  override readonly name = 'ClusterStartError';
  constructor(
    readonly component: string,
    readonly reason: string,
    readonly logPath: string | undefined,
    readonly logTail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${component} failed to start: ${reason}` +
        (logPath ? `\n--- last lines of ${logPath} ---\n${logTail}` : ''),
      options,
    );
  }
}
