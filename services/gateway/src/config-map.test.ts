// The plugin ConfigMap, carried by the informer on the cluster stream,
// reconfigures a running gateway; an invalid version is refused.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { ensureClusterStream, publishClusterEvent } from '@schedmesh/runtime';
import { pollUntil, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { startGatewayService } from './app.js';
import type { GatewayServiceHandle } from './app.js';
import { gatewayConfigSchema } from './config.js';
import { pluginsYaml } from './testing/builders.js';

let nats: TestServer;
let nc: NatsConnection;
let service: GatewayServiceHandle;

const configMap = (data: Record<string, string>, rv: string): ClusterEvent =>
  ClusterEvent.fromPartial({
    type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT,
    object: { $case: 'configMap', value: { namespace: 'schedmesh-system', name: 'schedmesh-plugins', resourceVersion: rv, data } },
  });

/** Waits for the condition, with a limit generous enough for two busy cores. */
const until = async (what: string, predicate: () => boolean | Promise<boolean>): Promise<void> => {
  await pollUntil(async () => ((await predicate()) ? true : undefined), { what, timeoutMs: 30_000, intervalMs: 20 });
};

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  // The gateway starts before the stream exists; it must keep trying.
  service = await startGatewayService(
    gatewayConfigSchema.parse({
      grpc: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      shutdown: { grace: '1s' },
      nats: { url: nats.url },
    }),
    { handleSignals: false },
  );
});

afterAll(async () => {
  await service.stop();
  await nc.close();
  await nats.stop();
});

test('each ConfigMap version reconfigures the gateway; an invalid one leaves the one in force', async () => {
  // Not ready while the stream (and so the ConfigMap in force) is unknown; ready once it is read.
  const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${service.httpPort}/readyz`)).status;
  expect(await readyz()).toBe(503);
  await ensureClusterStream(await jetstreamManager(nc));
  await until('the gateway ready', async () => (await readyz()) === 200);
  const js = jetstream(nc);
  const names = () => service.gateway.listPlugins().plugins.map((p) => p.name);

  await publishClusterEvent(js, configMap({ 'plugins.yaml': pluginsYaml([{ name: 'cost', endpoint: 'http://127.0.0.1:1/cost', extensionPoints: ['filter'] }]) }, '1'));
  await until('the ConfigMap\'s plugin in force', () => names().join() === 'cost');

  const twoPlugins = { 'plugins.yaml': pluginsYaml([{ name: 'cost', endpoint: 'http://127.0.0.1:1/cost', extensionPoints: ['filter'] }, { name: 'quota', endpoint: 'http://127.0.0.1:1/quota', extensionPoints: ['preFilter'] }]) };
  await publishClusterEvent(js, configMap(twoPlugins, '2'));
  await until('the edited ConfigMap in force', () => names().join() === 'cost,quota');

  const before = service.gateway.listPlugins().version;
  expect(before).toMatch(/^[0-9a-f]{16}$/);
  await publishClusterEvent(js, configMap({ 'plugins.yaml': 'plugins:\n- name: broken\n  type: rest\n  endpoint: not a url\n  bogus: 1\n' }, '3'));
  await publishClusterEvent(js, configMap({ other: 'x' }, '4'));
  // Version 5 repeats version 2: once it is seen (an "unchanged" reload), versions 3 and 4 have been handled.
  await publishClusterEvent(js, configMap(twoPlugins, '5'));
  const reloads = async (): Promise<string> => (await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text()).split('\n').filter((l) => l.startsWith('schedmesh_gateway_config_reloads_total')).join('\n');
  await until('an unchanged reload counted', async () => /result="unchanged"[^}]*\} 1/.test(await reloads()));
  expect(names()).toEqual(['cost', 'quota']);
  expect(service.gateway.listPlugins().version).toBe(before);

  const metrics = await reloads();
  expect(metrics).toMatch(/schedmesh_gateway_config_reloads_total\{source="configmap",result="rejected"[^}]*\} 1/);
  expect(metrics).toMatch(/schedmesh_gateway_config_reloads_total\{source="configmap",result="applied"[^}]*\} 2/);
}, 90_000);
