/**
 * What other code imports by the package name (@schedmesh/gateway-service):
 * the app (start function, config schema, handle) for in-process tests,
 * benchmarks and composition. The process itself starts in main.ts.
 */
export { startGatewayService } from './app.js';
export type { GatewayServiceHandle } from './app.js';
export { gatewayConfigSchema } from './config.js';
export type { GatewayConfig } from './config.js';
