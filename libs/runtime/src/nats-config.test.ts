import { afterAll, expect, test } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { sharedServers } from '@schedmesh/testkit';
import { createLogger } from './logger.js';
import { clusterStreamOptions, connectNatsFrom, ensureClusterStreamFrom, natsConfigSchema } from './nats-config.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const name = `NATSCFG_T_${process.pid}`;

test('one NATS block: defaults, stream options, and a bad replica count refused', () => {
  expect(natsConfigSchema.parse({})).toEqual({ url: 'nats://127.0.0.1:4222', stream: 'SCHEDMESH_CLUSTER', subjectPrefix: 'schedmesh.cluster', memoryStorage: false, replicas: 1 });
  expect(clusterStreamOptions(natsConfigSchema.parse({ stream: 'S', subjectPrefix: 'p', memoryStorage: true, replicas: 3 }))).toEqual({ name: 'S', prefix: 'p', memory: true, replicas: 3 });
  expect(natsConfigSchema.safeParse({ replicas: 0 }).success).toBe(false);
  expect(natsConfigSchema.safeParse({ streamName: 'S' }).success).toBe(false);
});

afterAll(async () => {
  const nc = await connectNatsFrom(natsConfigSchema.parse({ url: sharedServers().natsUrl }), 'cleanup', logger);
  await (await jetstreamManager(nc)).streams.delete(name).catch(() => false);
  await nc.close();
});

test('ensureClusterStreamFrom creates the stream a NATS block names, once; connectNatsFrom reaches it', async () => {
  const config = natsConfigSchema.parse({ url: sharedServers().natsUrl, stream: name, subjectPrefix: `n${process.pid}.cluster`, memoryStorage: true });
  const created = await ensureClusterStreamFrom(config);
  expect(created.config).toMatchObject({ name, subjects: [`n${process.pid}.cluster.>`], storage: 'memory', num_replicas: 1 });
  const again = await ensureClusterStreamFrom(config);
  expect(again.created).toBe(created.created);
  const nc = await connectNatsFrom(config, 'test', logger);
  expect((await (await jetstreamManager(nc)).streams.info(name)).config.name).toBe(name);
  await nc.close();
});
