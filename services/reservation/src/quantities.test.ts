import { expect, test } from '@jest/globals';
import { zeroResources } from '@schedmesh/model';
import type { Resources } from '@schedmesh/proto/v1/types';
import { decodeQuantities, encodeQuantities, nodeCapacity, podDemand, toResources } from './quantities.js';

const res = (r: Partial<Resources>): Resources => ({ ...zeroResources(), ...r, scalar: { ...(r.scalar ?? {}) } });

test.each<[string, Partial<Resources>, string]>([
  ['nothing but the pod slot', {}, 'pods=1'],
  ['the core resources in canonical order, pods always 1', { memory: 1024, milliCpu: 500, ephemeralStorage: 7, pods: 0 }, 'cpu=500;memory=1024;ephemeral-storage=7;pods=1'],
  ['scalars sorted by name after the core ones', { milliCpu: 1, scalar: { 'nvidia.com/gpu': 2, 'hugepages-2Mi': 2097152 } }, 'cpu=1;pods=1;hugepages-2Mi=2097152;nvidia.com/gpu=2'],
  ['zero and negative amounts dropped, fractions truncated', { milliCpu: -5, memory: 1.9, scalar: { 'example.com/a': 0 } }, 'memory=1;pods=1'],
  // Names the wire encoding could not carry never reach it (the model's resource-name rule).
  ['names that are no resource names ignored', { scalar: { 'a=b': 1, 'x;y': 1, cpu: 3, '': 1 } }, 'pods=1'],
])('podDemand: %s', (_name, requests, encoded) => {
  expect(encodeQuantities(podDemand(res(requests)))).toBe(encoded);
});

test('nodeCapacity lists the four core resources always, then valid scalars', () => {
  expect(encodeQuantities(nodeCapacity(res({ milliCpu: 4000, pods: 110, scalar: { 'nvidia.com/gpu': 8, 'bad name': 1 } })))).toBe(
    'cpu=4000;memory=0;ephemeral-storage=0;pods=110;nvidia.com/gpu=8',
  );
  expect(encodeQuantities(nodeCapacity(undefined))).toBe('cpu=0;memory=0;ephemeral-storage=0;pods=0');
});

test.each<[string, Partial<Resources>]>([
  ['core resources', { milliCpu: 500, memory: 2 ** 30, ephemeralStorage: 1, pods: 1 }],
  ['scalars', { pods: 1, scalar: { 'nvidia.com/gpu': 2, 'hugepages-1Gi': 2 ** 30 } }],
])('toResources turns the wire form back into Resources: %s', (_name, r) => {
  const demand = podDemand(res(r));
  expect(toResources(decodeQuantities(encodeQuantities(demand)))).toEqual(res(r));
});
