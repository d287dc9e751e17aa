import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { afterAll, describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { ATTESTATION_ANNOTATION, ed25519PublicKeys, verifyAttestation } from '@schedmesh/gpu-compliance-example';
import type { JaegerTrace } from '@schedmesh/testkit';

import { createDemoAttestation } from './attestation.js';

import { ProgressDisplay, progressBar } from './console.js';
import { stepName } from './fixture-mode.js';
import { placementByRack, podView, refusalsByReason } from './placements.js';
import type { NodeView, PodView } from './placements.js';
import { BUCKETS_MS, escapeHtml, histogram, percentile, renderReport, reportData } from './report.js';
import { DEMO_PLUGINS, gatewayPluginsDocument } from './plugins.js';
import { FEATURE_POD_COUNT, GPU, GPU_ATTESTED_LABEL, sampleNodes, samplePods } from './sample.js';
import { stepLatencies } from './traces.js';

const nodes: NodeView[] = [
  { name: 'n-0', zone: 'zone-0', rack: 'rack-0-0', pool: 'general' },
  { name: 'n-1', zone: 'zone-0', rack: 'rack-0-1', pool: 'general' },
  { name: 'n-2', zone: 'zone-1', rack: 'rack-1-0', pool: 'general' },
];
const pods: PodView[] = [
  { namespace: 'shop', name: 'a', feature: 'web', state: 'bound', node: 'n-0' },
  { namespace: 'shop', name: 'b', feature: 'web', state: 'bound', node: 'n-0' },
  { namespace: 'shop', name: 'c', feature: 'web', state: 'bound', node: 'n-2' },
  { namespace: 'bi', name: 'r-0', feature: 'hibernated', state: 'refused', reason: 'pod bi/r-0 is hibernating' },
  { namespace: 'bi', name: 'r-1', feature: 'hibernated', state: 'refused', reason: 'pod bi/r-1 is hibernating' },
  { namespace: 'shop', name: '<x>', feature: 'too-big', state: 'refused', reason: '0/3 nodes are available: 3 Insufficient cpu & "<b>"' },
];

describe('pod views', () => {
  test.each([
    ['bound', { spec: { nodeName: 'n-1', containers: [] } }, { state: 'bound', node: 'n-1' }],
    ['refused', { spec: { containers: [] }, status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no' }] } }, { state: 'refused', reason: 'no' }],
    ['retrying', { spec: { containers: [] }, status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulerError', message: 'down' }] } }, { state: 'retrying', reason: 'down' }],
    ['pending', { spec: { containers: [] } }, { state: 'pending' }],
  ])('%s', (_, pod, want) => {
    expect(podView({ metadata: { name: 'p', namespace: 'ns' }, ...pod })).toMatchObject(want);
  });

  test('placements count per zone and rack, racks without pods included', () => {
    const table = placementByRack(pods, nodes);
    expect([...table.get('zone-0')!.entries()]).toEqual([
      ['rack-0-0', 2],
      ['rack-0-1', 0],
    ]);
    expect(table.get('zone-1')!.get('rack-1-0')).toBe(1);
  });

  test('refusals group by reason with the pod name taken out, most frequent first', () => {
    const groups = refusalsByReason(pods);
    expect(groups.map((g) => [g.reason, g.pods.map((p) => p.name)])).toEqual([
      ['pod <pod> is hibernating', ['r-0', 'r-1']],
      ['0/3 nodes are available: 3 Insufficient cpu & "<b>"', ['<x>']],
    ]);
  });
});

const keyDir = mkdtempSync(join(tmpdir(), 'demo-attestation-'));
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));
const attestation = createDemoAttestation(keyDir);

describe('the sample', () => {
  test.each([30, 200])('%i pods: every feature pod, the rest web pods, names unique', (n) => {
    const sample = samplePods(n, { gangTimeoutSeconds: 5, attest: attestation.sign });
    expect(sample).toHaveLength(n);
    expect(new Set(sample.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`)).size).toBe(n);
    expect(sample.filter((p) => p.metadata!.labels!['schedmesh.io/demo-feature'] !== 'web')).toHaveLength(FEATURE_POD_COUNT);
    expect(sample.every((p) => p.spec!.schedulerName === 'schedmesh')).toBe(true);
  });

  test('the GPU pool: one attested node per zone, the other half not', () => {
    const gpu = sampleNodes().filter((n) => n.capacity?.[GPU]);
    const attested = gpu.filter((n) => n.labels?.[GPU_ATTESTED_LABEL] === 'true');
    expect(gpu).toHaveLength(6);
    expect(attested.map((n) => n.zone).sort()).toEqual(['zone-0', 'zone-1', 'zone-2']);
  });

  test("GPU pods: the trainer's attested ones verify with the demo's public key; the others have none, or one for someone else", () => {
    const keys = ed25519PublicKeys(readFileSync(attestation.publicKeyFile, 'utf8'));
    const verdict = (pod: V1Pod): string => {
      const value = pod.metadata!.annotations?.[ATTESTATION_ANNOTATION];
      if (value === undefined) return 'none';
      const check = verifyAttestation(value, { namespace: pod.metadata!.namespace!, serviceAccount: pod.spec!.serviceAccountName ?? '' }, keys, Math.floor(Date.now() / 1000));
      return check.valid ? 'valid' : 'invalid';
    };
    const gpuPods = samplePods(FEATURE_POD_COUNT, { gangTimeoutSeconds: 5, attest: attestation.sign }).filter((p) => p.spec!.containers[0]!.resources!.requests![GPU]);
    const byFeature = (feature: string) => gpuPods.filter((p) => p.metadata!.labels!['schedmesh.io/demo-feature'] === feature).map((p) => `${p.metadata!.name}: ${verdict(p)}`);
    expect(byFeature('gang')).toEqual(['train-a-0: valid', 'train-a-1: valid', 'train-a-2: valid', 'train-a-3: valid']);
    expect(byFeature('gpu-attested')).toEqual(['infer-0: valid', 'infer-1: valid']);
    expect(byFeature('gpu-unattested')).toEqual(['unattested-0: none', 'unattested-1: none', 'borrowed-attestation: invalid']);
    expect(byFeature('gpu-forbidden')).toEqual(['intern-0: none', 'intern-1: none']);
  });

  test('the throw-away private key is readable by its owner only', () => {
    expect(statSync(attestation.privateKeyFile).mode & 0o777).toBe(0o600);
  });
});

describe('the plugins file', () => {
  test('one process may serve several gateway plugins, each at its route, with its protocol', () => {
    const doc = gatewayPluginsDocument(DEMO_PLUGINS, new Map([
      ['cost-tracking', 'http://127.0.0.1:1001/'],
      ['gpu-compliance', 'http://127.0.0.1:1002/'],
    ]));
    expect(doc.plugins.map((p) => [p.name, p.protocol, p.endpoint, p.extensionPoints])).toEqual([
      ['cost-tracking', 'schedmesh.io/plugin/v1', 'http://127.0.0.1:1001/', ['preFilter', 'filter', 'score', 'preBind']],
      ['gpu-attestation', 'verdict', 'http://127.0.0.1:1002/attestation', ['preFilter']],
      ['gpu-attested-nodes', 'schedmesh.io/plugin/v1', 'http://127.0.0.1:1002/nodes', ['filter']],
    ]);
  });

  test('a plugin that was not started is an error, not an endpoint "undefined"', () => {
    expect(() => gatewayPluginsDocument(DEMO_PLUGINS, new Map([['cost-tracking', 'http://127.0.0.1:1001/']]))).toThrow('plugin gpu-compliance has no base URL');
  });
});

describe('the report', () => {
  test('histogram buckets: each value in the first bucket whose bound holds it, the rest in the open one', () => {
    const counts = histogram([0.5, 1, 1.5, 7, 5000, 5001, 99999]);
    expect(counts).toHaveLength(BUCKETS_MS.length + 1);
    expect(counts[0]).toBe(2);
    expect(counts[1]).toBe(1);
    expect(counts[3]).toBe(1);
    expect(counts[BUCKETS_MS.length - 1]).toBe(1);
    expect(counts[BUCKETS_MS.length]).toBe(2);
  });

  test.each([
    [[], 50, Number.NaN],
    [[5], 99, 5],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 99, 4],
  ])('percentile of %j at %i is %d', (values, p, want) => {
    expect(percentile(values, p)).toBe(want);
  });

  test('step latencies: the roots and their direct children, grouped by name, in ms', () => {
    const span = (spanID: string, operationName: string, duration: number, parent?: string) => ({
      traceID: 't',
      spanID,
      operationName,
      duration,
      startTime: 0,
      tags: [],
      processID: 'p1',
      references: parent ? [{ refType: 'CHILD_OF', traceID: 't', spanID: parent }] : [],
    });
    const trace: JaegerTrace = {
      traceID: 't',
      processes: { p1: { serviceName: 'schedmesh-scheduler' } },
      spans: [span('r', 'schedule_one', 9000), span('a', 'Reserve/X', 2000, 'r'), span('b', 'Reserve/X', 3000, 'r'), span('c', 'redis', 1000, 'a')],
    };
    expect(stepLatencies([trace])).toEqual([
      { step: 'attempt (schedule_one)', durationsMs: [9] },
      { step: 'Reserve/X', durationsMs: [2, 3] },
    ]);
  });

  test.each([
    ['EXTENSION_POINT_PRE_FILTER', 'SchedmeshAdmission', 'PreFilter/SchedmeshAdmission'],
    ['EXTENSION_POINT_RESERVE', 'SchedmeshReservation', 'Reserve/SchedmeshReservation'],
    ['EXTENSION_POINT_POST_BIND', 'SchedmeshReservation', 'PostBind/SchedmeshReservation'],
  ])('fixture mode names %s of %s as the spans do: %s', (point, plugin, want) => {
    expect(stepName(point, plugin)).toBe(want);
  });

  test('the page escapes what it shows, embeds its data, and loads nothing from elsewhere', () => {
    const html = renderReport({ generatedAt: 'now', durationMs: 1234, nodes, pods, steps: [{ step: 'Bind/<B>', durationsMs: [1, 30] }], plugins: { run: ['cost-tracking'], skipped: ['gpu-compliance'] } });
    expect(html).toContain(escapeHtml('0/3 nodes are available: 3 Insufficient cpu & "<b>"'));
    expect(html).not.toContain('"<b>"');
    expect(html).toContain('Bind/&lt;B&gt;');
    expect(html).toContain('title="n-0 (general): 2 pods"');
    expect(html).toContain('not built, skipped: gpu-compliance');
    expect(html).not.toMatch(/<(link|img|iframe)\b|src=|@import|https?:\/\//);
    const data = reportData(html);
    expect(data.pods).toEqual(pods);
    expect(data.steps).toEqual([{ step: 'Bind/<B>', durationsMs: [1, 30] }]);
  });
});

describe('the console', () => {
  test('progress bar', () => {
    expect(progressBar(0, 10, 10)).toBe('[----------]');
    expect(progressBar(5, 10, 10)).toBe('[#####-----]');
    expect(progressBar(0, 0, 4)).toBe('[####]');
  });

  test('off a TTY: a plain line when the counts changed (at most every 2 s), no escape codes, the table at the end', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const display = new ProgressDisplay(out, pods.length);
    display.update(pods.slice(0, 1), nodes, 2_000);
    display.update(pods.slice(0, 2), nodes, 2_500);
    display.update(pods.slice(0, 2), nodes, 5_000);
    display.update(pods, nodes, 5_000);
    display.finish(pods, nodes, 5_000);
    const lines = text.trimEnd().split('\n');
    expect(text).not.toContain('\x1b');
    expect(lines.filter((l) => l.startsWith('['))).toEqual([expect.stringContaining('1/6 settled'), expect.stringContaining('2/6 settled'), expect.stringContaining('6/6 settled: 3 bound, 3 refused')]);
    expect(lines.at(-2)).toMatch(/^ {2}zone-0 +rack-0-0 +2 +rack-0-1 +0 +total +2$/);
  });
});
