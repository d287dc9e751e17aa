import { describe, expect, test } from '@jest/globals';
import { foldKeys, parseBindingArgs, parseExtenderArgs, parseJson, parsePreemptionArgs, toExtenderScores, WireError } from './wire.js';

const pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'uid-1' },
  spec: { schedulerName: 'default-scheduler', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m' } } }] },
};
const node = (name: string) => ({ metadata: { name }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } } });

describe('foldKeys', () => {
  test.each([
    [{ pod: 1, NODENAMES: 2, other: 3 }, { Pod: 1, NodeNames: 2 }],
    [{ nodenames: 1, NodeNames: 2 }, { NodeNames: 2 }],
    [{ NodeNames: 2, nodenames: 1 }, { NodeNames: 2 }],
    [{ nodeNames: 1, NODENAMES: 2 }, { NodeNames: 2 }],
  ])('%j folds to %j', (input, want) => {
    expect(foldKeys(input, ['Pod', 'Nodes', 'NodeNames'])).toEqual(want);
  });
  test('non-objects pass through for zod to reject', () => {
    expect(foldKeys([1], ['Pod'])).toEqual([1]);
    expect(foldKeys(null, ['Pod'])).toBeNull();
  });
});

describe('parseExtenderArgs', () => {
  test('names only (nodeCacheCapable: true), keys in any case', () => {
    const args = parseExtenderArgs({ pod, nodes: null, nodenames: ['n1', 'n2', 'n1'] });
    expect(args.pod).toMatchObject({ name: 'p', namespace: 'default', uid: 'uid-1' });
    expect(args.nodeNames).toEqual(['n1', 'n2']);
    expect(args.withNodes).toBe(false);
  });
  test('a NodeList (nodeCacheCapable: false) gives names and objects', () => {
    const args = parseExtenderArgs({ Pod: pod, Nodes: { ITEMS: [node('a'), node('b')] }, NodeNames: null });
    expect(args.nodeNames).toEqual(['a', 'b']);
    expect(args.withNodes).toBe(true);
    expect(args.nodes.get('a')?.name).toBe('a');
    expect(args.rawNodes.get('b')).toEqual(node('b'));
  });
  test.each<[string, unknown, RegExp]>([
    ['not an object', [1, 2], /ExtenderArgs: .*object/],
    ['no Pod', { NodeNames: ['a'] }, /Pod: must be a JSON object/],
    ['Pod is a string', { Pod: 'p', NodeNames: ['a'] }, /Pod: must be a JSON object/],
    ['NodeNames is a string', { Pod: pod, NodeNames: 'a' }, /NodeNames: must be an array/],
    ['a node name is a number', { Pod: pod, NodeNames: ['a', 7] }, /NodeNames\.1/],
    ['an empty node name', { Pod: pod, NodeNames: [''] }, /NodeNames\.0: must be a non-empty node name/],
    ['a node name of 254 characters', { Pod: pod, NodeNames: ['a', 'n'.repeat(254)] }, /NodeNames\.1: at most 253 characters/],
    ['more than 100000 node names', { Pod: pod, NodeNames: Array.from({ length: 100_001 }, (_, i) => `n${i}`) }, /NodeNames: at most 100000 names/],
    ['Nodes is an array', { Pod: pod, Nodes: [node('a')] }, /Nodes: must be a NodeList/],
    ['an empty pod', { Pod: {}, NodeNames: ['a'] }, /Pod.*(metadata|required)/],
    ['a pod with a bad quantity', { Pod: { ...pod, spec: { containers: [{ name: 'c', resources: { requests: { cpu: 'lots' } } }] } }, NodeNames: ['a'] }, /Pod: .*cpu/],
    ['a node without a name', { Pod: pod, Nodes: { items: [{ metadata: {} }] } }, /Nodes\.items\[0\]/],
  ])('%s is a WireError naming it', (_, input, message) => {
    expect(() => parseExtenderArgs(input)).toThrow(WireError);
    expect(() => parseExtenderArgs(input)).toThrow(message);
  });
});

describe('parseBindingArgs', () => {
  test('keys in any case', () => {
    expect(parseBindingArgs({ podname: 'p', PODNAMESPACE: 'ns', PodUid: 'u', node: 'n1' })).toEqual({ podName: 'p', podNamespace: 'ns', podUid: 'u', node: 'n1' });
  });
  test.each<[string, unknown, RegExp]>([
    ['missing Node', { PodName: 'p', PodNamespace: 'ns', PodUID: 'u' }, /Node/],
    ['PodUID a number', { PodName: 'p', PodNamespace: 'ns', PodUID: 5, Node: 'n' }, /PodUID: must be a string/],
    ['empty PodName', { PodName: '', PodNamespace: 'ns', PodUID: 'u', Node: 'n' }, /PodName: must name the pod/],
  ])('%s is a WireError naming it', (_, input, message) => {
    expect(() => parseBindingArgs(input)).toThrow(message);
  });
});

describe('parsePreemptionArgs', () => {
  test('meta victims (nodeCacheCapable: true), keys in any case', () => {
    const args = parsePreemptionArgs({ pod, nodenametometavictims: { n1: { pods: [{ uid: 'v1' }, { Uid: 'v2' }], numpdbviolations: 1 }, n2: null } });
    expect(args.pod.uid).toBe('uid-1');
    expect([...args.victims]).toEqual([
      ['n1', { uids: ['v1', 'v2'], numPdbViolations: 1 }],
      ['n2', { uids: [], numPdbViolations: 0 }],
    ]);
  });
  test('full victims (nodeCacheCapable: false): their metadata.uid', () => {
    const victim = { metadata: { name: 'v', namespace: 'default', uid: 'v9' }, spec: { containers: [] } };
    const args = parsePreemptionArgs({ Pod: pod, NodeNameToVictims: { n1: { Pods: [victim], NumPDBViolations: 0 } } });
    expect(args.victims.get('n1')).toEqual({ uids: ['v9'], numPdbViolations: 0 });
  });
  test.each<[string, unknown, RegExp]>([
    ['a negative PDB count', { Pod: pod, NodeNameToMetaVictims: { n1: { Pods: [], NumPDBViolations: -1 } } }, /NumPDBViolations: must not be negative/],
    ['an empty UID', { Pod: pod, NodeNameToMetaVictims: { n1: { Pods: [{ UID: '' }] } } }, /UID: must be a non-empty pod UID/],
    ['MetaVictims as a string', { Pod: pod, NodeNameToMetaVictims: { n1: 'v1' } }, /n1: must be a MetaVictims object/],
    ['an empty node name', { Pod: pod, NodeNameToMetaVictims: { '': { Pods: [] } } }, /NodeNameToMetaVictims/],
  ])('%s is a WireError naming it', (_, input, message) => {
    expect(() => parsePreemptionArgs(input)).toThrow(message);
  });
});

describe('parseJson', () => {
  test.each([
    ['', /empty/],
    ['{"Pod": {"metadata"', /not valid JSON/],
    ['{Pod: 1}', /not valid JSON/],
  ])('%j is a WireError', (body, message) => {
    expect(() => parseJson(body)).toThrow(message);
  });
});

test('scores map to 0..10 relative to the best node', () => {
  expect(toExtenderScores([{ nodeName: 'a', total: 200 }, { nodeName: 'b', total: 100 }, { nodeName: 'c', total: 0 }])).toEqual(
    new Map([['a', 10], ['b', 5], ['c', 0]]),
  );
  expect(toExtenderScores([{ nodeName: 'a', total: 0 }])).toEqual(new Map([['a', 0]]));
});
