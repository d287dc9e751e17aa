// The test cluster itself, end to end, with the real binaries of
// test/cluster/build.sh: etcd + kube-apiserver, 100 fake nodes, the stock
// kube-scheduler binding 50 pods, and spans through OTLP into Jaeger.
// Missing binaries fail the tests (with the build command), never skip them.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';

import {
  ClusterBinaryMissingError,
  createFakeNodes,
  DEFAULT_NODE_CAPACITY,
  fakeNodeObject,
  fakeNodeSpecs,
  findTraces,
  getTrace,
  pollUntil,
  RACK_LABEL,
  requireBinary,
  startControlPlane,
  startJaeger,
  startKubeScheduler,
  ZONE_LABEL,
} from '@schedmesh/testkit';
import type { ControlPlane, Jaeger, KubeScheduler } from '@schedmesh/testkit';

const NODES = 100;
const PODS = 50;
const NAMESPACE = 'default';
const GPU_NODE = 42;

let cp: ControlPlane | undefined;
let scheduler: KubeScheduler | undefined;
let jaeger: Jaeger | undefined;
const figures: Record<string, string> = {};

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${Math.round(bytes / 2 ** 20)} MiB`;
}

function pod(name: string, gpus = 0): V1Pod {
  const gpu: Record<string, string> = gpus > 0 ? { 'nvidia.com/gpu': String(gpus) } : {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'e2e-controlplane' } },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'registry.invalid/pause:never-pulled',
          resources: { requests: { cpu: '250m', memory: '256Mi', ...gpu }, limits: { ...gpu } },
        },
      ],
    },
  };
}

describe('test cluster (real etcd, kube-apiserver, kube-scheduler, jaeger)', () => {
  beforeAll(async () => {
    // Both in parallel: each takes a few seconds on its own.
    const [cpResult, jaegerResult] = await Promise.allSettled([startControlPlane(), startJaeger()]);
    if (cpResult.status === 'fulfilled') cp = cpResult.value;
    if (jaegerResult.status === 'fulfilled') jaeger = jaegerResult.value;
    if (cpResult.status === 'rejected') throw cpResult.reason;
    if (jaegerResult.status === 'rejected') throw jaegerResult.reason;
    figures['control plane start (spawn etcd -> default namespace)'] = `${cpResult.value.startupMs} ms`;

    const started = Date.now();
    const specs = fakeNodeSpecs(NODES, { zones: 3, racksPerZone: 4 });
    // One node with an extended resource: the GPU pod can only go there.
    specs[GPU_NODE] = { ...specs[GPU_NODE]!, capacity: { ...DEFAULT_NODE_CAPACITY, 'nvidia.com/gpu': '2' } };
    await createFakeNodes(cpResult.value.kubeConfig, specs);
    figures[`create ${NODES} fake nodes`] = `${Date.now() - started} ms`;
    scheduler = await startKubeScheduler(cpResult.value);
  }, 180_000);

  afterAll(async () => {
    await scheduler?.stop();
    await cp?.stop();
    await jaeger?.stop();
    if (Object.keys(figures).length > 0) {
      console.log(`controlplane e2e figures:\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
    }
  }, 60_000);

  test('a missing binary fails with the build command', () => {
    expect(() => requireBinary('kube-apiserver', '/nonexistent/bin')).toThrow(ClusterBinaryMissingError);
    expect(() => requireBinary('kube-apiserver', '/nonexistent/bin')).toThrow(/npm run cluster:build/);
  });

  test(`${NODES} fake nodes are ready, labelled and untainted`, async () => {
    const api = cp!.core;
    const nodes = (await api.listNode({})).items;
    expect(nodes).toHaveLength(NODES);
    for (const node of nodes) {
      expect(node.spec?.taints ?? []).toEqual([]);
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(node.status?.allocatable).toMatchObject({ cpu: '4', memory: '16Gi', pods: '110' });
      expect(node.metadata?.labels?.[ZONE_LABEL]).toMatch(/^zone-[0-2]$/);
      expect(node.metadata?.labels?.[RACK_LABEL]).toMatch(/^rack-[0-2]-[0-3]$/);
    }
  }, 30_000);

  test(`the stock kube-scheduler binds ${PODS} pods to the fake nodes`, async () => {
    const api = cp!.core;
    const nodeNames = new Set((await api.listNode({})).items.map((n) => n.metadata!.name!));
    const started = Date.now();
    await Promise.all(
      Array.from({ length: PODS }, (_, i) =>
        api.createNamespacedPod({ namespace: NAMESPACE, body: i === 0 ? pod('e2e-gpu-pod', 1) : pod(`e2e-pod-${i}`) }),
      ),
    );
    let pods: V1Pod[] = [];
    try {
      await pollUntil(
        async () => {
          pods = (await api.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=e2e-controlplane' })).items;
          return pods.length === PODS && pods.every((p) => p.spec?.nodeName) ? true : undefined;
        },
        { what: `${PODS} pods bound`, timeoutMs: 60_000, intervalMs: 250 },
      );
    } catch (err) {
      const bound = pods.filter((p) => p.spec?.nodeName).length;
      throw new Error(
        `${bound}/${PODS} pods bound; kube-scheduler log:\n${scheduler!.process.logTail(40)}`,
        { cause: err },
      );
    }
    figures[`schedule + bind ${PODS} pods`] = `${Date.now() - started} ms`;

    for (const p of pods) {
      expect(nodeNames.has(p.spec!.nodeName!)).toBe(true);
    }
    expect(pods.find((p) => p.metadata?.name === 'e2e-gpu-pod')?.spec?.nodeName).toBe(`fake-node-${GPU_NODE}`);
    // The default scorer spreads 250m pods over 4-CPU nodes: no node takes more than its 16.
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(16);

    for (const proc of [...cp!.processes, scheduler!.process]) {
      figures[`RSS ${proc.name} after ${NODES} nodes / ${PODS} pods`] = mib(proc.rssBytes());
    }
  }, 90_000);

  test('spans posted over OTLP/HTTP are served by the Jaeger query API', async () => {
    // Raw OTLP/JSON: @opentelemetry/exporter-trace-otlp-http loads node:http with
    // a dynamic import(), which jest's CommonJS sandbox rejects.
    const service = `e2e-controlplane-${process.pid}`;
    const traceId = randomBytes(16).toString('hex');
    const rootId = randomBytes(8).toString('hex');
    const childId = randomBytes(8).toString('hex');
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const span = (spanId: string, name: string, parentSpanId: string, startNs: bigint, endNs: bigint): object => ({
      traceId,
      spanId,
      ...(parentSpanId ? { parentSpanId } : {}),
      name,
      kind: 1,
      startTimeUnixNano: String(startNs),
      endTimeUnixNano: String(endNs),
      attributes: [{ key: 'schedmesh.pod', value: { stringValue: 'default/p' } }],
    });
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              scope: { name: 'e2e' },
              spans: [
                span(rootId, 'schedule-pod', '', nowNs, nowNs + 5_000_000n),
                span(childId, 'filter', rootId, nowNs + 1_000_000n, nowNs + 2_000_000n),
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${jaeger!.otlpHttpUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);

    const trace = await getTrace(jaeger!.queryUrl, traceId, { minSpans: 2 });
    expect(trace.traceID).toBe(traceId);
    const root = trace.spans.find((s) => s.spanID === rootId);
    const child = trace.spans.find((s) => s.spanID === childId);
    expect(root?.operationName).toBe('schedule-pod');
    expect(root?.tags).toContainEqual(expect.objectContaining({ key: 'schedmesh.pod', value: 'default/p' }));
    expect(trace.processes[root!.processID]?.serviceName).toBe(service);
    expect(child?.operationName).toBe('filter');
    expect(child?.references).toContainEqual(expect.objectContaining({ refType: 'CHILD_OF', spanID: rootId }));

    const traces = await findTraces(jaeger!.queryUrl, service, { operation: 'schedule-pod' });
    expect(traces.map((t) => t.traceID)).toContain(traceId);
  }, 30_000);

  test('createFakeNodes lifts the not-ready taint of an apiserver with TaintNodesByCondition on', async () => {
    const strict = await startControlPlane({ disableAdmissionPlugins: ['ServiceAccount'] });
    try {
      // The trap itself: admission taints a node created Ready...
      const raw = await strict.core.createNode({ body: fakeNodeObject({ name: 'raw' }) });
      expect(raw.spec?.taints).toContainEqual(expect.objectContaining({ key: 'node.kubernetes.io/not-ready' }));
      // ...and createFakeNodes hands back nodes without it, keeping the taints asked for.
      const [plain, tainted] = await createFakeNodes(strict.kubeConfig, [
        { name: 'plain' },
        { name: 'tainted', taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }] },
      ]);
      expect(plain?.spec?.taints ?? []).toEqual([]);
      expect(tainted?.spec?.taints).toEqual([{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }]);
    } finally {
      await strict.stop();
    }
  }, 60_000);

  test('stop() ends every process group and removes the directories', async () => {
    const procs = [...cp!.processes, scheduler!.process, jaeger!.process];
    const dirs = [cp!.dir];
    const started = Date.now();
    await scheduler!.stop();
    await cp!.stop();
    await jaeger!.stop();
    figures['stop everything'] = `${Date.now() - started} ms`;
    for (const proc of procs) {
      // Ended, by a signal or with an exit code: never still running.
      const exit = proc.exit();
      expect(exit === undefined ? 'still running' : (exit.signal ?? `exit code ${exit.code}`)).toMatch(/^(SIG[A-Z0-9]+|exit code \d+)$/);
      // Signal 0 probes the group: ESRCH once nothing in it is left.
      expect(() => process.kill(-proc.pid, 0)).toThrow();
    }
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
