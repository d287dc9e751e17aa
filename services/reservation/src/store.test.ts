import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@jest/globals';
import { ConfigError } from '@schedmesh/runtime';
import { freePort, requireServerBinary, sharedServers, spawnManaged, waitReady } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { compareVersions, MIN_REDIS_VERSION, RedisStore } from './store.js';

test.each([
  ['6.2.0', '6.2.0', 0],
  ['7.0.15', '6.2.0', 1],
  ['6.10.0', '6.2.0', 1],
  ['6.0.16', '6.2.0', -1],
  ['5.0.7', '6.2.0', -1],
  ['6.2', '6.2.0', 0],
])('compareVersions(%s, %s) has the sign of %d', (a, b, sign) => {
  expect(Math.sign(compareVersions(a, b))).toBe(sign);
});

test(`the Redis of the tests (${MIN_REDIS_VERSION} or later, standalone) is accepted`, async () => {
  const redis = new Redis(sharedServers().redisUrl);
  try {
    await expect(new RedisStore(redis).requireSupportedServer()).resolves.toBeUndefined();
  } finally {
    redis.disconnect();
  }
});

test('a Redis Cluster node is refused at start with a message naming redis.url and what to run instead (review L6)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'schedmesh-redis-cluster-'));
  const port = await freePort();
  const server = spawnManaged({
    name: 'redis-cluster-node',
    command: requireServerBinary('redis-server'),
    args: ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--save', '', '--appendonly', 'no', '--dir', dir],
    logPath: join(dir, 'redis.log'),
  });
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await waitReady(server, 'redis-server --cluster-enabled yes', 30_000, async () => ((await redis.ping()) === 'PONG' ? true : undefined));
    const refused = new RedisStore(redis).requireSupportedServer();
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(refused).rejects.toThrow(/redis\.url: the server is a Redis Cluster node; Redis Cluster is not supported/);
  } finally {
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
