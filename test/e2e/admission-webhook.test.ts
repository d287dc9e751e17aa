// The admission service as a real Kubernetes ValidatingAdmissionWebhook: the
// real kube-apiserver calls it over TLS on every pod create and update, so
// host-path and tenant rules hold for pods that never reach a scheduler —
// spec.nodeName set, another schedulerName, an ephemeral container added
// later (security review H4). Policies travel as in production: kubectl →
// API server → informer → NATS → admission.
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { loopbackConfig, makeTestPki, pollUntil, requireBinary, startControlPlane, startNats, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane, TestPki, TestServer } from '@schedmesh/testkit';

const CRD = join(__dirname, '../../deploy/base/crds/admissionpolicy.yaml');
const POOL = 'schedmesh.io/node-pool';

let cp: ControlPlane;
let nats: TestServer;
let pki: TestPki;
let informer: InformerApp;
let admission: AdmissionApp;

const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);
const apply = (obj: object): Promise<string> => kubectl(['apply', '-f', '-'], JSON.stringify(obj));

/** The kubectl error of a refused request, or '' if it was accepted. */
async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

const pod = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'tenant' },
  spec: { containers: [{ name: 'app', image: 'busybox', ...((spec.container as object | undefined) ?? {}) }], ...Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'container')) },
});

const logsVolume = { name: 'logs', hostPath: { path: '/var/log', type: 'Directory' } };

beforeAll(async () => {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kubectl');
  cp = await startControlPlane();
  await kubectl(['apply', '-f', CRD]);
  await kubectl(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/admissionpolicies.schedmesh.io']);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant' } });
  await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'tenant' } });
  await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'gpu-node', labels: { [POOL]: 'gpu' } } });
  await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'general-node', labels: { [POOL]: 'general' } } });
  await apply({
    apiVersion: 'schedmesh.io/v1alpha1',
    kind: 'AdmissionPolicy',
    metadata: { name: 'tenant-rules' },
    spec: {
      targetNamespaces: { names: ['tenant'] },
      hostPath: { platform: [{ path: '/var/log', readOnly: true }] },
      tenantRBAC: { nodePools: ['gpu'], openPools: ['general'] },
    },
  });

  nats = await startNats();
  informer = await startInformerApp(
    informerConfigSchema.parse({
      grpc: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      shutdown: { grace: '1s' },
      nats: { url: nats.url, memoryStorage: true },
      source: { admissionPolicies: true, pluginConfigMap: '', profilesConfigMap: '', restartBackoff: '100ms' },
    }),
    { handleSignals: false, kubeConfig: cp.kubeConfig },
  );
  await informer.synced;

  pki = makeTestPki();
  admission = await startAdmissionApp(
    loopbackConfig(admissionConfigSchema, nats.url, {
      validatingWebhook: { enabled: true, host: '127.0.0.1', port: 0, certFile: pki.serverCert, keyFile: pki.serverKey },
    }),
    { handleSignals: false, kubeConfig: cp.kubeConfig },
  );
  await pollUntil(async () => (admission.store.gate.synced && admission.store.policies().length === 1 ? true : undefined), {
    what: 'the policy in force at admission',
    timeoutMs: 30_000,
  });

  await apply({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'schedmesh-pods' },
    webhooks: [
      {
        name: 'pods.schedmesh.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'schedmesh-system'] }] },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'pods/ephemeralcontainers'], scope: 'Namespaced' }],
        clientConfig: {
          url: `https://127.0.0.1:${admission.validatingWebhookPort}/validate-pods`,
          caBundle: readFileSync(pki.caCert).toString('base64'),
        },
      },
    ],
  });
  // The API server picks webhook configurations up asynchronously: wait until it enforces this
  // one (a server-side dry run goes through admission and creates nothing).
  const probe = JSON.stringify(pod('probe', { volumes: [{ name: 'etc', hostPath: { path: '/etc' } }] }));
  await pollUntil(async () => ((await refusal(() => kubectl(['create', '--dry-run=server', '-f', '-'], probe))) !== '' ? true : undefined), {
    what: 'the API server calling the webhook',
    timeoutMs: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await admission?.stop();
  await informer?.stop();
  await nats?.stop();
  await cp?.stop();
  pki?.remove();
}, 60_000);

describe('pods that never reach the scheduler are held to the same policy', () => {
  test.each([
    ['a default-scheduler pod mounting an uncovered host path', pod('other-scheduler', { volumes: [{ name: 'etc', hostPath: { path: '/etc' } }] }), /HostPathDenied: .*\/etc/],
    [
      'a pod bound by spec.nodeName mounting an uncovered host path',
      pod('pinned', { nodeName: 'general-node', volumes: [{ name: 'root', hostPath: { path: '/' } }] }),
      /HostPathDenied/,
    ],
    [
      'a pod mounting a read-only-only host path read-write',
      pod('rw-logs', { volumes: [logsVolume], container: { volumeMounts: [{ name: 'logs', mountPath: '/logs' }] } }),
      /HostPathReadOnlyRequired/,
    ],
    ['a pod bound by spec.nodeName to a node of a pool its service account may not use', pod('gpu-pinned', { nodeName: 'gpu-node' }), /NodePoolForbidden: .*"gpu"/],
    ['a pod selecting a pool its service account may not use', pod('gpu-selected', { nodeSelector: { [POOL]: 'gpu' } }), /NodePoolForbidden/],
  ])('%s is refused at creation, with the reason', async (_what, object, reason) => {
    const message = await refusal(() => apply(object));
    expect(message).toMatch(/admission webhook "pods.schedmesh.io" denied the request: schedmesh AdmissionPolicy denied the create of pod tenant\//);
    expect(message).toMatch(reason);
    await expect(kubectl(['get', 'pod', '-n', 'tenant', object.metadata.name])).rejects.toThrow(/NotFound/);
  });

  test('a pod within the policy is created, and an ephemeral container that would mount its host path read-write is refused', async () => {
    await apply(pod('reader', { nodeName: 'general-node', volumes: [logsVolume], container: { volumeMounts: [{ name: 'logs', mountPath: '/logs', readOnly: true }] } }));
    expect(await kubectl(['get', 'pod', '-n', 'tenant', 'reader', '-o', 'jsonpath={.metadata.name}'])).toBe('reader');

    const debug = { spec: { ephemeralContainers: [{ name: 'debugger', image: 'busybox', volumeMounts: [{ name: 'logs', mountPath: '/logs' }] }] } };
    const message = await refusal(() => kubectl(['patch', 'pod', 'reader', '-n', 'tenant', '--subresource=ephemeralcontainers', '--type=strategic', '-p', JSON.stringify(debug)]));
    expect(message).toMatch(/denied the request: schedmesh AdmissionPolicy denied the update \(ephemeralcontainers\) of pod tenant\/reader: HostPathReadOnlyRequired/);
    expect(await kubectl(['get', 'pod', '-n', 'tenant', 'reader', '-o', 'jsonpath={.spec.ephemeralContainers}'])).toBe('');

    const readOnly = { spec: { ephemeralContainers: [{ name: 'debugger', image: 'busybox', volumeMounts: [{ name: 'logs', mountPath: '/logs', readOnly: true }] }] } };
    await kubectl(['patch', 'pod', 'reader', '-n', 'tenant', '--subresource=ephemeralcontainers', '--type=strategic', '-p', JSON.stringify(readOnly)]);
    expect(await kubectl(['get', 'pod', '-n', 'tenant', 'reader', '-o', 'jsonpath={.spec.ephemeralContainers[0].name}'])).toBe('debugger');
  });

  test('the webhook counts what it answered', async () => {
    const metrics = await admission.runtime.metrics.getSingleMetricAsString('schedmesh_admission_validating_reviews_total');
    expect(metrics).toMatch(/verdict="denied"[^}]*} ([6-9]|\d\d)/);
    expect(metrics).toMatch(/verdict="allowed"[^}]*} [1-9]/);
  });
});

describe('bad requests to the webhook get a clear 4xx', () => {
  const post = (body: string | Buffer): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      // node:https, trusting the test CA: fetch cannot take a CA bundle without a dispatcher.
      const req = request(
        { host: '127.0.0.1', port: admission.validatingWebhookPort, path: '/validate-pods', method: 'POST', ca: readFileSync(pki.caCert), servername: 'localhost', headers: { 'content-type': 'application/json' } },
        (res: IncomingMessage) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  test.each([
    ['not JSON: 400', '{"apiVersion":', 400, /not JSON/],
    ['not an AdmissionReview: 400', JSON.stringify({ kind: 'Pod' }), 400, /admission.k8s.io\/v1 AdmissionReview with request.uid/],
    ['a review without a uid: 400', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }), 400, /request.uid/],
    ['a body over the limit: 413', Buffer.alloc(5 * 1024 * 1024, 0x20), 413, /larger than/],
  ])('%s', async (_what, body, status, reason) => {
    const answer = await post(body);
    expect(answer.status).toBe(status);
    expect(answer.text).toMatch(reason);
  });

  test('a pod the model cannot read is refused with the field, not crashed on', async () => {
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u-1', kind: { kind: 'Pod' }, operation: 'CREATE', namespace: 'tenant', object: { metadata: { name: 'bad' }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: 'lots' } } }] } } },
    };
    const answer = await post(JSON.stringify(review));
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { response: { uid: string; allowed: boolean; status: { code: number; message: string } } };
    expect(body.response).toMatchObject({ uid: 'u-1', allowed: false, status: { code: 400 } });
    expect(body.response.status.message).toMatch(/cpu/);
  });
});
