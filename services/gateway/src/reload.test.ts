import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { Code } from '@schedmesh/proto/v1/types';
import { startExamplePlugin } from '@schedmesh/rest-plugin-example';
import type { ExamplePlugin } from '@schedmesh/rest-plugin-example';
import { pollUntil } from '@schedmesh/testkit';
import { watchConfigFile } from './config-watch.js';
import type { ConfigWatch } from './config-watch.js';
import type { Gateway } from './gateway.js';
import { PluginConfigError } from './plugin-config.js';
import { makePod, metricValue, newGateway, pluginsYaml, silentLogger } from './testing/builders.js';

let a: ExamplePlugin;
let b: ExamplePlugin;
let down: ExamplePlugin;
let dir: string;
beforeAll(async () => {
  a = await startExamplePlugin();
  b = await startExamplePlugin();
  down = await startExamplePlugin({ decide: () => ({ status: 500 }) });
  dir = mkdtempSync(join(tmpdir(), 'gateway-reload-'));
});
afterAll(async () => {
  await Promise.all([a.close(), b.close(), down.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const gateways: Gateway[] = [];
const watches: ConfigWatch[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) w.close();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  for (const p of [a, b, down]) p.requests.length = 0;
});

const pluginA = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'a', endpoint: a.url, extensionPoints: ['preFilter'], ...extra });
const pluginB = (): Record<string, unknown> => ({ name: 'b', endpoint: b.url, extensionPoints: ['preFilter'] });
async function gatewayWith(plugins: Array<Record<string, unknown>>): ReturnType<typeof newGateway> {
  const made = await newGateway(pluginsYaml(plugins));
  gateways.push(made.gateway);
  return made;
}
const preFilter = (g: Gateway): ReturnType<Gateway['invoke']> => g.invoke({ point: 'preFilter', pod: makePod(), nodes: [], plugins: [] }, new AbortController().signal);
const names = (g: Gateway): string[] => g.listPlugins().plugins.map((p) => p.name);

describe('reload', () => {
  test('a new configuration swaps the plugins and the version', async () => {
    const { gateway: g } = await gatewayWith([pluginA()]);
    const before = g.version;
    await preFilter(g);
    const result = await g.reload(pluginsYaml([pluginB()]));
    expect(result).toEqual({ version: expect.not.stringMatching(before), changed: true, plugins: ['b'] });
    expect(g.version).toBe(result.version);
    await preFilter(g);
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    expect((await g.reload(pluginsYaml([pluginB()]))).changed).toBe(false);
  });

  test('an invalid configuration is refused with the field named, and the old one stays in force', async () => {
    const { gateway: g, registry } = await gatewayWith([pluginA()]);
    const version = g.version;
    let error: unknown;
    try {
      await g.reload(pluginsYaml([pluginB(), { ...pluginA(), timout: '1s' }]), { source: 'ConfigMap schedmesh/plugins', kind: 'configmap' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PluginConfigError);
    expect((error as PluginConfigError).issues).toEqual(['plugins[1].timout: unknown field (plugin "a") (in ConfigMap schedmesh/plugins)']);
    expect(g.version).toBe(version);
    expect(names(g)).toEqual(['a']);
    expect((await preFilter(g)).code).toBe(Code.CODE_SUCCESS);
    expect(a.requests).toHaveLength(1);
    expect(await metricValue(registry, 'schedmesh_gateway_config_reloads_total', { source: 'configmap', result: 'rejected' })).toBe(1);
  });

  test('an unchanged plugin keeps its breaker state; a changed one starts afresh', async () => {
    const fragile = { name: 'fragile', endpoint: down.url, extensionPoints: ['preFilter'], breaker: { failures: 1, halfOpenAfter: '1m' } };
    const { gateway: g } = await gatewayWith([fragile]);
    await preFilter(g);
    const state = (): string | undefined => g.listPlugins().plugins.find((p) => p.name === 'fragile')?.breakerState;
    expect(state()).toBe('open');
    await g.reload(pluginsYaml([fragile, pluginB()]));
    expect(state()).toBe('open');
    await g.reload(pluginsYaml([{ ...fragile, timeout: '1s' }, pluginB()]));
    expect(state()).toBe('closed');
  });

  test('a call in flight finishes on the plugin a reload removed', async () => {
    const slow = await startExamplePlugin({ decide: () => ({ body: { apiVersion: 'schedmesh.io/plugin/v1' }, delayMs: 1000 }) });
    try {
      const { gateway: g } = await gatewayWith([{ name: 'slow', endpoint: slow.url, extensionPoints: ['preFilter'], timeout: '30s' }]);
      let settled = false;
      const pending = preFilter(g).finally(() => (settled = true));
      await pollUntil(async () => (slow.requests.length === 1 ? true : undefined), { what: 'the request at the plugin', timeoutMs: 30_000, intervalMs: 10 });
      await g.reload(pluginsYaml([pluginB()]));
      expect(settled).toBe(false); // the reload came while the call was in flight
      const result = await pending;
      expect(result.results.map((r) => [r.plugin, r.code])).toEqual([['slow', Code.CODE_SUCCESS]]);
      expect((await preFilter(g)).results.map((r) => r.plugin)).toEqual(['b']);
    } finally {
      await slow.close();
    }
  }, 60_000);
});

describe('watching the plugins file', () => {
  const until = (what: string, check: () => boolean): Promise<boolean> => pollUntil(async () => check() || undefined, { what, timeoutMs: 30_000, intervalMs: 20 });
  // As editors and ConfigMap volumes do: write elsewhere, then rename over the file.
  const replace = (path: string, text: string): void => {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };

  test('a change of the file is applied without a restart; a bad edit is refused and the last good one stays', async () => {
    const path = join(dir, 'plugins.yaml');
    const first = pluginsYaml([pluginA()]);
    writeFileSync(path, first);
    const { gateway: g } = await gatewayWith([pluginA()]);
    const rejected: string[] = [];
    watches.push(
      watchConfigFile({
        path,
        initialText: first,
        debounceMs: 50,
        logger: silentLogger,
        onChange: async (text) => {
          try {
            await g.reload(text, { source: path, kind: 'file' });
          } catch (err) {
            rejected.push(...(err as PluginConfigError).issues);
            throw err;
          }
        },
      }),
    );

    replace(path, pluginsYaml([pluginA(), pluginB()]));
    await until('the second plugin in force', () => names(g).length === 2);
    expect(names(g)).toEqual(['a', 'b']);

    writeFileSync(path, pluginsYaml([pluginA({ timeout: 'fast' })]));
    await until('the bad edit refused', () => rejected.length > 0);
    expect(rejected).toEqual([expect.stringMatching(/^plugins\[0\]\.timeout: expected a duration .* \(in .*plugins\.yaml\)$/)]);
    expect(names(g)).toEqual(['a', 'b']);

    replace(path, pluginsYaml([pluginB()]));
    await until('the third version in force', () => names(g).join() === 'b');
  }, 90_000);
});
