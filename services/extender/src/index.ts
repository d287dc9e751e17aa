/**
 * What other code imports by the package name (@schedmesh/extender-service):
 * the app for in-process tests and benchmarks, the HTTP server, and the wire
 * parsing. The process starts in main.ts.
 */
export { startExtenderApp } from './app.js';
export type { ExtenderApp, ExtenderAppOptions } from './app.js';
export { extenderConfigSchema } from './config.js';
export type { ExtenderConfig } from './config.js';
export { meshVerbs, startExtenderServer } from './http.js';
export type { ExtenderServer, ExtenderServerOptions, Verbs } from './http.js';
export { NodeView } from './node-view.js';
export type { NodesCovered, WaitForNodesOptions } from './node-view.js';
export type { VerbDeps } from './verbs/deps.js';
export {
  BodyTooLargeError,
  foldKeys,
  MAX_EXTENDER_PRIORITY,
  parseBindingArgs,
  parseExtenderArgs,
  parseJson,
  parsePreemptionArgs,
  toExtenderScores,
  WireError,
} from './wire.js';
export type {
  ExtenderArgs,
  ExtenderBindingArgs,
  ExtenderBindingResult,
  ExtenderFilterResult,
  ExtenderPreemptionArgs,
  ExtenderPreemptionResult,
  HostPriority,
  MetaVictims,
  ProposedVictims,
} from './wire.js';
