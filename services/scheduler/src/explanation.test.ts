import { describe, expect, test } from '@jest/globals';
import { Status } from '@schedmesh/framework';
import { FILTERSCORE_PLUGIN } from '@schedmesh/mesh';
import type { AttemptResult } from '@schedmesh/mesh';
import type { NodeScore } from '@schedmesh/proto/v1/types';
import { aggregateReasons, Diagnosis } from '@schedmesh/scheduling';
import { explainAttempt } from './explanation.js';

function result(over: Partial<AttemptResult>): AttemptResult {
  return {
    outcome: 'unschedulable',
    status: Status.unschedulable('0/5 nodes are available').withPlugin('NodeResourcesFit'),
    nodeName: '',
    message: '',
    generation: 1,
    fencingVersion: 0,
    ranked: [],
    steps: [],
    traceId: 't',
    rejectors: [],
    rejectedNodes: new Map(),
    nominatedNodeName: '',
    patched: { labels: {}, annotations: {} },
    admissionPolicies: [],
    candidates: [],
    nominationCleared: false,
    heldElsewhere: false,
    ...over,
  };
}

const cpu = Status.unschedulable('Insufficient cpu').withPlugin('NodeResourcesFit');
const taint = Status.unresolvable('node(s) had untolerated taint(s)').withPlugin('TaintToleration');
const cpuAndMemory = Status.unschedulable('Insufficient cpu', 'Insufficient memory').withPlugin('NodeResourcesFit');

const score = (nodeName: string, total: number): NodeScore => ({ nodeName, total, plugins: [{ plugin: 'NodeResourcesFit', score: total, weight: 1 }] });

describe('explainAttempt', () => {
  test('groups the rejections by reason as the FailedScheduling event counts them, a node once under each of its reasons', () => {
    const e = explainAttempt(
      result({
        rejectedNodes: new Map([
          ['n1', cpu],
          ['n2', cpuAndMemory],
          ['n3', taint],
          ['n4', cpu],
        ]),
      }),
    );
    expect(e.rejectedNodeCount).toBe(4);
    // Upstream sorts "<count> <reason>" as strings: "1 Insufficient memory" < "1 node(s)..." < "3 Insufficient cpu".
    expect(e.reasons).toEqual([
      { reason: 'Insufficient memory', nodeCount: 1, nodeNames: ['n2'], plugin: 'NodeResourcesFit', resolvable: true },
      { reason: 'node(s) had untolerated taint(s)', nodeCount: 1, nodeNames: ['n3'], plugin: 'TaintToleration', resolvable: false },
      { reason: 'Insufficient cpu', nodeCount: 3, nodeNames: ['n1', 'n2', 'n4'], plugin: 'NodeResourcesFit', resolvable: true },
    ]);
    expect(e.decidedBy).toBe('NodeResourcesFit');
  });

  test('counts and orders the reasons exactly as aggregateReasons of the runner (the FailedScheduling message) does', () => {
    const statuses = [cpu, taint, cpuAndMemory, Status.unschedulable('Too many pods').withPlugin('NodeResourcesFit'), Status.unresolvable('node(s) were unschedulable').withPlugin('NodeUnschedulable')];
    const rejected = new Map<string, Status>();
    // Counts that sort differently as strings and as numbers (12 < 9 as strings), as upstream lists them.
    for (let i = 0; i < 40; i++) rejected.set(`n${i}`, statuses[(i * 7) % statuses.length]!);
    for (let i = 40; i < 52; i++) rejected.set(`n${i}`, cpu);
    const diagnosis = new Diagnosis();
    for (const [node, status] of rejected) diagnosis.set(node, status);
    const e = explainAttempt(result({ rejectedNodes: rejected }));
    expect(e.reasons.map((r) => ({ reason: r.reason, count: r.nodeCount, resolvable: r.resolvable }))).toEqual(aggregateReasons(diagnosis, rejected.size));
  });

  test('bounded: a few nodes named per reason, the most frequent reasons, a few top nodes', () => {
    const rejected = new Map<string, Status>();
    for (let i = 0; i < 1000; i++) rejected.set(`n${i}`, i % 2 === 0 ? cpu : Status.unschedulable(`reason ${i}`).withPlugin('P'));
    const ranked = Array.from({ length: 50 }, (_, i) => score(`f${i}`, 100 - i));
    const e = explainAttempt(result({ rejectedNodes: rejected, ranked }), { maxReasons: 4, nodesPerReason: 2, topNodes: 3 });
    expect(e.rejectedNodeCount).toBe(1000);
    expect(e.reasons).toHaveLength(4);
    for (const r of e.reasons) expect(r.nodeNames.length).toBeLessThanOrEqual(2);
    const cpuGroup = e.reasons.find((r) => r.reason === 'Insufficient cpu');
    expect(cpuGroup).toMatchObject({ nodeCount: 500, nodeNames: ['n0', 'n2'] });
    expect(e.topNodes.map((n) => n.nodeName)).toEqual(['f0', 'f1', 'f2']);
  });

  test('no node passed the filters: every plugin that rejected a node decided, the most rejections first', () => {
    const e = explainAttempt(
      result({
        status: Status.unschedulable('0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu.').withPlugin(FILTERSCORE_PLUGIN),
        rejectedNodes: new Map([
          ['n1', taint],
          ['n2', cpu],
          ['n3', cpu],
        ]),
      }),
    );
    expect(e.decidedBy).toBe('NodeResourcesFit, TaintToleration');
  });

  test('a scheduled pod: no deciding plugin, the top nodes with their plugin scores, the admitting policies', () => {
    const e = explainAttempt(result({ outcome: 'scheduled', status: Status.SUCCESS, nodeName: 'f0', ranked: [score('f0', 90), score('f1', 80)], admissionPolicies: ['team-a/gpu-pool'] }));
    expect(e).toMatchObject({ decidedBy: '', admissionPolicies: ['team-a/gpu-pool'], reasons: [], rejectedNodeCount: 0 });
    expect(e.topNodes[0]).toEqual({ nodeName: 'f0', total: 90, plugins: [{ plugin: 'NodeResourcesFit', score: 90, weight: 1 }] });
  });

  test('an admission rejection names admission and its policy, with no per-node reasons', () => {
    const status = Status.unresolvable('app is hibernating (policy locked/lockdown)').withPlugin('SchedmeshAdmission');
    const e = explainAttempt(result({ outcome: 'rejected', status, admissionPolicies: ['locked/lockdown'] }));
    expect(e).toMatchObject({ decidedBy: 'SchedmeshAdmission', admissionPolicies: ['locked/lockdown'], reasons: [], topNodes: [] });
  });
});
