// The gateway's plugin ConfigMap over the real path: kubectl writes
// schedmesh-system/schedmesh-plugins on a real kube-apiserver, the informer's
// ConfigMap watch publishes it to NATS JetStream, and the gateway reloads it —
// no restart, no file. An invalid edit is refused and the configuration in
// force stays.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { gatewayConfigSchema, startGatewayService } from '@schedmesh/gateway-service';
import type { GatewayServiceHandle } from '@schedmesh/gateway-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { pollUntil, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { e2eNats, e2eService, startE2eControlPlane } from './mesh.js';

let cp: ControlPlane;
let informer: InformerApp | undefined;
let gateway: GatewayServiceHandle | undefined;

const nats = e2eNats('plugins-e2e');

/** Writes the plugin ConfigMap with kubectl apply, as an operator would. */
const applyPlugins = (pluginsYaml: string): Promise<string> =>
  runKubectl(
    cp,
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'schedmesh-plugins', namespace: 'schedmesh-system' }, data: { 'plugins.yaml': pluginsYaml } }),
  );

// name (protocol)@points, as ListPlugins reports them.
const inForce = (): string[] => gateway!.gateway.listPlugins().plugins.map((p) => `${p.name} (${p.protocol})@${p.points.join('+')}`);

async function reloads(result: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gateway!.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('schedmesh_gateway_config_reloads_total{') && l.includes('source="configmap"') && l.includes(`result="${result}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  cp = await startE2eControlPlane();
  informer = await startInformerApp(informerConfigSchema.parse({ ...e2eService, nats, source: { kubeconfig: cp.kubeconfigPath } }), { handleSignals: false });
  gateway = await startGatewayService(gatewayConfigSchema.parse({ ...e2eService, nats }), { handleSignals: false });
}, 120_000);

afterAll(async () => {
  for (const app of [gateway, informer]) await app?.stop().catch(() => undefined);
  await cp?.stop();
}, 60_000);

describe('the plugin ConfigMap, edited with kubectl', () => {
  test('a new ConfigMap and an edit are applied without a restart; an invalid edit is refused and the last good stays', async () => {
    expect(inForce()).toEqual([]);
    // The source design's configuration, verbatim.
    await applyPlugins('plugins:\n- name: cost-tracking\n  type: rest\n  endpoint: https://internal-api.example.com/dstack-hooks\n  timeout: 5000ms\n  retry: 3\n');
    await pollUntil(async () => (inForce().length === 1 ? true : undefined), { what: 'the ConfigMap applied by the gateway', timeoutMs: 30_000, intervalMs: 100 });
    expect(inForce()).toEqual(['cost-tracking (schedmesh.io/plugin/v1)@preFilter+preBind']);

    await applyPlugins('plugins:\n- name: cost-tracking\n  type: rest\n  protocol: operation\n  endpoint: https://internal-api.example.com/dstack-hooks\n- name: compliance\n  type: rest\n  protocol: verdict\n  endpoint: https://compliance.example.com/\n');
    await pollUntil(async () => (inForce().length === 2 ? true : undefined), { what: 'the edited ConfigMap applied', timeoutMs: 30_000, intervalMs: 100 });
    expect(inForce()).toEqual(['cost-tracking (operation)@preBind', 'compliance (verdict)@preFilter']);
    const applied = await reloads('applied');
    expect(applied).toBeGreaterThanOrEqual(2);

    // retry: 0 and an unknown key: refused whole.
    await applyPlugins('plugins:\n- name: cost-tracking\n  type: rest\n  endpoint: https://internal-api.example.com/\n  retry: 0\n  retries: 2\n');
    await pollUntil(async () => ((await reloads('rejected')) >= 1 ? true : undefined), { what: 'the invalid ConfigMap refused', timeoutMs: 30_000, intervalMs: 100 });
    expect(inForce()).toEqual(['cost-tracking (operation)@preBind', 'compliance (verdict)@preFilter']);
    expect(await reloads('applied')).toBe(applied);
  }, 120_000);
});
