// The physical floor, measured in the same run: the cheapest loopback gRPC
// round trip (the standard health Check, a unary method with a two-field
// message, served and called by nice-grpc as every service does) and a Redis
// round trip (PING, and SET of a short key) on the run's Redis. One call in
// flight at a time: what a single step of one attempt cannot go below.
import { performance } from 'node:perf_hooks';

import { Redis } from 'ioredis';
import { createChannel, createClient, createServer } from 'nice-grpc';
import { HealthDefinition, HealthState, HealthServiceImpl } from 'nice-grpc-server-health';

import { percentile } from './spans.js';

/** One floor: p50/p99 of a round trip, ms. */
export interface FloorFigures {
  readonly name: string;
  readonly rounds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function time(name: string, rounds: number, call: (i: number) => Promise<unknown>): Promise<FloorFigures> {
  for (let i = 0; i < Math.min(200, rounds); i++) await call(i); // warm-up: connections, JIT
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await call(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { name, rounds, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
}

/** The floors: gRPC unary round trip, Redis PING, Redis SET. */
export async function measureFloors(redisUrl: string, rounds: number): Promise<FloorFigures[]> {
  const server = createServer();
  server.add(HealthDefinition, HealthServiceImpl(HealthState()));
  const port = await server.listen('127.0.0.1:0');
  const channel = createChannel(`127.0.0.1:${port}`);
  const health = createClient(HealthDefinition, channel);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return [
      await time('gRPC unary (health Check, loopback)', rounds, () => health.check({ service: '' })),
      await time('Redis PING', rounds, () => redis.ping()),
      await time('Redis SET', rounds, (i) => redis.set(`bench-floor:${i % 100}`, 'x', 'PX', 60_000)),
    ];
  } finally {
    channel.close();
    await server.shutdown();
    redis.disconnect();
  }
}
