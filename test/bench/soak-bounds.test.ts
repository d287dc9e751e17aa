// --small-bounds: each cache's variable reaches its key in the service's
// configuration, loaded as its process loads it (the soak's YAML for the
// service, then SCHEDMESH_* variables over it), and a cache counts as full
// only when its metric shows it at the bound.
import { expect, test } from '@jest/globals';
import { loadConfig } from '@schedmesh/runtime';
import { informerConfigSchema } from '@schedmesh/informer-service';
import { schedulerConfigSchema } from '@schedmesh/scheduler-service';
import { snapshotConfigSchema } from '@schedmesh/snapshot-service';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

import { BOUNDED_CACHES, smallBoundsEnv } from '../../bench/soak/bounds';
import { cacheFills, progressLine } from '../../bench/soak/report';
import type { SoakSample } from '../../bench/soak/report';
import { meshConfig } from '../e2e/mesh-config';

const SCHEMAS = { informer: informerConfigSchema, snapshot: snapshotConfigSchema, scheduler: schedulerConfigSchema } as const;

/** The value at a dotted key. */
const at = (config: unknown, key: string): unknown => key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config);

test.each(BOUNDED_CACHES.map((c) => [c.cache, c] as const))('%s: the small bound reaches its key, the default is what the service has without it', (_, c) => {
  const schema = SCHEMAS[c.service as keyof typeof SCHEMAS];
  expect(schema).toBeDefined();
  const dir = mkdtempSync(join(tmpdir(), 'soak-bounds-'));
  const file = join(dir, `${c.service}.yaml`);
  const setting = { natsUrl: 'nats://127.0.0.1:4222', redisUrl: 'redis://127.0.0.1:6379', kubeconfig: join(dir, 'kubeconfig'), runId: 't' };
  writeFileSync(file, stringify(meshConfig(c.service, setting, () => '127.0.0.1:1')));
  const lowered = loadConfig(schema, { file, env: smallBoundsEnv()[c.service] });
  const defaults = loadConfig(schema, { file, env: {} });
  expect({ lowered: at(lowered, c.key), defaults: at(defaults, c.key) }).toEqual({ lowered: c.smallBound, defaults: c.defaultBound });
  expect(c.smallBound).toBeLessThan(c.defaultBound);
});

/** Warm-up samples (not measured) then one measured, with the caches' metrics `values` gives per sample. */
function samples(values: Record<string, number>[]): SoakSample[] {
  return values.map((caches, i) => ({ atSeconds: i * 10, measured: i === values.length - 1, rssMiB: {}, heapMiB: {}, caches }));
}

test('full: a size at its bound, an eviction counted, a stream position moved by the ring; read at the end of the warm-up', () => {
  const start = { 'attempt records': 0, 'attempt explanations': 0, 'settled pod uids': 1000, 'watch ring': 7000, 'stream tombstones': 0 };
  const warmUpEnd = { 'attempt records': 500, 'attempt explanations': 199, 'settled pod uids': 1000, 'watch ring': 9000, 'stream tombstones': 0 };
  // The measured sample after it does not count.
  const window = { 'attempt records': 500, 'attempt explanations': 200, 'settled pod uids': 1000, 'watch ring': 20000, 'stream tombstones': 50 };
  const fills = cacheFills(samples([start, warmUpEnd, window]), true);
  expect(Object.fromEntries(fills.map((f) => [f.cache, f.full]))).toEqual({
    'attempt records': true,
    'attempt explanations': false,
    'settled pod uids': true,
    'watch ring': true,
    'stream tombstones': false,
  });
  expect(fills.find((f) => f.cache === 'watch ring')).toMatchObject({ bound: 2000, atStart: 7000, atWarmUpEnd: 9000 });
  // At the default bounds the same readings fill nothing.
  expect(cacheFills(samples([start, warmUpEnd, window]), false).filter((f) => f.full).map((f) => f.cache)).toEqual([]);
});

test('a metric that could not be read is not full', () => {
  const fills = cacheFills(samples([{ 'attempt records': Number.NaN }, { 'attempt records': Number.NaN }, {}]), true);
  expect(fills.every((f) => !f.full)).toBe(true);
});

test('progress says where the run is and how far each cache is from full', () => {
  const start = { 'attempt records': 0, 'attempt explanations': 0, 'settled pod uids': 1000, 'watch ring': 7000, 'stream tombstones': 0 };
  const now = { 'attempt records': 500, 'attempt explanations': 120, 'settled pod uids': 1000, 'watch ring': 8500, 'stream tombstones': 0 };
  const warmUp = samples([start, now]).map((s) => ({ ...s, measured: false }));
  const churned = { rounds: 3, podsBound: 300, podsByExtender: 75, seconds: 10 };
  const line = progressLine(warmUp, churned, { warmUpMs: 480_000, measureMs: 600_000, smallBounds: true });
  expect(line).toBe(
    'warm-up 10/480 s; 300 pods churned (30.0/s); attempt records full, attempt explanations 120/200, settled pod uids full, watch ring 1500/2000, stream tombstones none evicted yet',
  );
  // In the window, at the default bounds.
  const windowed = samples([start, now, { ...now, 'stream tombstones': 3 }]).map((s, i) => ({ ...s, atSeconds: i * 300 }));
  expect(progressLine(windowed, churned, { warmUpMs: 480_000, measureMs: 600_000, smallBounds: false })).toMatch(
    /^window 2\.0\/10\.0 min; 300 pods churned \(30\.0\/s\); attempt records 500\/50000, .*stream tombstones none evicted yet$/,
  );
});
