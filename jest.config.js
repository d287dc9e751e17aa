// One jest run for the whole tree. Tests sit beside the code (*.test.ts);
// multi-service and end-to-end tests live under test/. Sources are transformed
// by swc (no type-check here: `npm run build` type-checks everything).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/examples', '<rootDir>/tools', '<rootDir>/test', '<rootDir>/demo'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/cluster/.work/'],
  transform: {
    '^.+\\.(t|m?j)s$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose|jsonpath-plus|@opentelemetry/otlp-exporter-base)/)',
  ],
  moduleNameMapper: {
    // Workspace packages resolve to their sources, so tests need no build
    // (services by their package name, for in-process tests under test/).
    '^@schedmesh/([a-z]+)-service$': '<rootDir>/services/$1/src/index.ts',
    '^@schedmesh/([a-z-]+)-example$': '<rootDir>/examples/$1/src/index.ts',
    '^@schedmesh/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^@schedmesh/proto/v1/(.*)$': '<rootDir>/libs/proto/src/gen/schedmesh/v1/$1.ts',
    '^@schedmesh/proto/google/(.*)$': '<rootDir>/libs/proto/src/gen/google/protobuf/$1.ts',
    '^@schedmesh/proto/descriptor$': '<rootDir>/libs/proto/src/descriptor.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/jest/global-setup.ts',
  globalTeardown: '<rootDir>/test/jest/global-teardown.ts',
  testTimeout: 20000,
  // On two cores jest runs the suites in band, in its own process, so a handle
  // any suite leaves open keeps it alive: one full run (of five) here did not
  // exit after every suite had passed. Exiting after the teardown keeps CI from hanging on that;
  // `npx jest --detectOpenHandles` is how to hunt the leak.
  forceExit: true,
};
