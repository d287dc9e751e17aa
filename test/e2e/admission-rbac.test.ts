// Tenant RBAC of the admission service against a real etcd + kube-apiserver
// (test/cluster/build.sh) with real RBAC objects: SubjectAccessReviews for
// `use` on nodepools.schedmesh.io and extendedresources.schedmesh.io, the
// answer cache (reviews counted), and the whole path — the AdmissionPolicy
// CRD from deploy/base/crds applied with kubectl, a policy created through
// the API, the informer publishing it on NATS, admission answering Admit
// over gRPC. Missing binaries fail the suite with the build command.
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Admitter, admissionConfigSchema, CachedAccessReviewer, GatewayWebhooks, KubernetesAccessReviewer, PolicyStore, Reason, serviceAccountSubject, startAdmissionApp } from '@schedmesh/admission-service';
import type { AccessQuestion, AdmissionApp } from '@schedmesh/admission-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { AdmissionDecision, AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import { Code } from '@schedmesh/proto/v1/types';
import type { ClusterEvent } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, initTelemetry } from '@schedmesh/runtime';
import type { Telemetry } from '@schedmesh/runtime';
import { admissionPod, loopbackConfig, namespaceEvent, policyEvent, pollUntil, requireBinary, startControlPlane, startNats, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane, TestServer } from '@schedmesh/testkit';
import type { Channel } from 'nice-grpc';

const CRD = join(__dirname, '../../deploy/base/crds/admissionpolicy.yaml');

let cp: ControlPlane;
let telemetry: Telemetry;

const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

const apply = (...objects: object[]): Promise<string> => kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

const clusterRole = (name: string, resource: string, resourceName: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name },
  rules: [{ apiGroups: ['schedmesh.io'], resources: [resource], resourceNames: [resourceName], verbs: ['use'] }],
});

const roleBinding = (namespace: string, name: string, role: string, serviceAccount: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { namespace, name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
});

const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { tenant: 'true' } } });

beforeAll(async () => {
  // Each throws ClusterBinaryMissingError naming `npm run cluster:build`: the suite fails, it never skips.
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kubectl');
  telemetry = initTelemetry({ serviceName: 'admission-rbac-e2e' });
  cp = await startControlPlane();
  await kubectl(['apply', '-f', CRD]);
  await kubectl(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/admissionpolicies.schedmesh.io']);
  // RBAC for resource types that do not exist: the authorizer only compares strings.
  await apply(
    namespace('team-a'),
    namespace('team-b'),
    clusterRole('nodepool-a-user', 'nodepools', 'pool-a'),
    clusterRole('gpu-user', 'extendedresources', 'nvidia.com/gpu'),
    roleBinding('team-a', 'builder-pool-a', 'nodepool-a-user', 'builder'),
    roleBinding('team-a', 'builder-gpu', 'gpu-user', 'builder'),
  );
}, 120_000);

afterAll(async () => {
  await cp?.stop();
  await telemetry?.shutdown();
}, 60_000);

function counted(ttlMs = 60_000, maxEntries = 1_000) {
  const reviews: string[] = [];
  const lookups: string[] = [];
  const inner = new KubernetesAccessReviewer({ kubeConfig: cp.kubeConfig, timeoutMs: 5_000, onReview: (o) => reviews.push(o) });
  const cache = new CachedAccessReviewer(inner, { ttlMs, maxEntries, onLookup: (r) => lookups.push(r) });
  return { reviews, lookups, cache, inner };
}

const never = new AbortController().signal;
const question = (ns: string, sa: string, resource: string, name: string): AccessQuestion => ({ ...serviceAccountSubject(ns, sa), resource, name, namespace: ns });

describe('SubjectAccessReview against the real kube-apiserver', () => {
  test.each([
    ['team-a', 'builder', 'nodepools', 'pool-a', true],
    ['team-a', 'builder', 'nodepools', 'pool-b', false],
    ['team-b', 'builder', 'nodepools', 'pool-a', false],
    ['team-a', 'default', 'nodepools', 'pool-a', false],
    ['team-a', 'builder', 'extendedresources', 'nvidia.com/gpu', true],
    ['team-b', 'builder', 'extendedresources', 'nvidia.com/gpu', false],
  ])('%s/%s use %s/%s: %s', async (ns, sa, resource, name, allowed) => {
    const { inner } = counted();
    try {
      expect(await inner.review(question(ns, sa, resource, name), never)).toBe(allowed);
    } finally {
      inner.close();
    }
  });
});

describe('tenant RBAC decisions', () => {
  const storeWith = (...events: ClusterEvent[]): PolicyStore => {
    const store = new PolicyStore();
    events.forEach((e, i) => store.apply({ ...e, generation: i + 1 }));
    store.gate.setSynced(true);
    return store;
  };
  const pools = (open: string[] = ['general']) =>
    policyEvent('tenant-pools', { targetNamespaces: { selectors: [{ matchLabels: { tenant: 'true' } }] }, tenantRBAC: { nodePools: ['pool-a', 'pool-b'], openPools: open, extendedResources: ['nvidia.com/gpu'] } });
  const nsEvents = [namespaceEvent('team-a', { tenant: 'true' }), namespaceEvent('team-b', { tenant: 'true' })];
  const admitterFor = (store: PolicyStore, reviewer: CachedAccessReviewer) =>
    new Admitter({ store, tracer: telemetry.tracer, hibernationEnabled: true, appLabels: ['app'], poolLabel: 'schedmesh.io/node-pool', reviewer, webhooks: new GatewayWebhooks({ client: undefined, timeoutMs: 100 }) });

  test('the allowed pools narrow the node set: pool-a where the RoleBinding is, only the open pools elsewhere', async () => {
    const { cache, inner } = counted();
    const a = admitterFor(storeWith(...nsEvents, pools()), cache);
    expect(await a.admit(admissionPod('b-0', 'team-a', { serviceAccountName: 'builder' }), never)).toMatchObject({ allowed: true, reasonCode: Reason.Allowed, pools: ['general', 'pool-a'] });
    expect(await a.admit(admissionPod('b-0', 'team-b', { serviceAccountName: 'builder' }), never)).toMatchObject({ allowed: true, pools: ['general'] });
    inner.close();
  });

  test('no pool allowed, a pinned pool not allowed, an extended resource not allowed: rejected with the reason', async () => {
    const { cache, inner } = counted();
    const strict = admitterFor(storeWith(...nsEvents, pools([])), cache);
    const none = await strict.admit(admissionPod('b-0', 'team-b', { serviceAccountName: 'builder' }), never);
    expect(none).toMatchObject({ allowed: false, code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasonCode: Reason.NodePoolForbidden, policies: ['tenant-pools'] });
    expect(none.message).toContain('service account team-b/builder may use none of the node pools of AdmissionPolicy tenant-pools (pool-a, pool-b)');

    const pinned = await strict.admit(admissionPod('b-0', 'team-a', { serviceAccountName: 'builder', nodeSelector: { 'schedmesh.io/node-pool': 'pool-b' } }), never);
    expect(pinned).toMatchObject({ allowed: false, reasonCode: Reason.NodePoolForbidden });
    expect(pinned.message).toContain('may not use node pool "pool-b", which the pod selects');
    expect((await strict.admit(admissionPod('b-0', 'team-a', { serviceAccountName: 'builder', nodeSelector: { 'schedmesh.io/node-pool': 'pool-a' } }), never)).allowed).toBe(true);

    const gpu = { serviceAccountName: 'builder', requests: { scalar: { 'nvidia.com/gpu': 1 } } };
    expect(await strict.admit(admissionPod('g-0', 'team-a', gpu), never)).toMatchObject({ allowed: true, pools: ['pool-a'] });
    const denied = await admitterFor(storeWith(...nsEvents, pools()), cache).admit(admissionPod('g-0', 'team-b', gpu), never);
    expect(denied).toMatchObject({ allowed: false, reasonCode: Reason.ExtendedResourceForbidden });
    expect(denied.message).toContain('extendedresources.schedmesh.io named "nvidia.com/gpu"');
    inner.close();
  });

  test('the cache answers repeat questions without a review; concurrent ones share one', async () => {
    const { cache, reviews, lookups, inner } = counted();
    const a = admitterFor(storeWith(...nsEvents, pools()), cache);
    const pod = admissionPod('b-0', 'team-a', { serviceAccountName: 'builder' });
    // 20 pods at once: two questions (pool-a, pool-b), two reviews.
    await Promise.all(Array.from({ length: 20 }, () => a.admit(pod, never)));
    expect([...reviews].sort()).toEqual(['allowed', 'denied']);
    expect(lookups.filter((l) => l === 'miss')).toHaveLength(2);
    expect(lookups.filter((l) => l === 'coalesced')).toHaveLength(38);
    // 50 more, one after the other: every answer from the cache.
    for (let i = 0; i < 50; i++) await a.admit(pod, never);
    expect(reviews).toHaveLength(2);
    expect(lookups.filter((l) => l === 'hit')).toHaveLength(100);
    // Another service account asks its own questions.
    await a.admit(admissionPod('c-0', 'team-a', { serviceAccountName: 'ci' }), never);
    expect(reviews).toHaveLength(4);
    inner.close();
  });

  test('answers expire after the TTL, so an RBAC change is seen; the cache stays within its bound', async () => {
    // A TTL that a kubectl apply on two busy cores stays well within: the bound is what is tested.
    const ttlMs = 8_000;
    const { cache, reviews, inner } = counted(ttlMs, 3);
    const a = admitterFor(storeWith(...nsEvents, pools()), cache);
    const pod = admissionPod('b-0', 'team-b', { serviceAccountName: 'builder' });
    const cachedAt = Date.now();
    expect((await a.admit(pod, never)).pools).toEqual(['general']);
    await apply(roleBinding('team-b', 'builder-pool-a', 'nodepool-a-user', 'builder'));
    // Still the cached answer within the TTL...
    expect((await a.admit(pod, never)).pools).toEqual(['general']);
    expect(reviews).toHaveLength(2);
    // ...the new binding once the answers expired, and not before.
    await pollUntil(async () => ((await a.admit(pod, never)).pools?.includes('pool-a') ? true : undefined), { what: 'the new RoleBinding seen', timeoutMs: ttlMs + 30_000, intervalMs: 250 });
    expect(Date.now() - cachedAt).toBeGreaterThanOrEqual(ttlMs);
    expect(reviews).toHaveLength(4);

    for (const sa of ['sa-1', 'sa-2', 'sa-3']) await a.admit(admissionPod('x', 'team-a', { serviceAccountName: sa }), never);
    expect(cache.size).toBeLessThanOrEqual(3);
    inner.close();
  }, 90_000);
});

describe('the whole path: CRD → API server → informer → NATS → admission', () => {
  let nats: TestServer;
  let informer: InformerApp;
  let admission: AdmissionApp;
  let channel: Channel;

  beforeAll(async () => {
    nats = await startNats();
    const common = { grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };
    informer = await startInformerApp(
      informerConfigSchema.parse({ ...common, nats: { url: nats.url, memoryStorage: true }, source: { admissionPolicies: true, pluginConfigMap: '', profilesConfigMap: '', restartBackoff: '100ms' } }),
      { handleSignals: false, kubeConfig: cp.kubeConfig },
    );
    await informer.synced;
    admission = await startAdmissionApp(loopbackConfig(admissionConfigSchema, nats.url, { kubernetes: { cacheTtl: '200ms' } }), { handleSignals: false, kubeConfig: cp.kubeConfig });
    channel = connectChannel(`127.0.0.1:${admission.grpcPort}`);
  }, 60_000);

  afterAll(async () => {
    channel?.close();
    await admission?.stop();
    await informer?.stop();
    await nats?.stop();
  }, 30_000);

  test('a policy created with kubectl narrows the pools of an Admit over gRPC, and an edit applies without a restart', async () => {
    const client = createServiceClient(AdmissionServiceDefinition, channel, { defaultDeadlineMs: 5_000 });
    const policy = (openPools: string[]) => ({
      apiVersion: 'schedmesh.io/v1alpha1',
      kind: 'AdmissionPolicy',
      metadata: { name: 'tenant-pools' },
      spec: { targetNamespaces: { selectors: [{ matchLabels: { tenant: 'true' } }] }, tenantRBAC: { nodePools: ['pool-a'], openPools } },
    });
    await apply(policy(['general']));
    const pod = admissionPod('b-0', 'team-a', { serviceAccountName: 'builder' });
    const until = async (want: string[]): Promise<void> => {
      const started = Date.now();
      for (;;) {
        const reply = await client.admit({ pod }).catch(() => undefined);
        if (JSON.stringify(reply?.nodeSubset?.pools) === JSON.stringify(want)) return;
        if (Date.now() - started > 15_000) throw new Error(`pools never became ${JSON.stringify(want)}; last reply ${JSON.stringify(reply)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(['general', 'pool-a']);
    expect(await client.admit({ pod })).toMatchObject({ decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, policies: ['tenant-pools'] });

    await apply(policy(['general', 'spot']));
    await until(['general', 'pool-a', 'spot']);
    const other = await client.admit({ pod: admissionPod('d-0', 'team-a', { serviceAccountName: 'default' }) });
    expect(other.nodeSubset?.pools).toEqual(['general', 'spot']);
    // The pools came from real SubjectAccessReviews, counted by outcome.
    const metrics = await (await fetch(`http://127.0.0.1:${admission.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^schedmesh_admission_sar_reviews_total\{outcome="allowed"[^}]*\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^schedmesh_admission_sar_reviews_total\{outcome="denied"[^}]*\} [1-9]\d*$/m);
  }, 30_000);
});
