/**
 * What other code imports by the package name (@schedmesh/snapshot-service):
 * the app (start function, config schema, handle) for in-process tests,
 * benchmarks and composition, and the cluster state the benchmark measures
 * on its own. The process itself starts in main.ts.
 */
export { startSnapshotApp } from './app.js';
export type { SnapshotApp } from './app.js';
export { SnapshotState } from './snapshot-state.js';
export { snapshotConfigSchema } from './config.js';
export type { SnapshotConfig } from './config.js';
