// The test cluster itself, end to end, with the real binaries of
// test/cluster/build.sh: etcd + kube-apiserver, 100 fake nodes, the stock
// kube-scheduler binding 50 pods, and a span through OTLP into Jaeger.
// Missing binaries fail the tests (with the build command), never skip them.
import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import {
  ClusterBinaryMissingError,
  createFakeNodes,
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
} from '../../libs/testkit/src/cluster/index.js';
import type { ControlPlane, Jaeger, KubeScheduler } from '../../libs/testkit/src/cluster/index.js';

const NODES = 100;
const PODS = 50;
const NAMESPACE = 'default';

let cp: ControlPlane | undefined;
let scheduler: KubeScheduler | undefined;
let jaeger: Jaeger | undefined;
const figures: Record<string, string> = {};

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${Math.round(bytes / 2 ** 20)} MiB`;
}

function pod(name: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'e2e-controlplane' } },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'registry.invalid/pause:never-pulled',
          resources: { requests: { cpu: '250m', memory: '256Mi' } },
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
    await createFakeNodes(cpResult.value.kubeConfig, fakeNodeSpecs(NODES, { zones: 3, racksPerZone: 4 }));
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
    const api = cp!.kubeConfig.makeApiClient(CoreV1Api);
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
    const api = cp!.kubeConfig.makeApiClient(CoreV1Api);
    const nodeNames = new Set((await api.listNode({})).items.map((n) => n.metadata!.name!));
    const started = Date.now();
    await Promise.all(
      Array.from({ length: PODS }, (_, i) => api.createNamespacedPod({ namespace: NAMESPACE, body: pod(`e2e-pod-${i}`) })),
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
    // The default scorer spreads 250m pods over 4-CPU nodes: no node takes more than its 16.
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
    expect(Math.max(...perNode.values())).toBeLessThanOrEqual(16);

    for (const proc of [...cp!.processes, scheduler!.process]) {
      figures[`RSS ${proc.name} after ${NODES} nodes / ${PODS} pods`] = mib(proc.rssBytes());
    }
  }, 90_000);

  test('a span exported over OTLP/HTTP is served by the Jaeger query API', async () => {
    const service = `e2e-controlplane-${process.pid}`;
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${jaeger!.otlpHttpUrl}/v1/traces` }))],
    });
    const span = provider.getTracer('e2e').startSpan('schedule-pod', { attributes: { 'schedmesh.pod': 'default/p' } });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    const traceId = span.spanContext().traceId;

    const trace = await getTrace(jaeger!.queryUrl, traceId);
    expect(trace.traceID).toBe(traceId);
    const [got] = trace.spans;
    expect(got?.operationName).toBe('schedule-pod');
    expect(got?.spanID).toBe(span.spanContext().spanId);
    expect(trace.processes[got!.processID]?.serviceName).toBe(service);
    expect(got?.tags).toContainEqual(expect.objectContaining({ key: 'schedmesh.pod', value: 'default/p' }));

    const traces = await findTraces(jaeger!.queryUrl, service);
    expect(traces.map((t) => t.traceID)).toContain(traceId);
  }, 30_000);

  test('stop() ends every process group and removes the directories', async () => {
    const procs = [...cp!.processes, scheduler!.process, jaeger!.process];
    const dirs = [cp!.dir];
    const started = Date.now();
    await scheduler!.stop();
    await cp!.stop();
    await jaeger!.stop();
    figures['stop everything'] = `${Date.now() - started} ms`;
    for (const proc of procs) {
      expect(proc.exit()).toBeDefined();
      // Signal 0 probes the group: ESRCH once nothing in it is left.
      expect(() => process.kill(-proc.pid, 0)).toThrow();
    }
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
