import { readFileSync } from 'node:fs';
import { startExamplePlugin } from './server.js';
import type { ExamplePluginOptions } from './server.js';
import { startTracing } from './telemetry.js';

// Runs the example plugin for the demo and for trying the gateway by hand:
//   npx tsx examples/rest-plugin/src/main.ts
// Environment (all optional):
//   PLUGIN_HOST (127.0.0.1), PLUGIN_PORT (8080)
//   PLUGIN_HMAC_KEY_FILE + PLUGIN_HMAC_KEY_ID   require the gateway's HMAC signature
//   PLUGIN_JWT_SECRET_FILE (+ PLUGIN_JWT_AUDIENCE, default cost-tracking)   require an HS256 bearer JWT
//   PLUGIN_TLS_CERT_FILE + PLUGIN_TLS_KEY_FILE (+ PLUGIN_TLS_CLIENT_CA_FILE for mTLS)
//   OTEL_EXPORTER_OTLP_ENDPOINT (+ OTEL_SERVICE_NAME, default cost-tracking-plugin)   export request spans
const env = process.env;
const stopTracing = startTracing(env);
const secret = (file: string): Buffer => Buffer.from(readFileSync(file, 'utf8').replace(/\r?\n$/, ''), 'utf8');
const options: ExamplePluginOptions = {
  host: env.PLUGIN_HOST ?? '127.0.0.1',
  port: Number(env.PLUGIN_PORT ?? 8080),
  ...(env.PLUGIN_HMAC_KEY_FILE ? { hmac: { keys: { [env.PLUGIN_HMAC_KEY_ID ?? 'default']: secret(env.PLUGIN_HMAC_KEY_FILE) } } } : {}),
  ...(env.PLUGIN_JWT_SECRET_FILE
    ? { jwt: { algorithm: 'HS256' as const, key: secret(env.PLUGIN_JWT_SECRET_FILE), issuer: 'schedmesh-gateway', audience: env.PLUGIN_JWT_AUDIENCE ?? 'cost-tracking' } }
    : {}),
  ...(env.PLUGIN_TLS_CERT_FILE && env.PLUGIN_TLS_KEY_FILE
    ? { tls: { certFile: env.PLUGIN_TLS_CERT_FILE, keyFile: env.PLUGIN_TLS_KEY_FILE, ...(env.PLUGIN_TLS_CLIENT_CA_FILE ? { clientCaFile: env.PLUGIN_TLS_CLIENT_CA_FILE } : {}) } }
    : {}),
};

startExamplePlugin(options)
  .then((plugin) => {
    process.stdout.write(`example plugin (cost-tracking) listening on ${plugin.url}\n`);
    // Spans still in the batch are flushed before exiting.
    const stop = (): void => void plugin.close().then(stopTracing).finally(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  })
  .catch((err: unknown) => {
    process.stderr.write(`example plugin: ${(err as Error).message}\n`);
    process.exit(1);
  });
