import { Registry } from 'prom-client';
import { stringify } from 'yaml';
import { Node, Pod } from '@schedmesh/proto/v1/types';
import type { DeepPartial } from '@schedmesh/proto/v1/types';
import { createLogger } from '@schedmesh/runtime';
import type { Logger } from '@schedmesh/runtime';
import { Gateway } from '../gateway.js';
import type { GatewayOptions } from '../gateway.js';
import { defaultPluginPolicy } from '../plugin-config.js';
import type { PluginPolicy } from '../plugin-config.js';

/**
 * Builders shared by the gateway's tests (no test framework here, so the
 * file is an ordinary module; nothing in the service imports it).
 */

export const silentLogger: Logger = createLogger({ service: 'gateway-test', level: 'silent' });

/** A pending pod of team-a with a cost-center label, changed by `overrides`. */
export function makePod(overrides: DeepPartial<Pod> = {}): Pod {
  return Pod.fromPartial({
    uid: 'uid-web-0',
    namespace: 'team-a',
    name: 'web-0',
    resourceVersion: '100',
    labels: { app: 'web', 'cost-center': 'cc-42' },
    requests: { milliCpu: 500, memory: 256 * 1024 * 1024 },
    ...overrides,
  });
}

/** Nodes node-0..node-(n-1), each with `labels(i)`. */
export function makeNodes(n: number, labels: (i: number) => Record<string, string | undefined> = () => ({})): Node[] {
  return Array.from({ length: n }, (_, i) =>
    Node.fromPartial({
      name: `node-${i}`,
      uid: `node-uid-${i}`,
      resourceVersion: `${i + 1}`,
      labels: Object.fromEntries(Object.entries(labels(i)).filter((e): e is [string, string] => e[1] !== undefined)),
      allocatable: { milliCpu: 4000, memory: 8 * 1024 ** 3, pods: 110 },
    }),
  );
}

/** A plugins document from plugin definitions (type defaults to rest). */
export function pluginsYaml(plugins: Array<Record<string, unknown>>): string {
  return stringify({ plugins: plugins.map((p) => ({ type: 'rest', ...p })) });
}

/** A gateway with a silent logger and its own registry, configured with `yaml`. */
export async function newGateway(yaml?: string, options: Partial<GatewayOptions> = {}): Promise<{ gateway: Gateway; registry: Registry }> {
  const registry = new Registry();
  const gateway = new Gateway({ logger: silentLogger, metrics: registry, ...options });
  if (yaml !== undefined) await gateway.reload(yaml, { source: 'test', kind: 'configmap' });
  return { gateway, registry };
}

/** A plugin policy for tests: secret files under `secretRoots` (temporary directories), and the rest of `overrides`. */
export function testPolicy(secretRoots: readonly string[], overrides: Partial<PluginPolicy> = {}): PluginPolicy {
  return { ...defaultPluginPolicy, secretRoots, ...overrides };
}

/** The value of a counter or gauge series in a registry (0 if absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want) && !('le' in v.labels));
  return found?.value ?? 0;
}
