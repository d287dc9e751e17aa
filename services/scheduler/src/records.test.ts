import { describe, expect, test } from '@jest/globals';
import { Status } from '@schedmesh/framework';
import type { AttemptResult } from '@schedmesh/mesh';
import { makePod } from '@schedmesh/testkit';
import { AttemptRecords } from './records.js';

const result = (outcome: AttemptResult['outcome'], nodeName = '', message = ''): AttemptResult => ({
  outcome,
  status: outcome === 'scheduled' ? Status.SUCCESS : Status.unschedulable(message),
  nodeName,
  message,
  generation: 7,
  fencingVersion: 0,
  ranked: [],
  steps: [],
  traceId: `trace-${outcome}`,
  rejectors: [],
  rejectedNodes: new Map(),
  nominatedNodeName: '',
  candidates: [],
  nominationCleared: false,
  heldElsewhere: false,
  patched: { labels: {}, annotations: {} },
  admissionPolicies: [],
});

describe('AttemptRecords', () => {
  test('an attempt in flight keeps the last outcome until it finishes', () => {
    const records = new AttemptRecords();
    const pod = makePod('web-0', 'shop').uid('u0').build();
    records.started(pod, 1);
    expect(records.get('u0')).toMatchObject({ inFlight: true, attempts: 1, outcome: undefined });
    records.finished(pod, result('unschedulable', '', '0/3 nodes are available'));
    records.started(pod, 2);
    expect(records.get('u0')).toMatchObject({ inFlight: true, attempts: 2, outcome: 'unschedulable', message: '0/3 nodes are available', traceId: 'trace-unschedulable' });
    records.finished(pod, result('scheduled', 'n1'));
    expect(records.byPodName('shop', 'web-0')).toMatchObject({ inFlight: false, attempts: 2, outcome: 'scheduled', nodeName: 'n1' });
  });

  test.each([
    ['scheduled by us stays scheduled', 'scheduled' as const, 'scheduled'],
    ['bound by someone else is settled', 'unschedulable' as const, 'settled'],
  ])('%s', (_, before, after) => {
    const records = new AttemptRecords();
    const pod = makePod('p', 'ns').uid('u').build();
    records.started(pod, 1);
    records.finished(pod, result(before, before === 'scheduled' ? 'n1' : ''));
    records.bound({ ...pod, nodeName: 'n2' });
    expect(records.get('u')).toMatchObject({ outcome: after, nodeName: 'n2', inFlight: false });
  });

  test('bounded: the least recently touched pod goes first, by uid and by name', () => {
    const records = new AttemptRecords({ capacity: 2 });
    const pods = ['a', 'b', 'c'].map((n) => makePod(n, 'ns').uid(`u-${n}`).build());
    records.started(pods[0]!, 1);
    records.started(pods[1]!, 1);
    records.finished(pods[0]!, result('scheduled', 'n1')); // touches a: b is now the oldest
    records.started(pods[2]!, 1);
    expect(records.size).toBe(2);
    expect(records.get('u-b')).toBeUndefined();
    expect(records.byPodName('ns', 'b')).toBeUndefined();
    expect(records.get('u-a')?.outcome).toBe('scheduled');
    expect(records.byPodName('ns', 'c')?.uid).toBe('u-c');
  });

  test('a pod recreated under the same name is found by name as the new one', () => {
    const records = new AttemptRecords();
    records.started(makePod('sts-0', 'ns').uid('old').build(), 3);
    records.started(makePod('sts-0', 'ns').uid('new').build(), 1);
    expect(records.byPodName('ns', 'sts-0')?.uid).toBe('new');
    expect(records.get('old')?.attempts).toBe(3);
  });
});

describe('AttemptRecords explanations', () => {
  test('kept for the most recently finished pods only, and gone with their record', () => {
    const records = new AttemptRecords({ capacity: 3, explained: 2 });
    const pods = ['a', 'b', 'c', 'd'].map((n) => makePod(n, 'ns').uid(`u-${n}`).build());
    for (const p of pods.slice(0, 3)) {
      records.started(p, 1);
      records.finished(p, { ...result('unschedulable', '', 'no'), rejectedNodes: new Map([['n1', Status.unschedulable('Insufficient cpu').withPlugin('NodeResourcesFit')]]) });
    }
    expect(records.explanation('u-a')).toBeUndefined(); // two explained: b and c
    expect(records.explainedSize).toBe(2);
    expect(records.get('u-a')?.outcome).toBe('unschedulable'); // the record itself stays
    expect(records.explanation('u-c')?.reasons[0]).toMatchObject({ reason: 'Insufficient cpu', nodeCount: 1, nodeNames: ['n1'] });
    records.started(pods[3]!, 1); // capacity 3: a (the oldest record) goes
    records.started(pods[0]!, 2); // a comes back, b is now the oldest and goes with its explanation
    expect(records.get('u-b')).toBeUndefined();
    expect(records.explanation('u-b')).toBeUndefined();
    expect(records.explanation('u-c')?.reasons[0]).toMatchObject({ reason: 'Insufficient cpu', nodeCount: 1 });
    expect({ size: records.size, explainedSize: records.explainedSize }).toEqual({ size: 3, explainedSize: 1 });
  });
});
