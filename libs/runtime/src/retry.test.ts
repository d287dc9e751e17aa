// Retries follow the proto's idempotency marks: a NO_SIDE_EFFECTS method is
// retried on UNAVAILABLE, a method with side effects never is.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { ServerError, Status } from 'nice-grpc';
import type { Channel } from 'nice-grpc';
import { QueueState, ScheduleResult, SchedulerServiceDefinition } from '@schedmesh/proto/v1/scheduler';
import { connectChannel, createServiceClient } from './grpc-client.js';
import { createGrpcServer } from './grpc-server.js';
import type { GrpcServer } from './grpc-server.js';
import { createLogger } from './logger.js';

let server: GrpcServer;
let channel: Channel;
const calls = { schedule: 0, status: 0 };
let failuresLeft = 0;

beforeAll(async () => {
  server = createGrpcServer({ logger: createLogger({ service: 'test', level: 'silent' }) });
  const flaky = (): void => {
    if (failuresLeft > 0) {
      failuresLeft--;
      throw new ServerError(Status.UNAVAILABLE, 'try again');
    }
  };
  server.add(SchedulerServiceDefinition, {
    async schedule() {
      calls.schedule++;
      flaky();
      return { result: ScheduleResult.SCHEDULE_RESULT_SCHEDULED, nodeName: 'n1', nominatedNodeName: '', message: '', generation: 1, fencingVersion: 1, steps: [], traceId: '' };
    },
    async getSchedulingStatus() {
      calls.status++;
      flaky();
      return { state: QueueState.QUEUE_STATE_BOUND, attempts: 1, message: '', nodeName: 'n1', lastTraceId: '' };
    },
    async getQueueStatus() {
      return {};
    },
  });
  const port = await server.listen('127.0.0.1:0');
  server.setServing(true);
  channel = connectChannel(`127.0.0.1:${port}`);
});
afterAll(async () => {
  channel.close();
  await server.shutdown(500);
});

test('a NO_SIDE_EFFECTS method is retried on UNAVAILABLE', async () => {
  const client = createServiceClient(SchedulerServiceDefinition, channel, { retryMaxAttempts: 3, retryBaseDelayMs: 5 });
  calls.status = 0;
  failuresLeft = 2;
  await expect(client.getSchedulingStatus({ uid: 'u' })).resolves.toMatchObject({ nodeName: 'n1' });
  expect(calls.status).toBe(3);
});

test('retries stop at the configured attempts', async () => {
  const client = createServiceClient(SchedulerServiceDefinition, channel, { retryMaxAttempts: 2, retryBaseDelayMs: 5 });
  calls.status = 0;
  failuresLeft = 5;
  await expect(client.getSchedulingStatus({ uid: 'u' })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
  expect(calls.status).toBe(2);
  failuresLeft = 0;
});

test('a method with side effects (Schedule) is never retried', async () => {
  const client = createServiceClient(SchedulerServiceDefinition, channel, { retryMaxAttempts: 3, retryBaseDelayMs: 5 });
  calls.schedule = 0;
  failuresLeft = 1;
  await expect(client.schedule({ pod: { uid: 'u', name: 'p', namespace: 'd' } })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
  expect(calls.schedule).toBe(1);
  failuresLeft = 0;
});
