export { clusterEvent, makeNode, makePod, NodeBuilder, PodBuilder } from './fixtures.js';
export { makeTestPki } from './pki.js';
export type { TestPki } from './pki.js';
export { freePort, sharedServers, startNats, startRedis, testEnvKeys, TestServerError } from './servers.js';
export type { NatsServerOptions, TestServer } from './servers.js';
