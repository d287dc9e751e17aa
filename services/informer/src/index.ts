/**
 * What other code imports by the package name (@schedmesh/informer-service):
 * the app (start function, config schema, handle) for in-process tests,
 * benchmarks and composition. The process itself starts in main.ts.
 */
export { startInformerApp } from './app.js';
export type { InformerApp } from './app.js';
export { informerConfigSchema } from './config.js';
export type { InformerConfig } from './config.js';
