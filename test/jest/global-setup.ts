// Starts one real redis-server and one real nats-server (JetStream) on free
// loopback ports for the whole test run and hands their URLs to the tests
// through the environment. Tests that restart a server start their own.
import { startNats, startRedis, testEnvKeys } from '../../libs/testkit/src/servers';
import type { TestServer } from '../../libs/testkit/src/servers';

declare global {
  var __schedmeshServers: TestServer[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const [redis, nats] = await Promise.all([startRedis(), startNats()]);
  process.env[testEnvKeys.redisUrl] = redis.url;
  process.env[testEnvKeys.natsUrl] = nats.url;
  globalThis.__schedmeshServers = [redis, nats];
}
