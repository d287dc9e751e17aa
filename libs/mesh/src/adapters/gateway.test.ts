// GatewayPlugins.serves over real gRPC on loopback, against a stand-in for the
// gateway service that answers ListPlugins only when the test lets it (the
// real gateway cannot hold its answer back, and that is what shows how many
// calls concurrent attempts make).
import { afterEach, describe, expect, test } from '@jest/globals';
import { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import { ListPluginsResponse } from '@schedmesh/proto/v1/gateway';
import { ExtensionPoint } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import { createServer, ServerError, Status } from 'nice-grpc';
import type { Channel, Server } from 'nice-grpc';
import { GatewayPlugins } from './gateway.js';

const FILTER_ONLY = ListPluginsResponse.fromPartial({ plugins: [{ name: 'f', points: [ExtensionPoint.EXTENSION_POINT_FILTER] }], configVersion: 'v1' });

interface StandIn {
  readonly plugins: GatewayPlugins;
  /** ListPlugins calls received. */
  calls(): number;
  /** Answers every call waiting (and later ones at once) with `res`, or fails them. */
  answer(res: ListPluginsResponse | 'unavailable'): void;
}

let server: Server | undefined;
let channel: Channel | undefined;
afterEach(async () => {
  channel?.close();
  await server?.shutdown();
});

async function standIn(clock: { now: number }): Promise<StandIn> {
  let calls = 0;
  let release: (res: ListPluginsResponse | 'unavailable') => void = () => undefined;
  let answered = new Promise<ListPluginsResponse | 'unavailable'>((resolve) => (release = resolve));
  server = createServer();
  server.add(GatewayServiceDefinition, {
    invoke: () => Promise.reject(new ServerError(Status.UNIMPLEMENTED, 'not in this test')),
    listPlugins: async () => {
      calls++;
      const res = await answered;
      if (res === 'unavailable') throw new ServerError(Status.UNAVAILABLE, 'plugins not loaded');
      return res;
    },
  });
  const port = await server.listen('127.0.0.1:0');
  channel = connectChannel(`127.0.0.1:${port}`);
  const client = createServiceClient(GatewayServiceDefinition, channel, { defaultDeadlineMs: 10_000, retryMaxAttempts: 1 });
  return {
    plugins: new GatewayPlugins(client, { pointsTtlMs: 5_000, now: () => clock.now }),
    calls: () => calls,
    answer: (res) => {
      release(res);
      answered = Promise.resolve(res);
    },
  };
}

describe('GatewayPlugins.serves', () => {
  test('attempts that find the list stale together share one ListPlugins call; it is reused for its TTL, then asked again', async () => {
    const clock = { now: 0 };
    const gw = await standIn(clock);
    const signal = AbortSignal.timeout(15_000);
    // A signal per caller, as each attempt has its own (16 listeners on one signal would trip Node's leak warning).
    const asked = Array.from({ length: 16 }, (_, i) =>
      gw.plugins.serves(i % 2 ? ExtensionPoint.EXTENSION_POINT_FILTER : ExtensionPoint.EXTENSION_POINT_PRE_BIND, AbortSignal.timeout(15_000)),
    );
    gw.answer(FILTER_ONLY);
    const answers = await Promise.all(asked);
    expect(answers.filter(Boolean)).toHaveLength(8);
    expect(gw.calls()).toBe(1);

    clock.now = 5_000;
    await expect(gw.plugins.serves(ExtensionPoint.EXTENSION_POINT_FILTER, signal)).resolves.toBe(true);
    expect(gw.calls()).toBe(1);
    clock.now = 5_001;
    await expect(gw.plugins.serves(ExtensionPoint.EXTENSION_POINT_SCORE, signal)).resolves.toBe(false);
    expect(gw.calls()).toBe(2);
  }, 30_000);

  test('an attempt whose signal aborts stops waiting; the others get the shared answer', async () => {
    const gw = await standIn({ now: 0 });
    const cancelled = new AbortController();
    const gaveUp = gw.plugins.serves(ExtensionPoint.EXTENSION_POINT_FILTER, cancelled.signal);
    const waits = gw.plugins.serves(ExtensionPoint.EXTENSION_POINT_FILTER, AbortSignal.timeout(15_000));
    cancelled.abort(new Error('attempt cancelled'));
    await expect(gaveUp).rejects.toThrow('attempt cancelled');
    gw.answer(FILTER_ONLY);
    await expect(waits).resolves.toBe(true);
    expect(gw.calls()).toBe(1);
  }, 30_000);

  test('a failed ListPlugins fails the attempts that shared it, and the next attempt asks again', async () => {
    const gw = await standIn({ now: 0 });
    const signal = AbortSignal.timeout(15_000);
    const shared = [gw.plugins.serves(ExtensionPoint.EXTENSION_POINT_FILTER, signal), gw.plugins.serves(ExtensionPoint.EXTENSION_POINT_SCORE, signal)];
    gw.answer('unavailable');
    for (const s of shared) await expect(s).rejects.toThrow('plugins not loaded');
    expect(gw.calls()).toBe(1);
    gw.answer(FILTER_ONLY);
    await expect(gw.plugins.serves(ExtensionPoint.EXTENSION_POINT_FILTER, signal)).resolves.toBe(true);
    expect(gw.calls()).toBe(2);
  }, 30_000);
});
