import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { Code } from '@schedmesh/proto/v1/types';
import { startExamplePlugin } from '@schedmesh/rest-plugin-example';
import { PluginCallError } from './failures.js';
import type { PointName } from './points.js';
import { PLUGIN_API_VERSION, interpretResponse, pluginRequestSchema } from './protocol.js';
import { protocolJsonSchemas } from './protocols.js';
import { makeNodes, makePod, newGateway, pluginsYaml } from './testing/builders.js';

const candidates = new Set(['n1', 'n2']);
const v1 = (body: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: PLUGIN_API_VERSION, ...body });

describe('interpretResponse', () => {
  test.each<[string, PointName, Record<string, unknown>, Record<string, unknown>]>([
    ['an empty v1 answer is Success', 'preFilter', v1({}), { code: Code.CODE_SUCCESS, reasons: [], rejected: [], scores: {} }],
    ['a denial with reasons', 'preFilter', v1({ status: 'Unschedulable', reasons: ['over budget'] }), { code: Code.CODE_UNSCHEDULABLE, reasons: ['over budget'] }],
    ['Skip', 'preScore', v1({ kind: 'PluginResponse', status: 'Skip' }), { code: Code.CODE_SKIP }],
    [
      'filter rejections, defaulting to Unschedulable',
      'filter',
      v1({ rejected: [{ node: 'n1' }, { node: 'n2', status: 'UnschedulableAndUnresolvable', reasons: ['wrong region'] }] }),
      { rejected: [{ node: 'n1', code: Code.CODE_UNSCHEDULABLE, reasons: [] }, { node: 'n2', code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasons: ['wrong region'] }] },
    ],
    ['scores', 'score', v1({ scores: { n1: 0, n2: 100 } }), { scores: { n1: 0, n2: 100 } }],
    ['a preBind patch', 'preBind', v1({ patch: { labels: { 'example.com/team': 'a' } } }), { patch: { labels: { 'example.com/team': 'a' }, annotations: {} } }],
    ['Wait at permit', 'permit', v1({ status: 'Wait' }), { code: Code.CODE_WAIT }],
  ])('%s', (_what, point, body, expected) => {
    expect(interpretResponse(body, point, candidates)).toMatchObject(expected);
  });

  test.each<[string, PointName, unknown, RegExp]>([
    ['not an object', 'filter', [1, 2], /not a JSON object/],
    ['a v2 answer', 'filter', { apiVersion: 'schedmesh.io/plugin/v2' }, /unsupported apiVersion "schedmesh.io\/plugin\/v2"/],
    ['Wait outside permit', 'preFilter', v1({ status: 'Wait' }), /status Wait is only valid at permit/],
    ['a patch outside preBind', 'filter', v1({ patch: {} }), /patch is only valid at preBind/],
    ['rejections outside filter', 'score', v1({ rejected: [] }), /rejected is only valid at filter/],
    ['a node rejected twice', 'filter', v1({ rejected: [{ node: 'n1' }, { node: 'n1' }] }), /rejected.1.node: "n1" is listed twice/],
    ['a score for an unknown node', 'score', v1({ scores: { n9: 1 } }), /scores.n9: not a candidate node/],
    ['a fractional score', 'score', v1({ scores: { n1: 1.5 } }), /scores.n1/],
    ['an empty reason', 'preFilter', v1({ reasons: [''] }), /reasons.0/],
    ['an annotation key that is not a qualified name', 'preBind', v1({ patch: { annotations: { '/x': 'y' } } }), /patch.annotations.\/x/],
  ])('%s is a bad_response', (_what, point, body, message) => {
    let thrown: unknown;
    try {
      interpretResponse(body, point, candidates);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PluginCallError);
    expect(thrown).toMatchObject({ kind: 'bad_response', message: expect.stringMatching(message) });
  });
});

describe('the published JSON Schema', () => {
  test.each(Object.entries(protocolJsonSchemas()))('schema/%s matches the zod schema the gateway validates with (regenerate: npx tsx services/gateway/scripts/write-schema.ts)', (name, generated) => {
    const onDisk = JSON.parse(readFileSync(join(__dirname, '..', 'schema', name), 'utf8')) as unknown;
    expect(onDisk).toEqual(generated);
  });

  test('the request the gateway sends conforms to the request schema', async () => {
    const p = await startExamplePlugin();
    const { gateway } = await newGateway(pluginsYaml([{ name: 'cost', endpoint: p.url, extensionPoints: ['score'] }]));
    try {
      await gateway.invoke({ point: 'score', pod: makePod(), nodes: makeNodes(2), plugins: [] }, new AbortController().signal);
      const parsed = pluginRequestSchema.safeParse(p.requests[0]!.body);
      expect(parsed.error?.issues).toBeUndefined();
      expect(parsed.data).toMatchObject({ extensionPoint: 'score', plugin: 'cost', pod: { uid: 'uid-web-0', requests: { milliCpu: 500 } } });
      expect(parsed.data?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await gateway.close();
      await p.close();
    }
  });
});
