import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { policyObject } from '@schedmesh/testkit';
import { admissionPolicySpecSchema, compilePolicy, fieldPath, parsePolicySpec } from './policy.js';

/** A policy with every block, as a platform team would write it. */
const fullSpec = {
  targetNamespaces: { names: ['team-a'], selectors: [{ matchLabels: { tenant: 'true' } }, { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] }] },
  rejectIfNotMatch: true,
  failurePolicy: 'Ignore',
  webhookRef: 'quota-check',
  hibernation: { apps: ['web'], wakeHint: 'ask #platform' },
  hostPath: {
    platform: [{ path: '/var/log', readOnly: true }],
    namespaces: [{ namespace: 'team-a', paths: [{ path: '/data/team-a/' }] }],
    workloads: [{ name: 'collector', selector: { matchLabels: { app: 'collector' } }, paths: [{ path: '/run/collector' }] }],
  },
  tenantRBAC: { nodePools: ['pool-a', 'pool-b'], openPools: ['general'], extendedResources: ['nvidia.com/gpu'] },
};

function issues(spec: unknown): { field: string; reason: string }[] {
  const r = parsePolicySpec(JSON.stringify(spec));
  return r.ok ? [] : [...r.issues];
}

describe('AdmissionPolicy spec validation', () => {
  test('a full policy compiles with defaults applied and paths normalized', () => {
    const r = compilePolicy(policyObject('tenants', fullSpec, { generation: 3, resourceVersion: '42' }));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const p = r.policy;
    expect(p).toMatchObject({ key: 'tenants', generation: 3, resourceVersion: '42', rejectIfNotMatch: true, failurePolicy: 'Ignore', webhookRef: 'quota-check' });
    expect(p.hostPath?.byNamespace.get('team-a')?.[0]).toMatchObject({ path: { path: '/data/team-a' }, readOnly: false, tier: 'namespace' });
    expect(p.hostPath?.platform[0]).toMatchObject({ readOnly: true, tier: 'platform' });
    expect(p.targets({ name: 'team-a', labels: {}, annotations: {} })).toBe(true);
    expect(p.targets({ name: 'x', labels: { tenant: 'true' }, annotations: {} })).toBe(true);
    expect(p.targets({ name: 'y', labels: { tier: 'silver' }, annotations: {} })).toBe(true);
    expect(p.targets({ name: 'z', labels: { tier: 'bronze' }, annotations: {} })).toBe(false);
  });

  test('an empty spec is a valid policy that targets every namespace and fails closed', () => {
    const r = compilePolicy(policyObject('noop', {}));
    expect(r.ok && r.policy.targets({ name: 'anything', labels: {}, annotations: {} })).toBe(true);
    expect(r.ok && r.policy.failurePolicy).toBe('Fail');
  });

  test.each([
    ['an unknown top-level field', 'spec.bogus', { ...fullSpec, bogus: 1 }, /unknown field/],
    ['an unknown nested field', 'spec.hostPath.platform[0].readonly', { hostPath: { platform: [{ path: '/var/log', readonly: true }] } }, /unknown field/],
    ['an unknown selector field', 'spec.targetNamespaces.selectors[0].matchLabel', { targetNamespaces: { selectors: [{ matchLabel: { a: 'b' } }] } }, /unknown field/],
    ['an empty namespace selector', 'spec.targetNamespaces.selectors[0]', { targetNamespaces: { selectors: [{}] } }, /must not be empty/],
    ['an empty selector with empty lists', 'spec.targetNamespaces.selectors[0]', { targetNamespaces: { selectors: [{ matchLabels: {}, matchExpressions: [] }] } }, /must not be empty/],
    ['an empty workload selector', 'spec.hostPath.workloads[0].selector', { hostPath: { workloads: [{ name: 'w', selector: {}, paths: [{ path: '/x' }] }] } }, /must not be empty/],
    ['empty targetNamespaces', 'spec.targetNamespaces', { targetNamespaces: {} }, /at least one name or selector/],
    ['a bad selector operator', 'spec.targetNamespaces.selectors[0].matchExpressions[0].operator', { targetNamespaces: { selectors: [{ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }] } }, /unsupported operator/],
    ['In without values', 'spec.targetNamespaces.selectors[0].matchExpressions[0].values', { targetNamespaces: { selectors: [{ matchExpressions: [{ key: 'a', operator: 'In' }] }] } }, /must be specified/],
    ['a bad label key', 'spec.targetNamespaces.selectors[0].matchLabels[bad key]', { targetNamespaces: { selectors: [{ matchLabels: { 'bad key': 'x' } }] } }, /alphanumeric/],
    ['a bad namespace name', 'spec.targetNamespaces.names[0]', { targetNamespaces: { names: ['Team_A'] } }, /namespace name/],
    ['a relative allowlist path', 'spec.hostPath.platform[0].path', { hostPath: { platform: [{ path: 'var/log' }] } }, /relative/],
    ['a ".." allowlist path', 'spec.hostPath.platform[0].path', { hostPath: { platform: [{ path: '/var/log/../../etc' }] } }, /"\.\."/],
    ['"/" as an allowlist path', 'spec.hostPath.platform[0].path', { hostPath: { platform: [{ path: '/' }] } }, /whole host file system/],
    ['"//" as an allowlist path', 'spec.hostPath.namespaces[0].paths[0].path', { hostPath: { namespaces: [{ namespace: 'a', paths: [{ path: '//' }] }] } }, /whole host file system/],
    ['a control character in a path', 'spec.hostPath.platform[0].path', { hostPath: { platform: [{ path: '/var/log\u0000' }] } }, /control character/],
    ['an empty path list', 'spec.hostPath.platform', { hostPath: { platform: [] } }, /at least one path/],
    ['a hostPath type that needs no allowing', 'spec.hostPath.platform[0].allowTypes[0]', { hostPath: { platform: [{ path: '/run', allowTypes: ['Directory'] }] } }, /Socket.*CharDevice.*BlockDevice/],
    ['a repeated allowed type', 'spec.hostPath.platform[0].allowTypes', { hostPath: { platform: [{ path: '/run', allowTypes: ['Socket', 'Socket'] }] } }, /must not repeat a type/],
    ['a wrong type', 'spec.rejectIfNotMatch', { rejectIfNotMatch: 'yes' }, /boolean/],
    ['an unknown failure policy', 'spec.failurePolicy', { failurePolicy: 'Deny' }, /Fail|Ignore/],
    ['a bad webhook name', 'spec.webhookRef', { webhookRef: 'has space' }, /gateway plugin/],
    ['an empty hibernation block', 'spec.hibernation', { hibernation: {} }, /allApps or list apps/],
    ['an empty tenantRBAC block', 'spec.tenantRBAC', { tenantRBAC: { openPools: ['general'] } }, /nodePools or extendedResources/],
    ['a core resource as an extended resource', 'spec.tenantRBAC.extendedResources[0]', { tenantRBAC: { extendedResources: ['cpu'] } }, /extended resource name/],
    ['a bad pool name', 'spec.tenantRBAC.nodePools[0]', { tenantRBAC: { nodePools: ['pool a'] } }, /node pool name/],
  ])('%s is refused, naming %s', (_what, field, spec, reason) => {
    const found = issues(spec);
    expect(found[0]?.field).toBe(field);
    expect(found[0]?.reason).toMatch(reason);
  });

  test('every unknown field of a version is named', () => {
    expect(issues({ a: 1, b: 2 }).map((i) => i.field)).toEqual(['spec.a', 'spec.b']);
  });

  test.each([
    ['not JSON', '{', /not valid JSON/],
    ['an array', '[]', /must be an object/],
    ['null', 'null', /must be an object/],
  ])('a spec that is %s is refused', (_what, json, reason) => {
    const r = parsePolicySpec(json);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toMatchObject({ field: 'spec', reason: expect.stringMatching(reason) });
  });

  test('field paths', () => {
    expect(fieldPath(['hostPath', 'platform', 0, 'path'])).toBe('spec.hostPath.platform[0].path');
    expect(fieldPath(['matchLabels', 'app.kubernetes.io/name'])).toBe('spec.matchLabels[app.kubernetes.io/name]');
  });
});

// The CRD's OpenAPI schema and the zod schema describe the same object.
interface ZodNode {
  _zod: { def: { type: string; shape?: Record<string, ZodNode>; innerType?: ZodNode; element?: ZodNode; in?: ZodNode; out?: ZodNode } };
}
interface OpenApiNode {
  type?: string;
  properties?: Record<string, OpenApiNode>;
  items?: OpenApiNode;
  required?: string[];
}

function unwrap(node: ZodNode): ZodNode {
  const def = node._zod.def;
  if ((def.type === 'optional' || def.type === 'default' || def.type === 'prefault' || def.type === 'nullable') && def.innerType) return unwrap(def.innerType);
  // preprocess() is a pipe into the schema; transform() is a pipe out of it.
  if (def.type === 'pipe' && def.in && def.out) return unwrap(def.out._zod.def.type === 'transform' ? def.in : def.out);
  return node;
}

function shapeOf(node: ZodNode, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const n = unwrap(node);
  const def = n._zod.def;
  if (def.type === 'object' && def.shape) {
    for (const [key, child] of Object.entries(def.shape)) {
      out[`${path}.${key}`] = unwrap(child)._zod.def.type;
      Object.assign(out, shapeOf(child, `${path}.${key}`));
    }
  } else if (def.type === 'array' && def.element) {
    Object.assign(out, shapeOf(def.element, `${path}[]`));
  }
  return out;
}

function openApiShape(node: OpenApiNode, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out[`${path}.${key}`] = child.type === 'object' && !child.properties ? 'record' : child.type ?? '?';
    Object.assign(out, openApiShape(child, `${path}.${key}`));
  }
  if (node.items) Object.assign(out, openApiShape(node.items, `${path}[]`));
  return out;
}

test('the CRD schema and the zod schema have the same fields and types', () => {
  const crd = parseYaml(readFileSync(join(__dirname, '../../../deploy/base/crds/admissionpolicy.yaml'), 'utf8')) as {
    spec: { group: string; scope: string; names: { plural: string }; versions: { name: string; schema: { openAPIV3Schema: OpenApiNode } }[] };
  };
  expect(crd.spec).toMatchObject({ group: 'schedmesh.io', scope: 'Cluster', names: { plural: 'admissionpolicies' } });
  const version = crd.spec.versions.find((v) => v.name === 'v1alpha1');
  const spec = version?.schema.openAPIV3Schema.properties?.spec;
  if (!spec) throw new Error('no spec in the CRD');
  const zodTypes: Record<string, string> = { string: 'string', boolean: 'boolean', array: 'array', object: 'object', record: 'record', enum: 'string' };
  const fromZod = Object.fromEntries(Object.entries(shapeOf(admissionPolicySpecSchema as unknown as ZodNode, 'spec')).map(([k, t]) => [k, zodTypes[t] ?? t]));
  expect(Object.keys(fromZod).length).toBeGreaterThan(30);
  expect(openApiShape(spec, 'spec')).toEqual(fromZod);
});
