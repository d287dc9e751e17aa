// The admitter in-process: namespace targeting, hibernation, host paths,
// webhooks through a real gRPC GatewayService on loopback, and tenant RBAC
// when the Kubernetes API is unreachable (a real closed port). Tenant RBAC
// against a real API server is test/e2e/admission-rbac.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { GatewayServiceDefinition, InvokeResponse, ListPluginsResponse } from '@schedmesh/proto/v1/gateway';
import type { GatewayServiceImplementation, InvokeRequest } from '@schedmesh/proto/v1/gateway';
import { Code, ExtensionPoint } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Pod } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, initTelemetry } from '@schedmesh/runtime';
import type { Telemetry } from '@schedmesh/runtime';
import { admissionPod, freePort, hostPathVolume, namespaceEvent, policyEvent } from '@schedmesh/testkit';
import { createServer, ServerError, Status } from 'nice-grpc';
import type { Channel, Server } from 'nice-grpc';
import { CachedAccessReviewer, KubernetesAccessReviewer } from './access-review.js';
import type { AccessQuestion, AccessReviewer } from './access-review.js';
import { Admitter } from './admission.js';
import type { Decision } from './admission.js';
import { PolicyStore } from './policy-store.js';
import { Reason } from './reasons.js';
import { GatewayWebhooks } from './webhook.js';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
const noWebhooks = new GatewayWebhooks({ client: undefined, timeoutMs: 100 });

beforeAll(() => {
  telemetry = initTelemetry({ serviceName: 'admission-test', exporter, simpleProcessor: true });
});
afterAll(async () => {
  await telemetry.shutdown();
});

function storeWith(...events: ClusterEvent[]): PolicyStore {
  const store = new PolicyStore();
  events.forEach((e, i) => store.apply({ ...e, generation: i + 1 }));
  store.gate.setSynced(true);
  return store;
}

interface SetupOptions {
  hibernation?: boolean;
  hostPathWhenNoPolicy?: 'deny' | 'allow';
  reviewer?: AccessReviewer;
  webhooks?: GatewayWebhooks;
  failOpen?: string[];
}

function admitter(store: PolicyStore, options: SetupOptions = {}): Admitter {
  return new Admitter({
    store,
    tracer: telemetry.tracer,
    hibernationEnabled: options.hibernation ?? true,
    ...(options.hostPathWhenNoPolicy ? { hostPathWhenNoPolicy: options.hostPathWhenNoPolicy } : {}),
    appLabels: ['app.kubernetes.io/name', 'app'],
    poolLabel: 'schedmesh.io/node-pool',
    reviewer: options.reviewer,
    webhooks: options.webhooks ?? noWebhooks,
    onFailOpen: (policy, dependency) => options.failOpen?.push(`${policy}:${dependency}`),
  });
}

const never = new AbortController().signal;
const admit = (a: Admitter, pod: Pod): Promise<Decision> => a.admit(pod, never);

const namespaces = [
  namespaceEvent('team-a', { tenant: 'true' }),
  namespaceEvent('team-b', { tenant: 'true', tier: 'gold' }),
  namespaceEvent('system', {}),
  namespaceEvent('sleepy', { tenant: 'true' }, { 'schedmesh.io/hibernate': 'true' }),
];
const etcMount = { volumes: [hostPathVolume('etc', '/etc')] };

describe('namespace targeting', () => {
  // A /etc mount probes whether a policy governs the pod: with the platform's default opened, only a targeting policy denies it.
  const open = { hostPathWhenNoPolicy: 'allow' } as const;
  test('by name: only pods of the named namespaces are governed', async () => {
    const a = admitter(storeWith(...namespaces, policyEvent('by-name', { targetNamespaces: { names: ['team-a'] }, hostPath: { platform: [{ path: '/var/log' }] } })), open);
    expect(await admit(a, admissionPod('p', 'team-a', etcMount))).toMatchObject({ allowed: false, reasonCode: Reason.HostPathDenied, policies: ['by-name'] });
    expect(await admit(a, admissionPod('p', 'team-b', etcMount))).toMatchObject({ allowed: true, reasonCode: Reason.NoPolicyApplies, policies: [] });
  });

  test('by label selector, against the namespace labels from the stream', async () => {
    const a = admitter(storeWith(...namespaces, policyEvent('gold', { targetNamespaces: { selectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] }] }, hostPath: { platform: [{ path: '/var/log' }] } })), open);
    expect(await admit(a, admissionPod('p', 'team-b', etcMount))).toMatchObject({ allowed: false, reasonCode: Reason.HostPathDenied });
    expect(await admit(a, admissionPod('p', 'team-a', etcMount))).toMatchObject({ allowed: true, reasonCode: Reason.NoPolicyApplies });
    // A namespace not (yet) on the stream has no labels: only name targeting can reach it.
    expect(await admit(a, admissionPod('p', 'unknown', etcMount))).toMatchObject({ allowed: true });
  });

  test('a namespace relabelled on the stream changes what is targeted', async () => {
    const store = storeWith(...namespaces, policyEvent('gold', { targetNamespaces: { selectors: [{ matchLabels: { tier: 'gold' } }] }, hostPath: { platform: [{ path: '/var/log' }] } }));
    const a = admitter(store, open);
    expect((await admit(a, admissionPod('p', 'team-a', etcMount))).allowed).toBe(true);
    store.apply({ ...namespaceEvent('team-a', { tier: 'gold' }), generation: 100 });
    expect((await admit(a, admissionPod('p', 'team-a', etcMount))).allowed).toBe(false);
  });

  test('rejectIfNotMatch: true rejects every other namespace, saying which policy and what it targets', async () => {
    const a = admitter(storeWith(...namespaces, policyEvent('tenants-only', { targetNamespaces: { names: ['system'], selectors: [{ matchLabels: { tenant: 'true' } }] }, rejectIfNotMatch: true })));
    expect(await admit(a, admissionPod('p', 'team-a'))).toMatchObject({ allowed: true, reasonCode: Reason.Allowed, policies: ['tenants-only'] });
    expect(await admit(a, admissionPod('p', 'system'))).toMatchObject({ allowed: true });
    const d = await admit(a, admissionPod('p', 'elsewhere'));
    expect(d).toMatchObject({ allowed: false, code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasonCode: Reason.NotTargeted, policies: ['tenants-only'] });
    expect(d.message).toContain('"elsewhere" is not targeted by AdmissionPolicy tenants-only');
    expect(d.message).toContain('namespaces system; or namespaces labelled tenant=true');
  });

  test('rejectIfNotMatch: false (the default) leaves other namespaces alone', async () => {
    const a = admitter(storeWith(...namespaces, policyEvent('tenants', { targetNamespaces: { names: ['team-a'] }, rejectIfNotMatch: false })));
    expect(await admit(a, admissionPod('p', 'elsewhere'))).toMatchObject({ allowed: true, reasonCode: Reason.NoPolicyApplies });
    const b = admitter(storeWith(...namespaces, policyEvent('tenants', { targetNamespaces: { names: ['team-a'] } })));
    expect(await admit(b, admissionPod('p', 'elsewhere'))).toMatchObject({ allowed: true });
  });
});

describe('hibernation', () => {
  const policies = [policyEvent('sleep-web', { targetNamespaces: { names: ['team-a'] }, hibernation: { apps: ['web'] } })];

  test('a namespace annotated schedmesh.io/hibernate is not scheduled; the rejection says how to wake it', async () => {
    const d = await admit(admitter(storeWith(...namespaces)), admissionPod('p', 'sleepy'));
    expect(d).toMatchObject({ allowed: false, code: Code.CODE_UNSCHEDULABLE, reasonCode: Reason.Hibernating, policies: [] });
    expect(d.message).toContain('hibernating (namespace annotation schedmesh.io/hibernate="true" on sleepy)');
    expect(d.message).toContain('kubectl annotate namespace sleepy schedmesh.io/hibernate-');
  });

  test('a pod label or annotation marks the pod', async () => {
    const a = admitter(storeWith(...namespaces));
    expect(await admit(a, admissionPod('p', 'team-a', { labels: { 'schedmesh.io/hibernate': 'true' } }))).toMatchObject({ reasonCode: Reason.Hibernating });
    expect(await admit(a, admissionPod('p', 'team-a', { annotations: { 'schedmesh.io/hibernate': 'true' } }))).toMatchObject({ reasonCode: Reason.Hibernating });
    expect(await admit(a, admissionPod('p', 'team-a', { labels: { 'schedmesh.io/hibernate': 'false' } }))).toMatchObject({ allowed: true });
  });

  test('a policy block hibernates the apps it lists in the namespaces it targets', async () => {
    const a = admitter(storeWith(...namespaces, ...policies));
    const d = await admit(a, admissionPod('web-0', 'team-a', { labels: { app: 'web' } }));
    expect(d).toMatchObject({ allowed: false, reasonCode: Reason.Hibernating, policies: ['sleep-web'] });
    expect(d.message).toContain('removing "web" from spec.hibernation.apps of AdmissionPolicy sleep-web');
    expect((await admit(a, admissionPod('api-0', 'team-a', { labels: { app: 'api' } }))).allowed).toBe(true);
    expect((await admit(a, admissionPod('web-0', 'team-b', { labels: { app: 'web' } }))).allowed).toBe(true);
    // app.kubernetes.io/name wins over app.
    expect((await admit(a, admissionPod('web-0', 'team-a', { labels: { 'app.kubernetes.io/name': 'api', app: 'web' } }))).allowed).toBe(true);
  });

  test('allApps and a custom wake hint', async () => {
    const a = admitter(storeWith(...namespaces, policyEvent('freeze', { targetNamespaces: { names: ['team-b'] }, hibernation: { allApps: true, wakeHint: 'ask #platform to thaw it' } })));
    const d = await admit(a, admissionPod('x', 'team-b'));
    expect(d).toMatchObject({ reasonCode: Reason.Hibernating });
    expect(d.message).toContain('ask #platform to thaw it');
  });

  test('the feature flag turns the check off', async () => {
    const a = admitter(storeWith(...namespaces, ...policies), { hibernation: false });
    expect(await admit(a, admissionPod('p', 'sleepy'))).toMatchObject({ allowed: true });
    expect(await admit(a, admissionPod('web-0', 'team-a', { labels: { app: 'web', 'schedmesh.io/hibernate': 'true' } }))).toMatchObject({ allowed: true });
  });

  test('appState reports the state, its source and the wake hint', () => {
    const store = storeWith(...namespaces, ...policies);
    const a = admitter(store);
    const ns = (name: string) => store.namespace(name)!;
    expect(a.appState(ns('sleepy'), '')).toMatchObject({ hibernating: true, source: expect.stringContaining('namespace annotation'), wakeHint: expect.stringContaining('kubectl annotate namespace sleepy') });
    expect(a.appState(ns('team-a'), 'web')).toMatchObject({ hibernating: true, source: 'AdmissionPolicy sleep-web (spec.hibernation.apps lists "web")' });
    expect(a.appState(ns('team-a'), 'api')).toEqual({ hibernating: false, source: '', wakeHint: '' });
    expect(a.appState(ns('team-a'), '')).toMatchObject({ hibernating: false });
    expect(admitter(store, { hibernation: false }).appState(ns('sleepy'), '').source).toContain('not enforced: features.hibernation is off');
  });
});

describe('host paths', () => {
  const tiers = policyEvent('paths', {
    targetNamespaces: { selectors: [{ matchLabels: { tenant: 'true' } }] },
    hostPath: {
      platform: [{ path: '/var/log', readOnly: true }],
      namespaces: [{ namespace: 'team-a', paths: [{ path: '/data/team-a' }] }],
      workloads: [{ name: 'collector', namespace: 'team-b', selector: { matchLabels: { app: 'collector' } }, paths: [{ path: '/run/collector' }] }],
    },
  });

  test.each([
    ['platform, read-only', 'team-a', {}, '/var/log/pods', true, Reason.Allowed],
    ['platform, read-write', 'team-a', {}, '/var/log/pods', false, Reason.HostPathReadOnlyRequired],
    ['own namespace tier', 'team-a', {}, '/data/team-a/cache', false, Reason.Allowed],
    ["another namespace's tier", 'team-b', {}, '/data/team-a', false, Reason.HostPathDenied],
    ['workload tier, matching pod', 'team-b', { app: 'collector' }, '/run/collector/sock', false, Reason.Allowed],
    ['workload tier, other pod', 'team-b', { app: 'web' }, '/run/collector/sock', false, Reason.HostPathDenied],
    ['workload tier, other namespace', 'team-a', { app: 'collector' }, '/run/collector/sock', false, Reason.HostPathDenied],
    ['prefix of a component', 'team-a', {}, '/data/team-abc', false, Reason.HostPathDenied],
    ['".." out of the tenant tree', 'team-a', {}, '/data/team-a/../team-b', false, Reason.HostPathDenied],
  ])('%s', async (_what, namespace, labels, path, readOnly, reason) => {
    const d = await admit(admitter(storeWith(...namespaces, tiers)), admissionPod('p', namespace, { labels, volumes: [hostPathVolume('v', path, readOnly)] }));
    expect(d.reasonCode).toBe(reason);
    if (!d.allowed) expect(d).toMatchObject({ code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, policies: ['paths'] });
  });

  test('allowlists of several policies add up; pods without hostPath volumes are not checked', async () => {
    const extra = policyEvent('more-paths', { targetNamespaces: { names: ['team-a'] }, hostPath: { platform: [{ path: '/opt/tools', readOnly: true }] } });
    const a = admitter(storeWith(...namespaces, tiers, extra));
    expect(await admit(a, admissionPod('p', 'team-a', { volumes: [hostPathVolume('a', '/opt/tools', true), hostPathVolume('b', '/data/team-a')] }))).toMatchObject({ allowed: true, policies: ['more-paths', 'paths'] });
    expect(await admit(a, admissionPod('p', 'team-a', { volumes: [{ name: 'cm', source: { $case: 'other', value: 'configMap' } }] }))).toMatchObject({ allowed: true });
  });

  test.each([
    ['no policy at all', storeWith(...namespaces)],
    ['policies, none with a hostPath block', storeWith(...namespaces, policyEvent('other', { hibernation: { apps: ['x'] } }))],
  ])('%s: host paths are restricted by default, and allowed when the platform opens them', async (_what, store) => {
    const denied = await admit(admitter(store), admissionPod('p', 'team-a', etcMount));
    expect(denied).toMatchObject({ allowed: false, code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasonCode: Reason.HostPathDenied, policies: [] });
    expect(denied.message).toBe(
      'hostPath volume "etc": path "/etc" is denied: no AdmissionPolicy allows host paths for this pod, and host paths are restricted by default; ask a platform admin for an AdmissionPolicy hostPath entry that covers it',
    );
    expect(await admit(admitter(store, { hostPathWhenNoPolicy: 'allow' }), admissionPod('p', 'team-a', etcMount))).toMatchObject({ allowed: true });
    // Pods without hostPath volumes are not concerned.
    expect(await admit(admitter(store), admissionPod('p', 'team-a'))).toMatchObject({ allowed: true });
  });

  test('with the platform setting open, a policy that governs host paths still restricts them', async () => {
    expect(await admit(admitter(storeWith(...namespaces, tiers), { hostPathWhenNoPolicy: 'allow' }), admissionPod('p', 'team-a', etcMount))).toMatchObject({ allowed: false, reasonCode: Reason.HostPathDenied, policies: ['paths'] });
  });

  test.each([
    ['a Socket under an entry that allows Socket', '/run/collector/agent.sock', 'Socket', Reason.Allowed],
    ['a CharDevice under an entry that allows only Socket', '/run/collector/tty0', 'CharDevice', Reason.HostPathTypeDenied],
    ['a Socket under an entry that allows no type', '/data/team-b/app.sock', 'Socket', Reason.HostPathTypeDenied],
    ['a Directory under an entry that allows no type', '/data/team-b/cache', 'Directory', Reason.Allowed],
  ])('hostPath type: %s', async (_what, path, type, reason) => {
    const typed = policyEvent('typed', {
      targetNamespaces: { names: ['team-b'] },
      hostPath: { platform: [{ path: '/run/collector', allowTypes: ['Socket'] }, { path: '/data/team-b' }] },
    });
    const pod = admissionPod('p', 'team-b', { volumes: [hostPathVolume('v', path, false, type)] });
    expect((await admit(admitter(storeWith(...namespaces, typed)), pod)).reasonCode).toBe(reason);
  });
});

describe('one span per rule evaluated', () => {
  test('targeting, hibernation, hostPath: each a span with its outcome', async () => {
    exporter.reset();
    const a = admitter(storeWith(...namespaces, policyEvent('paths', { hostPath: { platform: [{ path: '/var/log' }] } })));
    await admit(a, admissionPod('p', 'team-a', etcMount));
    const spans = exporter.getFinishedSpans().map((s) => [s.name, s.attributes['schedmesh.admission.outcome'], s.attributes['schedmesh.admission.reason']]);
    expect(spans).toEqual([
      ['admission.targeting', 'allow', undefined],
      ['admission.hibernation', 'allow', undefined],
      ['admission.hostPath', 'reject', Reason.HostPathDenied],
    ]);
  });
});

describe('webhooks through a gRPC GatewayService', () => {
  type Mode = 'allow' | 'skip' | 'reject' | 'reject-soft' | 'plugin-error' | 'slow' | 'invalid';
  let mode: Mode = 'allow';
  const requests: InvokeRequest[] = [];
  let server: Server;
  let port: number;
  let channel: Channel;

  // A small real gateway: answers Invoke as its plugin would, per `mode`.
  const gateway: GatewayServiceImplementation = {
    async invoke(request, context) {
      requests.push(request);
      const plugin = request.plugins[0] ?? '';
      const result = (code: Code, reasons: string[] = []) =>
        InvokeResponse.fromPartial({ status: { code, reasons, plugin }, results: [{ plugin, status: { code, reasons, plugin } }] });
      switch (mode) {
        case 'allow':
          return result(Code.CODE_SUCCESS);
        case 'skip':
          return result(Code.CODE_SKIP);
        case 'reject':
          return result(Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, ['quota exceeded for team-a']);
        case 'reject-soft':
          return result(Code.CODE_UNSCHEDULABLE, ['over budget this hour']);
        case 'plugin-error':
          return result(Code.CODE_ERROR, ['plugin returned HTTP 503']);
        case 'slow':
          // Never answers: the admitter's timeout ends the call, however loaded the machine.
          await new Promise((r) => context.signal.addEventListener('abort', r));
          return result(Code.CODE_SUCCESS);
        case 'invalid':
          throw new ServerError(Status.INVALID_ARGUMENT, `plugins[0]: unknown plugin ${JSON.stringify(plugin)}`);
      }
    },
    async listPlugins() {
      return ListPluginsResponse.fromPartial({});
    },
  };

  beforeAll(async () => {
    server = createServer();
    server.add(GatewayServiceDefinition, gateway);
    port = await server.listen('127.0.0.1:0');
    channel = connectChannel(`127.0.0.1:${port}`);
  });
  afterAll(async () => {
    channel.close();
    await server.shutdown();
  });
  beforeEach(() => {
    requests.length = 0;
  });

  const webhookPolicy = (failurePolicy: 'Fail' | 'Ignore') => policyEvent('quota', { targetNamespaces: { names: ['team-a'] }, webhookRef: 'quota-check', failurePolicy });
  // A generous timeout, but for the gateway that never answers.
  const withGateway = (failurePolicy: 'Fail' | 'Ignore', failOpen: string[] = [], address = `127.0.0.1:${port}`) => {
    const client = createServiceClient(GatewayServiceDefinition, address === `127.0.0.1:${port}` ? channel : connectChannel(address));
    const timeoutMs = mode === 'slow' ? 200 : 10_000;
    return admitter(storeWith(...namespaces, webhookPolicy(failurePolicy)), { webhooks: new GatewayWebhooks({ client, timeoutMs }), failOpen });
  };

  test('the gateway is asked at PreFilter for the one plugin; its allow and skip admit', async () => {
    mode = 'allow';
    expect(await admit(withGateway('Fail'), admissionPod('p', 'team-a'))).toMatchObject({ allowed: true, policies: ['quota'] });
    expect(requests[0]).toMatchObject({ point: ExtensionPoint.EXTENSION_POINT_PRE_FILTER, plugins: ['quota-check'], pod: { name: 'p', namespace: 'team-a' } });
    mode = 'skip';
    expect(await admit(withGateway('Fail'), admissionPod('p', 'team-a'))).toMatchObject({ allowed: true });
    // Pods of namespaces the policy does not target never reach the webhook.
    await admit(withGateway('Fail'), admissionPod('p', 'team-b'));
    expect(requests).toHaveLength(2);
  });

  test("the plugin's rejection is the decision, with its code and reasons", async () => {
    mode = 'reject';
    const d = await admit(withGateway('Ignore'), admissionPod('p', 'team-a'));
    expect(d).toMatchObject({ allowed: false, code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE, reasonCode: Reason.WebhookRejected, policies: ['quota'] });
    expect(d.message).toBe('webhook "quota-check" of AdmissionPolicy quota rejected the pod: quota exceeded for team-a');
    mode = 'reject-soft';
    expect(await admit(withGateway('Ignore'), admissionPod('p', 'team-a'))).toMatchObject({ code: Code.CODE_UNSCHEDULABLE, reasonCode: Reason.WebhookRejected });
  });

  test.each<[string, Mode, RegExp]>([
    ['the plugin failed', 'plugin-error', /plugin failed: plugin returned HTTP 503/],
    ['the gateway took too long', 'slow', /no answer within 200 ms/],
    ['the gateway refused the call', 'invalid', /INVALID_ARGUMENT: plugins\[0\]: unknown plugin/],
  ])('%s: failurePolicy Fail rejects as an error (retried), Ignore admits', async (_what, m, message) => {
    mode = m;
    const d = await admit(withGateway('Fail'), admissionPod('p', 'team-a'));
    expect(d).toMatchObject({ allowed: false, code: Code.CODE_ERROR, reasonCode: Reason.WebhookUnavailable });
    expect(d.message).toMatch(message);
    const failOpen: string[] = [];
    expect(await admit(withGateway('Ignore', failOpen), admissionPod('p', 'team-a'))).toMatchObject({ allowed: true });
    expect(failOpen).toEqual(['quota:webhook']);
  });

  test('an unreachable gateway (a closed port) follows failurePolicy', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const d = await admit(withGateway('Fail', [], closed), admissionPod('p', 'team-a'));
    expect(d).toMatchObject({ allowed: false, code: Code.CODE_ERROR, reasonCode: Reason.WebhookUnavailable });
    expect(d.message).toMatch(/gateway (UNAVAILABLE|no answer)/);
    expect(await admit(withGateway('Ignore', [], closed), admissionPod('p', 'team-a'))).toMatchObject({ allowed: true });
  });

  test('no gateway configured: the webhook is unavailable', async () => {
    const d = await admit(admitter(storeWith(...namespaces, webhookPolicy('Fail'))), admissionPod('p', 'team-a'));
    expect(d).toMatchObject({ reasonCode: Reason.WebhookUnavailable });
    expect(d.message).toContain('no gateway is configured');
  });
});

describe('tenant RBAC when the Kubernetes API is unreachable', () => {
  let reviewer: AccessReviewer;
  let reviews: string[];

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'gone', server: `https://127.0.0.1:${await freePort()}`, skipTLSVerify: true }],
      users: [{ name: 'admission', token: 'unused' }],
      contexts: [{ name: 'gone', cluster: 'gone', user: 'admission' }],
      currentContext: 'gone',
    });
    reviews = [];
    reviewer = new CachedAccessReviewer(new KubernetesAccessReviewer({ kubeConfig: kc, timeoutMs: 1_000, onReview: (o) => reviews.push(o) }), { ttlMs: 60_000, maxEntries: 100 });
  });

  const rbac = (failurePolicy: 'Fail' | 'Ignore') =>
    policyEvent('pools', { targetNamespaces: { names: ['team-a'] }, failurePolicy, tenantRBAC: { nodePools: ['pool-a', 'pool-b'], openPools: ['general'], extendedResources: ['nvidia.com/gpu'] } });

  test('failurePolicy Fail (the default) rejects as an error, so the pod is retried', async () => {
    const d = await admit(admitter(storeWith(...namespaces, rbac('Fail')), { reviewer }), admissionPod('p', 'team-a', { serviceAccountName: 'builder' }));
    expect(d).toMatchObject({ allowed: false, code: Code.CODE_ERROR, reasonCode: Reason.AccessReviewUnavailable, policies: ['pools'] });
    expect(d.message).toContain('service account team-a/builder');
    expect(d.message).toMatch(/SubjectAccessReview failed: .*ECONNREFUSED/);
    // Failures are not cached: the next pod asks again.
    const before = reviews.length;
    await admit(admitter(storeWith(...namespaces, rbac('Fail')), { reviewer }), admissionPod('p', 'team-a', { serviceAccountName: 'builder' }));
    expect(reviews.length).toBeGreaterThan(before);
    expect(new Set(reviews)).toEqual(new Set(['error']));
  });

  test('failurePolicy Ignore admits, on every governed pool', async () => {
    const failOpen: string[] = [];
    const d = await admit(admitter(storeWith(...namespaces, rbac('Ignore')), { reviewer, failOpen }), admissionPod('p', 'team-a', { requests: { scalar: { 'nvidia.com/gpu': 1 } } }));
    expect(d).toMatchObject({ allowed: true, pools: ['general', 'pool-a', 'pool-b'] });
    expect(failOpen).toContain('pools:access-review');
  });

  test('no Kubernetes API configured: reviews are unavailable', async () => {
    const d = await admit(admitter(storeWith(...namespaces, rbac('Fail'))), admissionPod('p', 'team-a'));
    expect(d).toMatchObject({ reasonCode: Reason.AccessReviewUnavailable });
    expect(d.message).toContain('no Kubernetes API is configured');
  });
});

describe('tenant RBAC of several policies', () => {
  // The API server's authorizer in a reviewer's place, to count the questions in flight at once.
  class HoldingReviewer implements AccessReviewer {
    readonly asked: string[] = [];
    maxInFlight = 0;
    private held: (() => void)[] = [];
    constructor(
      private readonly releaseAt: number,
      private readonly allowed: (name: string) => boolean,
    ) {}
    review(question: AccessQuestion): Promise<boolean> {
      this.asked.push(question.name);
      return new Promise((resolve) => {
        this.held.push(() => resolve(this.allowed(question.name)));
        this.maxInFlight = Math.max(this.maxInFlight, this.held.length);
        // Answer once every expected question is in flight, or (if they never all come) after a generous bound.
        if (this.held.length >= this.releaseAt) this.releaseAll();
        else setTimeout(() => this.releaseAll(), 10_000).unref();
      });
    }
    private releaseAll(): void {
      const held = this.held;
      this.held = [];
      for (const answer of held) answer();
    }
  }
  const rbacPolicy = (name: string, pool: string) =>
    policyEvent(name, { targetNamespaces: { names: ['team-a'] }, tenantRBAC: { nodePools: [pool, 'pool-shared'], openPools: [] } });

  test('their reviews are in flight together (one round on cache misses); the first rejection in policy order wins', async () => {
    const reviewer = new HoldingReviewer(6, (pool) => pool === 'pool-shared' || pool === 'pool-a');
    const store = storeWith(...namespaces, rbacPolicy('rbac-a', 'pool-a'), rbacPolicy('rbac-b', 'pool-b'), rbacPolicy('rbac-c', 'pool-c'));
    const d = await admit(admitter(store, { reviewer }), admissionPod('p', 'team-a', { serviceAccountName: 'builder' }));
    expect(reviewer.maxInFlight).toBe(6);
    expect(d).toMatchObject({ allowed: true, pools: ['pool-shared'] });

    const denying = new HoldingReviewer(6, (pool) => pool === 'pool-a');
    const rejected = await admit(admitter(store, { reviewer: denying }), admissionPod('p', 'team-a', { serviceAccountName: 'builder' }));
    expect(rejected).toMatchObject({ allowed: false, reasonCode: Reason.NodePoolForbidden, policies: ['rbac-b'] });
  }, 30_000);
});
