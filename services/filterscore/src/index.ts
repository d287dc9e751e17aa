/**
 * What other code imports by the package name (@schedmesh/filterscore-service):
 * the app (start function, config schema, handle) for in-process tests,
 * benchmarks and composition. The process itself starts in main.ts.
 */
export { startFilterScoreApp } from './app.js';
export type { FilterScoreApp } from './app.js';
export { filterScoreConfigSchema } from './config.js';
export type { FilterScoreConfig } from './config.js';
