import { expect, test } from '@jest/globals';
import { createClient } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { loadConfig } from './config.js';
import { commonConfigSchema, startService } from './service.js';
import { connectChannel } from './grpc-client.js';

test('a service is NOT_SERVING until ready, serves its endpoints, and stops in order', async () => {
  const config = commonConfigSchema.parse({ grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } });
  expect(config.shutdown.grace).toBe(10_000);
  const runtime = startService({ name: 'test-service', config, handleSignals: false });
  const order: string[] = [];
  runtime.onShutdown(async () => {
    order.push('hook');
  });
  const { grpcPort, httpPort } = await runtime.listen();
  const channel = connectChannel(`127.0.0.1:${grpcPort}`);
  const health = createClient(HealthDefinition, channel);

  expect((await health.check({ service: '' })).status).toBe(2);
  expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(503);
  runtime.setReady(true);
  expect((await health.check({ service: '' })).status).toBe(1);
  expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200);
  expect(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()).toContain('service="test-service"');

  await runtime.stop();
  order.push('stopped');
  expect(order).toEqual(['hook', 'stopped']);
  await expect(fetch(`http://127.0.0.1:${httpPort}/healthz`)).rejects.toThrow();
  channel.close();
});

test('common configuration rejects a bad port and a half-set TLS block', () => {
  const result = commonConfigSchema.safeParse({ grpc: { port: 70000, tls: { certFile: 'a.pem' } } });
  expect(result.success).toBe(false);
  const paths = result.error!.issues.map((i) => i.path.join('.'));
  expect(paths).toEqual(expect.arrayContaining(['grpc.port', 'grpc.tls.keyFile']));
});

test("the trace sample ratio comes from its variable (deploy's trace-sample-ratio), and one outside 0–1 names it", () => {
  expect(loadConfig(commonConfigSchema, { env: { SCHEDMESH_TELEMETRY__SAMPLE_RATIO: '0.1' } }).telemetry.sampleRatio).toBe(0.1);
  expect(loadConfig(commonConfigSchema, { env: {} }).telemetry.sampleRatio).toBeUndefined();
  expect(() => loadConfig(commonConfigSchema, { env: { SCHEDMESH_TELEMETRY__SAMPLE_RATIO: '2' } })).toThrow(/telemetry\.sampleRatio: .*\(from SCHEDMESH_TELEMETRY__SAMPLE_RATIO\)/);
});
