import { expect, test } from '@jest/globals';
import { ConfigError, loadConfig } from '@schedmesh/runtime';
import { reservationConfigSchema } from './config.js';

test('defaults, and the environment mapping of every reservation key', () => {
  const config = loadConfig(reservationConfigSchema, {
    env: {
      SCHEDMESH_REDIS__URL: 'redis://10.0.0.1:6380',
      SCHEDMESH_NATS__URL: 'nats://10.0.0.2:4222',
      SCHEDMESH_NATS__STREAM: 'CLUSTER',
      SCHEDMESH_NATS__TOKEN: 's3cret',
      SCHEDMESH_RESERVATION__DEFAULT_TTL: '45s',
      SCHEDMESH_RESERVATION__SWEEP_INTERVAL: '250ms',
      SCHEDMESH_RESERVATION__PERMIT_DEFAULT_TIMEOUT: '2m',
      SCHEDMESH_RESERVATION__CONFIRMED_TTL: '30m',
      SCHEDMESH_RESERVATION__GANG_MEMBER_WAIT: '5s',
    },
  });
  expect(config.redis).toEqual({ url: 'redis://10.0.0.1:6380', keyPrefix: 'schedmesh:rsv', commandTimeout: 2_000, checkInterval: 500, waitReplicas: 0, waitTimeout: 200, restoreWait: 120_000 });
  expect(config.nats).toEqual({ url: 'nats://10.0.0.2:4222', stream: 'CLUSTER', subjectPrefix: 'schedmesh.cluster', memoryStorage: false, replicas: 1, token: 's3cret' });
  expect(config.reservation).toEqual({ defaultTtl: 45_000, confirmedTtl: 1_800_000, sweepInterval: 250, permitDefaultTimeout: 120_000, permitPollInterval: 500, gangMemberWait: 5_000, nodeWait: 2_000 });
  expect(loadConfig(reservationConfigSchema, { env: {} }).nats.stream).toBe('SCHEDMESH_CLUSTER');
});

test.each([
  ['SCHEDMESH_RESERVATION__DEFAULT_TTL', '500ms', 'reservation.defaultTtl'],
  ['SCHEDMESH_RESERVATION__DEFAULT_TTL', '16m', 'reservation.defaultTtl'],
  ['SCHEDMESH_RESERVATION__PERMIT_DEFAULT_TIMEOUT', '1h', 'reservation.permitDefaultTimeout'],
  ['SCHEDMESH_RESERVATION__SWEEP_INTERVAL', '5ms', 'reservation.sweepInterval'],
  ['SCHEDMESH_RESERVATION__GANG_MEMBER_WAIT', '1m', 'reservation.gangMemberWait'],
  ['SCHEDMESH_RESERVATION__NODE_WAIT', '31s', 'reservation.nodeWait'],
  ['SCHEDMESH_REDIS__KEY_PREFIX', 'has space', 'redis.keyPrefix'],
  ['SCHEDMESH_RESERVATION__SWEEPER', '1s', 'reservation'],
  ['SCHEDMESH_NATS__STREAM_NAME', 'CLUSTER', 'nats'],
])('%s=%s is refused at start-up, naming %s', (name, value, key) => {
  expect(() => loadConfig(reservationConfigSchema, { env: { [name]: value } })).toThrow(ConfigError);
  expect(() => loadConfig(reservationConfigSchema, { env: { [name]: value } })).toThrow(key);
});

test('the Redis password comes from a file or from redis.url, never both', () => {
  const env = { SCHEDMESH_REDIS__PASSWORD_FILE: '/run/secrets/redis-password' };
  expect(loadConfig(reservationConfigSchema, { env }).redis.passwordFile).toBe('/run/secrets/redis-password');
  const both = { ...env, SCHEDMESH_REDIS__URL: 'redis://:hunter2@10.0.0.1:6379' };
  expect(() => loadConfig(reservationConfigSchema, { env: both })).toThrow(ConfigError);
  expect(() => loadConfig(reservationConfigSchema, { env: both })).toThrow('redis.passwordFile: redis.url carries a password too');
});
