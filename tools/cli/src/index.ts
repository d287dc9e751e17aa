/**
 * @schedmesh/cli: the `schedmesh` command line for operators. Exports the
 * runner (for embedding and tests), the exit codes and the JSON views.
 */
export { runCli, USAGE } from './cli.js';
export type { CliIo } from './cli.js';
export { ExitCode } from './exit.js';
export { addressEnv, DEFAULT_ADDRESSES, DEFAULT_JAEGER_URL, ENV_PREFIX, SERVICES } from './options.js';
export type { ServiceName } from './options.js';
export type { ExplanationView, NodeScoreView, ReasonView, ScheduleView, ServiceStatusView, StatusView, StepView, WhyView } from './views.js';
