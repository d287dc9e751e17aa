import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ClientError, Status } from 'nice-grpc';
import type { Channel } from 'nice-grpc';
import { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import type { GatewayServiceClient, InvokeRequest } from '@schedmesh/proto/v1/gateway';
import { Code, ExtensionPoint } from '@schedmesh/proto/v1/types';
import type { DeepPartial } from '@schedmesh/proto/v1/types';
import { ConfigError, connectChannel, createServiceClient } from '@schedmesh/runtime';
import type { MeshCallOptions } from '@schedmesh/runtime';
import { pollUntil } from '@schedmesh/testkit';
import { startExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { ExamplePlugin } from '@schedmesh/rest-plugin-example';
import { startGatewayService } from './app.js';
import type { GatewayServiceHandle } from './app.js';
import { gatewayConfigSchema } from './config.js';
import { makeNodes, makePod, pluginsYaml } from './testing/builders.js';

let dir: string;
let pluginsFile: string;
let cost: ExamplePlugin;
let slow: ExamplePlugin;
let service: GatewayServiceHandle;
let channel: Channel;
let client: GatewayServiceClient<MeshCallOptions>;

const config = (file: string): ReturnType<typeof gatewayConfigSchema.parse> =>
  gatewayConfigSchema.parse({
    grpc: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    shutdown: { grace: '1s' },
    gateway: { pluginsFile: file, watchDebounce: '50ms' },
  });
const definitions = (): Array<Record<string, unknown>> => [
  { name: 'cost', endpoint: cost.url, extensionPoints: ['filter', 'score', 'preBind'], weight: 2 },
  { name: 'slow', endpoint: slow.url, extensionPoints: ['permit'], timeout: '10s' },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-grpc-'));
  cost = await startExamplePlugin();
  slow = await startExamplePlugin({ decide: () => ({ body: { apiVersion: 'schedmesh.io/plugin/v1' }, delayMs: 5000 }) });
  pluginsFile = join(dir, 'plugins.yaml');
  writeFileSync(pluginsFile, pluginsYaml(definitions()));
  service = await startGatewayService(config(pluginsFile), { handleSignals: false });
  channel = connectChannel(`127.0.0.1:${service.grpcPort}`);
  client = createServiceClient(GatewayServiceDefinition, channel, { retryMaxAttempts: 1 });
});
afterAll(async () => {
  channel.close();
  await service.stop();
  await Promise.all([cost.close(), slow.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('GatewayService over loopback gRPC', () => {
  test('Invoke at filter: feasible nodes, per-plugin results with rejections and a duration', async () => {
    const nodes = makeNodes(3, (i) => (i === 1 ? { 'schedmesh.io/cost-tier': 'premium' } : {}));
    const reply = await client.invoke({ point: ExtensionPoint.EXTENSION_POINT_FILTER, pod: makePod(), nodes });
    expect(reply.status).toEqual({ code: Code.CODE_SUCCESS, reasons: [], plugin: '' });
    expect(reply.feasible).toEqual(['node-0', 'node-2']);
    expect(reply.results).toHaveLength(1);
    const [result] = reply.results;
    expect(result).toMatchObject({ plugin: 'cost', status: { code: Code.CODE_SUCCESS }, cached: false });
    expect(result!.rejected).toEqual([
      { nodeName: 'node-1', status: { code: Code.CODE_UNSCHEDULABLE, reasons: ['premium node reserved for premium cost centers'], plugin: 'cost' } },
    ]);
    expect(result!.duration!.seconds * 1e9 + result!.duration!.nanos).toBeGreaterThan(0);
  });

  test('Invoke at score and preBind: weighted scores and the patch', async () => {
    const nodes = makeNodes(2, (i) => ({ 'schedmesh.io/hourly-cost': String(10 + i) }));
    const scored = await client.invoke({ point: ExtensionPoint.EXTENSION_POINT_SCORE, pod: makePod(), nodes });
    expect(scored.scores).toEqual({ 'node-0': 200, 'node-1': 0 });
    const bound = await client.invoke({ point: ExtensionPoint.EXTENSION_POINT_PRE_BIND, pod: makePod(), nodes: nodes.slice(0, 1) });
    expect(bound.patch).toEqual({ labels: { 'schedmesh.io/cost-tracked': 'true' }, annotations: { 'schedmesh.io/cost-center': 'cc-42' } });
  });

  test('a node named after an Object.prototype member ("constructor") is scored and filtered like any other', async () => {
    const nodes = makeNodes(2, (i) => ({ 'schedmesh.io/hourly-cost': String(10 + i), ...(i === 0 ? { 'schedmesh.io/cost-tier': 'premium' } : {}) })).map((n, i) =>
      i === 0 ? { ...n, name: 'constructor' } : n,
    );
    const scored = await client.invoke({ point: ExtensionPoint.EXTENSION_POINT_SCORE, pod: makePod(), nodes });
    expect(scored.scores).toEqual({ constructor: 200, 'node-1': 0 });
    const filtered = await client.invoke({ point: ExtensionPoint.EXTENSION_POINT_FILTER, pod: makePod(), nodes });
    expect(filtered.feasible).toEqual(['node-1']);
    expect(filtered.results[0]!.rejected.map((r) => r.nodeName)).toEqual(['constructor']);
  });

  test('ListPlugins: the plugins in force with their breaker state and the config version', async () => {
    const reply = await client.listPlugins({});
    expect(reply.configVersion).toBe(service.gateway.version);
    expect(reply.plugins).toEqual([
      {
        name: 'cost',
        protocol: 'schedmesh.io/plugin/v1',
        points: [ExtensionPoint.EXTENSION_POINT_FILTER, ExtensionPoint.EXTENSION_POINT_SCORE, ExtensionPoint.EXTENSION_POINT_PRE_BIND],
        defaultPoints: false,
        failurePolicy: 'Fail',
        breakerState: 'closed',
        tenants: [],
      },
      { name: 'slow', protocol: 'schedmesh.io/plugin/v1', points: [ExtensionPoint.EXTENSION_POINT_PERMIT], defaultPoints: false, failurePolicy: 'Fail', breakerState: 'closed', tenants: [] },
    ]);
  });

  test('ListPlugins: each plugin\'s protocol, and its points as configured or as its protocol\'s defaults', async () => {
    const file = join(dir, 'protocols.yaml');
    writeFileSync(
      file,
      pluginsYaml([
        { name: 'seed-cost', type: 'rest', endpoint: cost.url, timeout: '5000ms', retry: 3 },
        { name: 'compliance', protocol: 'verdict', endpoint: cost.url, failurePolicy: 'Fail' },
        { name: 'compliance-nodes', protocol: 'verdict', endpoint: cost.url, extensionPoints: ['filter'], failurePolicy: 'Ignore' },
        { name: 'tags', protocol: 'operation', endpoint: cost.url, tenants: ['team-a'] },
        { name: 'apply-policy', protocol: 'dstack-apply-policy', endpoint: cost.url, failurePolicy: 'Fail' },
      ]),
    );
    const other = await startGatewayService(config(file), { handleSignals: false });
    const otherChannel = connectChannel(`127.0.0.1:${other.grpcPort}`);
    try {
      const reply = await createServiceClient(GatewayServiceDefinition, otherChannel, { retryMaxAttempts: 1 }).listPlugins({});
      const { EXTENSION_POINT_PRE_FILTER: PRE_FILTER, EXTENSION_POINT_FILTER: FILTER, EXTENSION_POINT_PRE_BIND: PRE_BIND } = ExtensionPoint;
      expect(reply.plugins.map((p) => [p.name, p.protocol, p.points, p.defaultPoints, p.failurePolicy, p.tenants])).toEqual([
        ['seed-cost', 'schedmesh.io/plugin/v1', [PRE_FILTER, PRE_BIND], true, 'Fail', []],
        ['compliance', 'verdict', [PRE_FILTER], true, 'Fail', []],
        ['compliance-nodes', 'verdict', [FILTER], false, 'Ignore', []],
        ['tags', 'operation', [PRE_BIND], true, 'Fail', ['team-a']],
        ['apply-policy', 'dstack-apply-policy', [PRE_FILTER, PRE_BIND], true, 'Fail', []],
      ]);
    } finally {
      otherChannel.close();
      await other.stop();
    }
  });

  test.each<[string, DeepPartial<InvokeRequest>, string]>([
    ['an unspecified extension point', { pod: { uid: 'u' } }, 'point: must be set'],
    ['no pod', { point: ExtensionPoint.EXTENSION_POINT_FILTER }, 'pod: must be set'],
    ['a pod without uid', { point: ExtensionPoint.EXTENSION_POINT_FILTER, pod: { name: 'web-0' } }, 'pod.uid: must not be empty'],
    ['a node without a name', { point: ExtensionPoint.EXTENSION_POINT_FILTER, pod: { uid: 'u' }, nodes: [{ name: 'n1' }, { uid: 'x' }] }, 'nodes[1].name: must not be empty'],
    ['a node twice', { point: ExtensionPoint.EXTENSION_POINT_FILTER, pod: { uid: 'u' }, nodes: [{ name: 'n1' }, { name: 'n1' }] }, 'nodes[1].name: duplicate node "n1"'],
    ['a node named __proto__', { point: ExtensionPoint.EXTENSION_POINT_SCORE, pod: { uid: 'u' }, nodes: [{ name: 'n1' }, { name: '__proto__' }] }, 'nodes[1].name: not a valid node name: "__proto__"'],
    ['an unknown plugin', { point: ExtensionPoint.EXTENSION_POINT_FILTER, pod: { uid: 'u' }, plugins: ['nope'] }, 'plugins[0]: unknown plugin "nope"'],
  ])('%s is INVALID_ARGUMENT naming the field', async (_what, request, details) => {
    const err = await client.invoke(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: Status.INVALID_ARGUMENT, details });
  });

  test('the caller\'s deadline cancels the plugin\'s HTTP request', async () => {
    const started = Date.now();
    await expect(client.invoke({ point: ExtensionPoint.EXTENSION_POINT_PERMIT, pod: makePod(), nodes: makeNodes(1) }, { deadline: new Date(Date.now() + 200) })).rejects.toMatchObject({
      code: Status.DEADLINE_EXCEEDED,
    });
    // The plugin answers after 5 s: returning well before that is the cancellation, on however busy a machine.
    expect(Date.now() - started).toBeLessThan(4000);
    await pollUntil(async () => (slow.requests[0]?.aborted ? true : undefined), { what: 'the plugin sees its request aborted', timeoutMs: 30_000, intervalMs: 20 });
    expect(slow.requests).toHaveLength(1);
  }, 60_000);

  test('/metrics exposes the gateway metrics on the service registry', async () => {
    const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
    expect(text).toMatch(/schedmesh_gateway_plugin_call_duration_seconds_bucket\{[^}]*plugin="cost"[^}]*point="filter"[^}]*outcome="success"/);
    expect(text).toMatch(/schedmesh_gateway_plugin_breaker_state\{[^}]*plugin="cost"[^}]*\} 0/);
    expect(text).toMatch(/schedmesh_gateway_config_reloads_total\{[^}]*source="file"[^}]*result="applied"[^}]*\} 1/);
  });

  test('editing the plugins file changes what ListPlugins reports, without a restart', async () => {
    writeFileSync(pluginsFile, pluginsYaml([{ ...definitions()[0], failurePolicy: 'Ignore', tenants: ['team-a'] }]));
    const reply = await pollUntil(
      async () => {
        const r = await client.listPlugins({});
        return r.plugins.length === 1 ? r : undefined;
      },
      { what: 'the gateway reloads the edited plugins file', timeoutMs: 30_000, intervalMs: 25 },
    );
    expect(reply.plugins).toEqual([expect.objectContaining({ name: 'cost', failurePolicy: 'Ignore', tenants: ['team-a'] })]);
  }, 60_000);
});

test('an invalid plugins file stops start-up with the field named', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'plugins:\n- name: x\n  type: rest\n  endpoint: http://127.0.0.1:1/\n  extensionPoints: [filter]\n  weigth: 2\n');
  const err = await startGatewayService(config(bad), { handleSignals: false }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).issues).toEqual([`plugins[0].weigth: unknown field (plugin "x") (in ${bad})`]);
});
