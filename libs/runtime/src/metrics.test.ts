import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@jest/globals';
import { createMetricsRegistry, gauge, startHttpEndpoints } from './metrics.js';

test('gauge: read at each scrape, not set on the hot path', async () => {
  const registry = createMetricsRegistry('gauge-test');
  let generation = 3;
  gauge(registry, 'schedmesh_test_generation', 'A generation.', () => generation);
  expect(await registry.getSingleMetricAsString('schedmesh_test_generation')).toMatch(/^schedmesh_test_generation\{service="gauge-test"\} 3$/m);
  generation = 7;
  expect(await registry.getSingleMetricAsString('schedmesh_test_generation')).toMatch(/ 7$/m);
});

test('with a bearer token file, /metrics and /debug/pprof/ need the token; probes stay open; a rotated token applies at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-token-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 's3cret-token-1\n');
  const registry = createMetricsRegistry('token-test');
  const http = await startHttpEndpoints({ registry, port: 0, host: '127.0.0.1', profiling: true, bearerTokenFile: tokenFile });
  const get = (path: string, token?: string) =>
    fetch(`http://127.0.0.1:${http.port}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {}).then(async (r) => ({ status: r.status, text: await r.text() }));
  try {
    expect(await get('/metrics')).toMatchObject({ status: 401, text: expect.stringContaining('bearer token of http.bearerTokenFile') });
    expect((await get('/metrics', 'wrong')).status).toBe(401);
    expect((await get('/debug/pprof/heap')).status).toBe(401);
    const ok = await get('/metrics', 's3cret-token-1');
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('service="token-test"');
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);

    writeFileSync(tokenFile, 's3cret-token-2\n');
    expect((await get('/metrics', 's3cret-token-1')).status).toBe(401);
    expect((await get('/metrics', 's3cret-token-2')).status).toBe(200);
  } finally {
    await http.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
