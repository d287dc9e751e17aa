import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Ajv2020 from 'ajv/dist/2020';
import { Code } from '@schedmesh/proto/v1/types';
import type { Pod } from '@schedmesh/proto/v1/types';
import { startExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { ExamplePlugin, Reply } from '@schedmesh/rest-plugin-example';
import type { Gateway } from './gateway.js';
import type { PointName } from './points.js';
import { podUser } from './protocol-dstack.js';
import { makeNodes, makePod, metricValue, newGateway, pluginsYaml } from './testing/builders.js';

// Contract tests of the verdict, operation and dstack apply-policy protocols:
// a real gateway calls a real HTTP plugin; what it sends and what the plugin
// answers are checked against the JSON Schema files published in schema/.

const ajv = new Ajv2020({ allErrors: true, strict: false });
const schemaFile = (name: string): object => JSON.parse(readFileSync(join(__dirname, '..', 'schema', name), 'utf8')) as object;
const validator = (name: string) => ajv.compile(schemaFile(name));
const schemas = {
  v1Request: validator('plugin-request.v1.schema.json'),
  verdict: validator('verdict-response.schema.json'),
  operation: validator('operation-response.schema.json'),
  dstackRequest: validator('dstack-apply-policy-request.schema.json'),
  dstackResponse: validator('dstack-apply-policy-response.schema.json'),
};

const running: { plugins: ExamplePlugin[]; gateways: Gateway[] } = { plugins: [], gateways: [] };
afterEach(async () => {
  await Promise.all(running.gateways.splice(0).map((g) => g.close()));
  await Promise.all(running.plugins.splice(0).map((p) => p.close()));
});

async function pluginAnswering(decide: () => Reply): Promise<ExamplePlugin> {
  const p = await startExamplePlugin({ decide });
  running.plugins.push(p);
  return p;
}

async function gatewayWith(plugins: Array<Record<string, unknown>>, options: Parameters<typeof newGateway>[1] = {}): ReturnType<typeof newGateway> {
  const made = await newGateway(pluginsYaml(plugins), options);
  running.gateways.push(made.gateway);
  return made;
}

const invoke = (g: Gateway, point: PointName, pod: Pod = makePod()) => g.invoke({ point, pod, nodes: makeNodes(2), plugins: [] }, new AbortController().signal);

describe('verdict protocol: {allowed, reason}', () => {
  test('the source design\'s refusal is UnschedulableAndUnresolvable with its reason; at filter it rejects every node', async () => {
    const answer = { allowed: false, reason: 'Missing security attestation' };
    expect(schemas.verdict(answer)).toBe(true);
    const p = await pluginAnswering(() => ({ body: answer }));
    const { gateway } = await gatewayWith([{ name: 'compliance', endpoint: p.url, protocol: 'verdict', extensionPoints: ['preFilter', 'filter'] }]);
    await expect(invoke(gateway, 'preFilter')).resolves.toMatchObject({
      code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
      plugin: 'compliance',
      reasons: ['Missing security attestation'],
    });
    const filtered = await invoke(gateway, 'filter');
    expect(filtered.feasible).toEqual([]);
    expect(filtered.results[0]!.rejected.map((r) => [r.node, r.reasons])).toEqual([
      ['node-0', ['Missing security attestation']],
      ['node-1', ['Missing security attestation']],
    ]);
    // The gateway sends verdict plugins the v1 request.
    for (const request of p.requests) expect(schemas.v1Request(request.body)).toBe(true);
  });

  test('each call is a CLIENT span naming the plugin and its protocol', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const p = await pluginAnswering(() => ({ body: { allowed: true } }));
    const { gateway } = await gatewayWith([{ name: 'compliance', endpoint: p.url, protocol: 'verdict' }], { tracer: provider.getTracer('protocols-test') });
    await invoke(gateway, 'preFilter');
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('gateway.plugin compliance');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toMatchObject({ 'schedmesh.plugin': 'compliance', 'schedmesh.plugin.protocol': 'verdict', 'schedmesh.extension_point': 'preFilter' });
    await provider.shutdown();
  });

  test.each([
    [{ allowed: true }, Code.CODE_SUCCESS, []],
    [{ allowed: true, reason: null }, Code.CODE_SUCCESS, []],
    [{ allowed: false }, Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, ['refused by the plugin (no reason given)']],
  ])('%j is %s', async (answer, code, reasons) => {
    expect(schemas.verdict(answer)).toBe(true);
    const p = await pluginAnswering(() => ({ body: answer }));
    const { gateway } = await gatewayWith([{ name: 'compliance', endpoint: p.url, protocol: 'verdict' }]);
    await expect(invoke(gateway, 'preFilter')).resolves.toMatchObject({ code, reasons });
  });
});

describe('operation protocol: {operation: "inject_tags", parameters}', () => {
  const costTags = { operation: 'inject_tags', parameters: { cost_center: 'rd-department-42', project_code: 'PX-2025-05' } };

  test('the source design\'s cost tags become the preBind patch, as labels by default', async () => {
    expect(schemas.operation(costTags)).toBe(true);
    const p = await pluginAnswering(() => ({ body: costTags }));
    const { gateway } = await gatewayWith([{ name: 'cost-tracking', endpoint: p.url, protocol: 'operation' }]);
    const result = await invoke(gateway, 'preBind');
    expect(result.code).toBe(Code.CODE_SUCCESS);
    expect(result.patch).toEqual({ labels: { cost_center: 'rd-department-42', project_code: 'PX-2025-05' }, annotations: {} });
    expect(p.requests[0]!.body.extensionPoint).toBe('preBind');
    expect(schemas.v1Request(p.requests[0]!.body)).toBe(true);
  });

  test('with injectTagsAs: annotations they become annotations, which may hold any value', async () => {
    const p = await pluginAnswering(() => ({ body: { operation: 'inject_tags', parameters: { 'example.com/owner': 'R&D department, floor 4' } } }));
    const { gateway } = await gatewayWith([{ name: 'owner', endpoint: p.url, protocol: 'operation', injectTagsAs: 'annotations' }]);
    expect((await invoke(gateway, 'preBind')).patch).toEqual({ labels: {}, annotations: { 'example.com/owner': 'R&D department, floor 4' } });
  });

  test('a tag value that is not a label value is a bad_response naming the tag', async () => {
    const p = await pluginAnswering(() => ({ body: { operation: 'inject_tags', parameters: { owner: 'R&D department' } } }));
    const { gateway } = await gatewayWith([{ name: 'owner', endpoint: p.url, protocol: 'operation' }]);
    const result = await invoke(gateway, 'preBind');
    expect(result).toMatchObject({ code: Code.CODE_ERROR, patch: { labels: {}, annotations: {} } });
    expect(result.results[0]!.failure).toMatchObject({ kind: 'bad_response', message: expect.stringMatching(/^parameters\.owner: .*\(tags are injected as labels\)$/) });
  });
});

describe('dstack apply-policy protocol: {user, project, spec} → {spec, error}', () => {
  const echo = (mutate: (spec: Record<string, unknown>) => void = () => undefined) => (request: unknown): Reply => {
    const { spec } = request as { spec: Record<string, unknown> };
    mutate(spec);
    return { body: { spec, error: null } };
  };

  async function dstackPlugin(decide: (request: unknown) => Reply): Promise<ExamplePlugin> {
    const p = await startExamplePlugin({ decide: (_body, received) => decide(received.body) });
    running.plugins.push(p);
    return p;
  }

  test('the request is {user, project, spec}: the pod\'s service account, its namespace, the pod', async () => {
    const p = await dstackPlugin(echo());
    const { gateway } = await gatewayWith([{ name: 'policy', endpoint: p.url, protocol: 'dstack-apply-policy' }]);
    const pod = makePod({ serviceAccountName: 'trainer' });
    expect((await invoke(gateway, 'preFilter', pod)).code).toBe(Code.CODE_SUCCESS);
    const body = p.requests[0]!.body as unknown as Record<string, unknown>;
    expect(schemas.dstackRequest(body)).toBe(true);
    expect(body).toMatchObject({ user: 'system:serviceaccount:team-a:trainer', project: 'team-a', spec: { uid: 'uid-web-0', name: 'web-0', labels: { 'cost-center': 'cc-42' } } });
    expect(podUser(makePod())).toBe('system:serviceaccount:team-a:default');
  });

  test('an error refuses the pod with it', async () => {
    const p = await dstackPlugin((request) => ({ body: { spec: (request as { spec: unknown }).spec, error: 'project team-a is over its GPU quota' } }));
    const { gateway } = await gatewayWith([{ name: 'policy', endpoint: p.url, protocol: 'dstack-apply-policy' }]);
    expect(schemas.dstackResponse({ spec: {}, error: 'x' })).toBe(true);
    await expect(invoke(gateway, 'preFilter')).resolves.toMatchObject({ code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasons: ['project team-a is over its GPU quota'] });
  });

  test('labels and annotations the policy adds or changes are the preBind patch; at preFilter they are only checked', async () => {
    const p = await dstackPlugin(
      echo((spec) => {
        spec.labels = { ...(spec.labels as object), 'cost-center': 'cc-7', tier: 'gold' };
        spec.annotations = { 'example.com/approved-by': 'policy' };
      }),
    );
    const { gateway } = await gatewayWith([{ name: 'policy', endpoint: p.url, protocol: 'dstack-apply-policy' }]);
    expect((await invoke(gateway, 'preFilter')).patch).toEqual({ labels: {}, annotations: {} });
    const bound = await invoke(gateway, 'preBind');
    expect(bound.patch).toEqual({ labels: { 'cost-center': 'cc-7', tier: 'gold' }, annotations: { 'example.com/approved-by': 'policy' } });
  });

  test.each<[string, (spec: Record<string, unknown>) => void, RegExp]>([
    ['a changed request', (spec) => void (spec.requests = { milliCpu: 1 }), /^spec\.requests: only labels and annotations may change$/],
    ['a removed label', (spec) => void (spec.labels = {}), /^spec\.labels\.app: removing labels is not supported/],
    ['an invalid label', (spec) => void (spec.labels = { ...(spec.labels as object), 'bad key!': 'x' }), /^spec\.labels\.bad key!: /],
  ])('%s is a bad_response, and the pod is refused (fail closed)', async (_what, mutate, message) => {
    const p = await dstackPlugin(echo(mutate));
    const { gateway } = await gatewayWith([{ name: 'policy', endpoint: p.url, protocol: 'dstack-apply-policy' }]);
    const result = await invoke(gateway, 'preBind');
    expect(result).toMatchObject({ code: Code.CODE_ERROR, plugin: 'policy', patch: { labels: {}, annotations: {} } });
    expect(result.results[0]!.failure).toMatchObject({ kind: 'bad_response', message: expect.stringMatching(message) });
  });
});

// Each protocol against answers a plugin should never give: every one is a
// failure by the plugin's failurePolicy (Fail here: the invocation is ERROR,
// nothing is used — no patch, no feasible node), counted under the plugin's name.
const redirect: Reply = { status: 307, headers: { location: 'http://127.0.0.1:1/elsewhere' }, body: {} };
const huge = (): Reply => ({ raw: JSON.stringify({ allowed: true, reason: 'x'.repeat(200_000) }) });
const hostile: Array<[string, PointName, string, string, Reply, RegExp]> = [
  ['verdict', 'preFilter', 'allowed as a string', 'bad_response', { body: { allowed: 'yes' } }, /^allowed: /],
  ['verdict', 'preFilter', 'no allowed', 'bad_response', { body: { reason: 'Missing security attestation' } }, /^allowed: /],
  ['verdict', 'preFilter', 'an extra field', 'bad_response', { body: { allowed: true, patch: { labels: { a: 'b' } } } }, /unknown field\(s\) patch/],
  ['verdict', 'preFilter', 'a reason that is a number', 'bad_response', { body: { allowed: false, reason: 42 } }, /^reason: /],
  ['verdict', 'preFilter', 'a huge body', 'bad_response', huge(), /larger than gateway.maxResponseBytes/],
  ['verdict', 'preFilter', 'a redirect', 'http_status', redirect, /^HTTP 307/],
  ['verdict', 'preFilter', 'a JSON array', 'bad_response', { body: [{ allowed: true }] }, /expected object/],
  ['operation', 'preBind', 'parameters as an array', 'bad_response', { body: { operation: 'inject_tags', parameters: ['cost_center'] } }, /^parameters: /],
  ['operation', 'preBind', 'a tag value that is a number', 'bad_response', { body: { operation: 'inject_tags', parameters: { cost_center: 42 } } }, /^parameters\.cost_center: /],
  ['operation', 'preBind', 'an unknown operation', 'bad_response', { body: { operation: 'delete_pod', parameters: {} } }, /^operation: /],
  ['operation', 'preBind', 'no operation', 'bad_response', { body: { parameters: { cost_center: 'a' } } }, /^operation: /],
  ['operation', 'preBind', 'an extra field', 'bad_response', { body: { operation: 'inject_tags', parameters: {}, allowed: true } }, /unknown field\(s\) allowed/],
  ['operation', 'preBind', 'more tags than the 64 allowed', 'bad_response', { body: { operation: 'inject_tags', parameters: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`tag-${i}`, 'x'])) } }, /^parameters: must hold at most 64 tags/],
  ['operation', 'preBind', 'a huge body', 'bad_response', huge(), /larger than gateway.maxResponseBytes/],
  ['operation', 'preBind', 'a redirect', 'http_status', redirect, /^HTTP 307/],
  ['dstack-apply-policy', 'preBind', 'no spec', 'bad_response', { body: { error: null } }, /^spec: /],
  ['dstack-apply-policy', 'preBind', 'a spec that is a string', 'bad_response', { body: { spec: 'pod', error: null } }, /^spec: /],
  ['dstack-apply-policy', 'preBind', 'an empty error', 'bad_response', { body: { spec: {}, error: '' } }, /^error: /],
  ['dstack-apply-policy', 'preBind', 'an extra field', 'bad_response', { body: { spec: {}, error: null, allowed: true } }, /unknown field\(s\) allowed/],
  ['dstack-apply-policy', 'preBind', 'labels as a list', 'bad_response', { body: { spec: { labels: ['a'] } } }, /^spec\.labels: /],
  ['dstack-apply-policy', 'preBind', 'a huge body', 'bad_response', huge(), /larger than gateway.maxResponseBytes/],
  ['dstack-apply-policy', 'preBind', 'a redirect', 'http_status', redirect, /^HTTP 307/],
];

describe('hostile answers are the failurePolicy\'s, with a metric naming the plugin, never a crash', () => {
  test.each(hostile)('%s at %s: %s → %s', async (protocol, point, _what, kind, answer, message) => {
    const p = await pluginAnswering(() => answer);
    const { gateway, registry } = await gatewayWith([{ name: 'hostile', endpoint: p.url, protocol, extensionPoints: [point], failurePolicy: 'Fail' }], { maxResponseBytes: 64 * 1024 });
    const result = await invoke(gateway, point);
    expect(result).toMatchObject({ code: Code.CODE_ERROR, plugin: 'hostile', feasible: [], scores: {}, patch: { labels: {}, annotations: {} } });
    expect(result.results[0]!.failure).toMatchObject({ kind, message: expect.stringMatching(message) });
    expect(await metricValue(registry, 'schedmesh_gateway_plugin_errors_total', { plugin: 'hostile', point, kind })).toBe(1);
    // The plugin was asked once: the redirect was not followed, nothing was retried at preBind.
    expect(p.requests).toHaveLength(1);
  });

  test('with failurePolicy Ignore a broken verdict is skipped: the plugin decides nothing', async () => {
    const p = await pluginAnswering(() => ({ body: { allowed: 'no' } }));
    const { gateway, registry } = await gatewayWith([{ name: 'hostile', endpoint: p.url, protocol: 'verdict', failurePolicy: 'Ignore' }]);
    const result = await invoke(gateway, 'preFilter');
    expect(result.code).toBe(Code.CODE_SUCCESS);
    expect(result.results[0]).toMatchObject({ code: Code.CODE_SKIP, failure: { kind: 'bad_response' } });
    expect(await metricValue(registry, 'schedmesh_gateway_plugin_errors_total', { plugin: 'hostile', point: 'preFilter', kind: 'bad_response' })).toBe(1);
  });
});
