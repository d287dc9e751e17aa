import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { pollUntil, startRedis } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { Redis } from 'ioredis';
import { createLogger } from './logger.js';
import { connectRedis } from './redis.js';

let server: TestServer;
let admin: Redis;
let dir: string;
const logger = createLogger({ service: 'redis-test', level: 'silent' });

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url);
  dir = mkdtempSync(join(tmpdir(), 'schedmesh-redis-secret-'));
});

afterAll(async () => {
  admin.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the password comes from a file, and a rotated file is read again at the next reconnect (review L2)', async () => {
  const file = join(dir, 'password');
  await admin.config('SET', 'requirepass', 'first-secret');
  await admin.auth('first-secret');
  writeFileSync(file, 'first-secret\n');
  const redis = await connectRedis({ url: server.url, name: 'redis-test', logger, passwordFile: file });
  try {
    expect(await redis.set('k', 'v')).toBe('OK');
    // The Secret rotates: the server takes the new password, the file holds it, the connection drops.
    await admin.config('SET', 'requirepass', 'second-secret');
    writeFileSync(file, 'second-secret\n');
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await pollUntil(async () => ((await redis.get('k').catch(() => undefined)) === 'v' ? true : undefined), { what: 'commands with the rotated password', timeoutMs: 15_000 });
  } finally {
    redis.disconnect();
    await admin.config('SET', 'requirepass', '');
  }
}, 30_000);

test('an unreadable password file fails the start, naming the key and the path, not the content', async () => {
  const missing = join(dir, 'absent');
  await expect(connectRedis({ url: server.url, name: 'redis-test', logger, passwordFile: missing })).rejects.toThrow(`redis.passwordFile: cannot read ${missing}: ENOENT`);
});
