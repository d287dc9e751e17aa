import { expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { sharedServers, startNats, startRedis } from './servers.js';

test('the shared Redis from the global set-up answers', async () => {
  const redis = new Redis(sharedServers().redisUrl, { lazyConnect: true });
  await redis.connect();
  await redis.set('testkit:ping', 'pong');
  expect(await redis.get('testkit:ping')).toBe('pong');
  redis.disconnect();
});

test('the shared NATS from the global set-up has JetStream', async () => {
  const nc = await connect({ servers: sharedServers().natsUrl });
  const jsm = await jetstreamManager(nc);
  const name = `TESTKIT_${process.pid}`;
  await jsm.streams.add({ name, subjects: [`testkit.${process.pid}`] });
  const ack = await jetstream(nc).publish(`testkit.${process.pid}`, 'x', { msgID: 'one' });
  const dup = await jetstream(nc).publish(`testkit.${process.pid}`, 'x', { msgID: 'one' });
  expect(ack.seq).toBe(1);
  expect(dup.duplicate).toBe(true);
  await jsm.streams.delete(name);
  await nc.close();
});

test('a restarted Redis comes back empty on the same port', async () => {
  const server = await startRedis();
  try {
    const redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 20, retryStrategy: () => 20 });
    await redis.connect();
    await redis.set('k', 'v');
    await server.restart();
    expect(await redis.get('k')).toBeNull();
    redis.disconnect();
  } finally {
    await server.stop();
  }
});

test('a restarted NATS keeps its JetStream data', async () => {
  const server = await startNats();
  try {
    let nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'KEEP', subjects: ['keep'] });
    await jetstream(nc).publish('keep', 'a');
    await nc.close();
    await server.restart();
    nc = await connect({ servers: server.url });
    expect((await (await jetstreamManager(nc)).streams.info('KEEP')).state.messages).toBe(1);
    await nc.close();
  } finally {
    await server.stop();
  }
});
