import { describe, expect, test } from '@jest/globals';
import type { Resources } from '@schedmesh/proto/v1/types';
import { QuantityError } from './quantity.js';
import {
  addInto,
  addResources,
  cloneResources,
  DEFAULT_MEMORY_REQUEST,
  effectivePodRequests,
  fitsResources,
  formatResourceAmount,
  getResource,
  insufficientResources,
  isCoreResourceName,
  isScalarResourceName,
  isZeroResources,
  maxResources,
  parseResourceList,
  ResourceError,
  resourceNameProblem,
  resourcesEqual,
  resourcesFromAmounts,
  setResource,
  subtractResources,
  zeroResources,
} from './resources.js';
import type { FitOptions, PodResourceInput } from './resources.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

function res(r: Partial<Resources>): Resources {
  return { ...zeroResources(), ...r, scalar: { ...(r.scalar ?? {}) } };
}

function list(l: Record<string, string>): ReturnType<typeof parseResourceList> {
  return parseResourceList(l);
}

describe('arithmetic', () => {
  const a = res({ milliCpu: 1500, memory: 2 * Gi, ephemeralStorage: 10, pods: 3, scalar: { 'nvidia.com/gpu': 2, 'hugepages-2Mi': 4 * Mi } });
  const b = res({ milliCpu: 500, memory: Gi, pods: 1, scalar: { 'nvidia.com/gpu': 1, 'example.com/fpga': 1 } });

  test('add is key-wise and pure', () => {
    const sum = addResources(a, b);
    expect(sum).toEqual(res({ milliCpu: 2000, memory: 3 * Gi, ephemeralStorage: 10, pods: 4, scalar: { 'nvidia.com/gpu': 3, 'hugepages-2Mi': 4 * Mi, 'example.com/fpga': 1 } }));
    expect(a.milliCpu).toBe(1500);
    expect(a.scalar['example.com/fpga']).toBeUndefined();
  });

  test('subtract is key-wise and may go negative', () => {
    expect(subtractResources(a, b)).toEqual(
      res({ milliCpu: 1000, memory: Gi, ephemeralStorage: 10, pods: 2, scalar: { 'nvidia.com/gpu': 1, 'hugepages-2Mi': 4 * Mi, 'example.com/fpga': -1 } }),
    );
  });

  test('max is key-wise', () => {
    expect(maxResources(b, a)).toEqual(
      res({ milliCpu: 1500, memory: 2 * Gi, ephemeralStorage: 10, pods: 3, scalar: { 'nvidia.com/gpu': 2, 'hugepages-2Mi': 4 * Mi, 'example.com/fpga': 1 } }),
    );
  });

  test('addInto mutates and returns its accumulator', () => {
    const acc = zeroResources();
    expect(addInto(addInto(acc, a), b)).toBe(acc);
    expect(resourcesEqual(acc, addResources(a, b))).toBe(true);
  });

  test('zero, clone, equality', () => {
    expect(isZeroResources(zeroResources())).toBe(true);
    expect(isZeroResources(res({ scalar: { 'nvidia.com/gpu': 0 } }))).toBe(true);
    expect(isZeroResources(res({ pods: 1 }))).toBe(false);
    const c = cloneResources(a);
    expect(c).toEqual(a);
    c.scalar['nvidia.com/gpu'] = 9;
    expect(a.scalar['nvidia.com/gpu']).toBe(2);
    expect(resourcesEqual(res({ scalar: { x: 0 } }), zeroResources())).toBe(true);
    expect(resourcesEqual(a, b)).toBe(false);
  });

  test.each<[string, number]>([
    ['cpu', 1500],
    ['memory', 2 * Gi],
    ['ephemeral-storage', 10],
    ['pods', 3],
    ['nvidia.com/gpu', 2],
    ['example.com/none', 0],
    ['constructor', 0],
  ])('getResource(%s) = %p', (name, amount) => {
    expect(getResource(a, name)).toBe(amount);
  });

  test('setResource by name', () => {
    const r = zeroResources();
    setResource(r, 'cpu', 250);
    setResource(r, 'example.com/foo', 3);
    expect(r).toEqual(res({ milliCpu: 250, scalar: { 'example.com/foo': 3 } }));
  });

  test.each<[string, number, string]>([
    ['cpu', 500, '500m'],
    ['cpu', 2000, '2'],
    ['memory', Gi, '1Gi'],
    ['ephemeral-storage', 1e9, '1G'],
    ['hugepages-2Mi', 4 * Mi, '4Mi'],
    ['nvidia.com/gpu', 2, '2'],
  ])('formatResourceAmount(%s, %p) = %p', (name, amount, text) => {
    expect(formatResourceAmount(name, amount)).toBe(text);
  });
});

describe('insufficientResources', () => {
  // Mirrors TestEnoughRequests in pkg/scheduler/framework/plugins/noderesources/fit_test.go:
  // the node has 10m CPU, 20 B memory, 20 B ephemeral storage, 32 pods, 5 example.com/aaa, 5 hugepages-2Mi.
  const allocatable = res({ milliCpu: 10, memory: 20, ephemeralStorage: 20, pods: 32, scalar: { 'example.com/aaa': 5, 'hugepages-2Mi': 5 } });
  const cases: [string, Partial<Resources>, Partial<Resources>, string[], FitOptions?][] = [
    ['no resources requested always fits', {}, { milliCpu: 10, memory: 20 }, []],
    ['too many resources fails', { milliCpu: 1, memory: 1 }, { milliCpu: 10, memory: 20 }, ['cpu', 'memory']],
    ['too many resources fails due to cpu', { milliCpu: 3, memory: 1 }, { milliCpu: 8, memory: 19 }, ['cpu']],
    ['too many resources fails due to memory', { milliCpu: 1, memory: 2 }, { milliCpu: 5, memory: 19 }, ['memory']],
    ['equal edge case', { milliCpu: 5, memory: 10 }, { milliCpu: 5, memory: 10 }, []],
    ['extended resource fits', { scalar: { 'example.com/aaa': 1 } }, { scalar: { 'example.com/aaa': 4 } }, []],
    ['extended resource capacity enforced', { scalar: { 'example.com/aaa': 2 } }, { scalar: { 'example.com/aaa': 4 } }, ['example.com/aaa']],
    ['unknown extended resource', { scalar: { 'example.com/bbb': 1 } }, {}, ['example.com/bbb']],
    ['zero request of an unknown resource', { scalar: { 'example.com/bbb': 0 } }, {}, []],
    ['hugepages enforced', { scalar: { 'hugepages-2Mi': 6 } }, {}, ['hugepages-2Mi']],
    ['ephemeral storage enforced', { ephemeralStorage: 25 }, { ephemeralStorage: 2 }, ['ephemeral-storage']],
    ['too many pods', {}, { pods: 32 }, ['pods']],
    ['too many pods and cpu', { milliCpu: 11 }, { pods: 32 }, ['pods', 'cpu']],
    ['ignored extended resource', { scalar: { 'example.com/bbb': 1 } }, {}, [], { ignoredResources: new Set(['example.com/bbb']) }],
    ['ignored resource group', { scalar: { 'example.com/bbb': 1 } }, {}, [], { ignoredResourceGroups: new Set(['example.com']) }],
    ['hugepages are not extended resources: never ignored', { scalar: { 'hugepages-2Mi': 6 } }, {}, ['hugepages-2Mi'], { ignoredResources: new Set(['hugepages-2Mi']) }],
  ];

  test.each(cases.map(([name, pod, requested, short, options]) => ({ name, pod, requested, short, options })))('$name', ({ pod, requested, short, options }) => {
    const podRequest = res(pod);
    const got = insufficientResources(podRequest, allocatable, res(requested), options);
    expect(got.map((r) => r.resourceName)).toEqual(short);
    expect(fitsResources(podRequest, allocatable, res(requested), options)).toBe(short.length === 0);
  });

  test('reasons and amounts', () => {
    expect(insufficientResources(res({ milliCpu: 3 }), allocatable, res({ milliCpu: 8, pods: 32 }))).toEqual([
      { resourceName: 'pods', reason: 'Too many pods', requested: 1, used: 32, capacity: 32 },
      { resourceName: 'cpu', reason: 'Insufficient cpu', requested: 3, used: 8, capacity: 10 },
    ]);
  });
});

describe('parseResourceList', () => {
  test('cpu in milli, the rest in units', () => {
    const l = list({ cpu: '250m', memory: '64Mi', 'nvidia.com/gpu': '1' });
    expect(resourcesFromAmounts(l)).toEqual(res({ milliCpu: 250, memory: 64 * Mi, scalar: { 'nvidia.com/gpu': 1 } }));
  });

  test.each<[Record<string, string>, string]>([
    [{ cpu: '1Kib' }, 'cpu'],
    [{ memory: '-1Gi' }, 'memory'],
    [{ cpu: '1', 'nvidia.com/gpu': '' }, 'nvidia.com/gpu'],
  ])('%p is refused for %s', (l, name) => {
    let err: unknown;
    try {
      parseResourceList(l);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResourceError);
    expect((err as ResourceError).resourceName).toBe(name);
    expect((err as ResourceError).cause).toBeInstanceOf(QuantityError);
  });
});

describe('effectivePodRequests', () => {
  interface Case {
    name: string;
    containers: Record<string, string>[];
    inits?: [Record<string, string>, boolean][];
    overhead?: Record<string, string>;
    podLevel?: Record<string, string>;
    requests: Partial<Resources>;
    nonZero: Partial<Resources>;
  }
  // Mirrors TestPodRequests (k8s.io/component-helpers/resource/helpers_test.go) and
  // TestCalculateResource (pkg/scheduler/framework/types_test.go) for the non-zero variant.
  const cases: Case[] = [
    {
      name: 'one container',
      containers: [{ cpu: '2', memory: '1Gi' }],
      requests: { milliCpu: 2000, memory: Gi },
      nonZero: { milliCpu: 2000, memory: Gi },
    },
    {
      name: 'containers are summed',
      containers: [{ cpu: '1', memory: '1Gi' }, { cpu: '500m', memory: '512Mi', 'nvidia.com/gpu': '1' }],
      requests: { milliCpu: 1500, memory: 1536 * Mi, scalar: { 'nvidia.com/gpu': 1 } },
      nonZero: { milliCpu: 1500, memory: 1536 * Mi, scalar: { 'nvidia.com/gpu': 1 } },
    },
    {
      name: 'a larger init container wins',
      containers: [{ cpu: '1', memory: '1Gi' }],
      inits: [[{ cpu: '2', memory: '512Mi' }, false]],
      requests: { milliCpu: 2000, memory: Gi },
      nonZero: { milliCpu: 2000, memory: Gi },
    },
    {
      name: 'restartable init container (sidecar) adds to the containers',
      containers: [{ cpu: '1' }],
      inits: [[{ cpu: '1' }, true]],
      requests: { milliCpu: 2000 },
      nonZero: { milliCpu: 2000, memory: 2 * DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'restartable init container, then a larger regular one',
      containers: [{ cpu: '1' }],
      inits: [
        [{ cpu: '1' }, true],
        [{ cpu: '5' }, false],
      ],
      requests: { milliCpu: 6000 },
      nonZero: { milliCpu: 6000, memory: 2 * DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'multiple restartable and regular init containers',
      containers: [{ cpu: '1' }],
      inits: [
        [{ cpu: '5' }, false],
        [{ cpu: '1' }, true],
        [{ cpu: '3' }, false],
        [{ cpu: '2' }, true],
        [{ cpu: '3' }, false],
      ],
      requests: { milliCpu: 6000 },
      nonZero: { milliCpu: 6000, memory: 3 * DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'overhead comes on top',
      containers: [{ cpu: '1', memory: '1Gi' }],
      inits: [[{ cpu: '2' }, false]],
      overhead: { cpu: '250m', memory: '120Mi' },
      requests: { milliCpu: 2250, memory: Gi + 120 * Mi },
      nonZero: { milliCpu: 2250, memory: Gi + 120 * Mi },
    },
    {
      name: 'sub-milli requests are summed before rounding',
      containers: [{ cpu: '0.5m' }, { cpu: '500u' }, { cpu: '0.0001' }],
      requests: { milliCpu: 2 },
      nonZero: { milliCpu: 2, memory: 3 * DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'no requests: zero, and the defaults for scoring',
      containers: [{}, {}],
      requests: {},
      nonZero: { milliCpu: 200, memory: 2 * DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'an explicit zero is not defaulted',
      containers: [{ cpu: '0' }],
      requests: { milliCpu: 0 },
      nonZero: { milliCpu: 0, memory: DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'defaults apply per container',
      containers: [{ cpu: '1' }, { memory: '1Gi' }],
      requests: { milliCpu: 1000, memory: Gi },
      nonZero: { milliCpu: 1100, memory: Gi + DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'pod-level requests replace the containers',
      containers: [{ cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' }],
      podLevel: { cpu: '3', 'nvidia.com/gpu': '4' },
      requests: { milliCpu: 3000, memory: Gi, scalar: { 'nvidia.com/gpu': 1 } },
      nonZero: { milliCpu: 3000, memory: Gi, scalar: { 'nvidia.com/gpu': 1 } },
    },
    {
      name: 'pod-level requests: only a resource missing at both levels is defaulted',
      containers: [{}, {}],
      podLevel: { cpu: '2' },
      requests: { milliCpu: 2000 },
      nonZero: { milliCpu: 2000, memory: 2 * DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'unsupported pod-level resources alone do not count as pod-level requests',
      containers: [{}],
      podLevel: { 'nvidia.com/gpu': '1' },
      requests: {},
      nonZero: { milliCpu: 100, memory: DEFAULT_MEMORY_REQUEST },
    },
    {
      name: 'scalar and storage resources',
      containers: [{ 'ephemeral-storage': '1Gi', 'hugepages-2Mi': '4Mi', 'example.com/foo': '2' }],
      inits: [[{ 'example.com/foo': '3' }, false]],
      requests: { ephemeralStorage: Gi, scalar: { 'hugepages-2Mi': 4 * Mi, 'example.com/foo': 3 } },
      nonZero: { milliCpu: 100, memory: DEFAULT_MEMORY_REQUEST, ephemeralStorage: Gi, scalar: { 'hugepages-2Mi': 4 * Mi, 'example.com/foo': 3 } },
    },
  ];

  test.each(cases)('$name', (c) => {
    const input: PodResourceInput = {
      containers: c.containers.map(list),
      initContainers: (c.inits ?? []).map(([l, restartable]) => ({ requests: list(l), restartable })),
      overhead: c.overhead === undefined ? undefined : list(c.overhead),
      podLevelRequests: c.podLevel === undefined ? undefined : list(c.podLevel),
    };
    const got = effectivePodRequests(input);
    expect(got.requests).toEqual(res(c.requests));
    expect(got.nonZeroRequests).toEqual(res(c.nonZero));
  });

  test('a sum beyond 2^53-1 is refused', () => {
    expect(() => effectivePodRequests({ containers: [list({ memory: '5P' }), list({ memory: '5P' })] })).toThrow(ResourceError);
  });
});

describe('resource names', () => {
  test.each<[string, boolean, boolean, boolean]>([
    // name, core, a valid resource name, scalar
    ['cpu', true, true, false],
    ['memory', true, true, false],
    ['ephemeral-storage', true, true, false],
    ['pods', true, true, false],
    ['nvidia.com/gpu', false, true, true],
    ['hugepages-2Mi', false, true, true],
    ['attachable-volumes-aws-ebs', false, true, true],
    ['example.com/Foo_bar.1', false, true, true],
    ['', false, false, false],
    ['/gpu', false, false, false],
    ['Example.com/gpu', false, false, false],
    ['nvidia.com/', false, false, false],
    ['a=b', false, false, false],
    ['a;b', false, false, false],
    ['gpu count', false, false, false],
    [`x.io/${'a'.repeat(64)}`, false, false, false],
  ])('%j: core %s, valid %s, scalar %s', (name, core, valid, scalar) => {
    expect(isCoreResourceName(name)).toBe(core);
    expect(resourceNameProblem(name) === undefined).toBe(valid);
    expect(isScalarResourceName(name)).toBe(scalar);
  });
});
