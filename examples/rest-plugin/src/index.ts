/**
 * The example plugin as a library (@schedmesh/rest-plugin-example): the
 * gateway's tests start it in-process as their test double, and a plugin
 * author can reuse its request verification. main.ts runs it as a process.
 */
export { API_VERSION, costTrackingRules, startExamplePlugin } from './server.js';
export type { ExamplePlugin, ExamplePluginOptions, PluginRequest, ReceivedRequest, Reply } from './server.js';
export { verifyBearerJwt, verifyHmacSignature } from './verify.js';
export type { HmacVerifierOptions, JwtVerifierOptions, RefusalReason, SignedRequestHead, Verification } from './verify.js';
