// AdmissionPolicy status on a real control plane (etcd + kube-apiserver): the
// informer carries policies to the admission service, which writes each
// one's Accepted condition back through the status subresource, so
// `kubectl get admissionpolicies` shows whether a policy is in force. Every
// check reads the API server with kubectl.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { pollUntil, kubectl as runKubectl } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { e2eNats, e2eService, startE2eControlPlane } from './mesh.js';


let cp: ControlPlane;
let informer: InformerApp | undefined;
let admission: AdmissionApp | undefined;

const nats = e2eNats('status-e2e');
const kubectl = (args: string[], input?: string): Promise<string> => runKubectl(cp, args, input);

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

const apply = (name: string, spec: Record<string, unknown>): Promise<string> =>
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'schedmesh.io/v1alpha1', kind: 'AdmissionPolicy', metadata: { name }, spec }));

/** Waits until the policy's status describes `generation`, and returns its Accepted condition. */
async function acceptedAt(name: string, generation: number): Promise<Condition> {
  return pollUntil(
    async () => {
      const policy = JSON.parse(await kubectl(['get', 'admissionpolicy', name, '-o', 'json'])) as { status?: { observedGeneration?: number; conditions?: Condition[] } };
      const condition = policy.status?.conditions?.find((c) => c.type === 'Accepted');
      return policy.status?.observedGeneration === generation && condition?.observedGeneration === generation ? condition : undefined;
    },
    { what: `AdmissionPolicy ${name} status at generation ${generation}`, timeoutMs: 30_000, intervalMs: 200 },
  );
}

/** The row of `kubectl get admissionpolicies` for a policy, by column. */
async function row(name: string): Promise<Record<string, string>> {
  const [header, ...rows] = (await kubectl(['get', 'admissionpolicies'])).trim().split('\n');
  const columns = header!.trim().split(/\s{2,}/);
  const cells = rows.map((r) => r.trim().split(/\s{2,}/)).find((cells) => cells[0] === name);
  if (!cells) throw new Error(`no row for ${name} in kubectl get admissionpolicies`);
  return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
}

beforeAll(async () => {
  cp = await startE2eControlPlane();
  const kubeconfig = cp.kubeconfigPath;
  informer = await startInformerApp(informerConfigSchema.parse({ ...e2eService, nats, source: { kubeconfig } }), { handleSignals: false });
  admission = await startAdmissionApp(
    admissionConfigSchema.parse({ ...e2eService, nats: { ...nats, lastKnownGoodBucket: `status_e2e_${process.pid}` }, kubernetes: { kubeconfig, accessReviews: false } }),
    { handleSignals: false },
  );
}, 120_000);

afterAll(async () => {
  for (const app of [admission, informer]) await app?.stop().catch(() => undefined);
  await cp?.stop();
}, 60_000);

describe('AdmissionPolicy status, written back by the admission service', () => {
  test('a valid policy is Accepted; an invalid edit is Invalid, naming the field and what stays in force; a fix is Accepted again', async () => {
    await apply('paths', { hostPath: { platform: [{ path: '/var/log', readOnly: true }] } });
    const first = await acceptedAt('paths', 1);
    expect(first).toMatchObject({ status: 'True', reason: 'Accepted', message: 'generation 1 is in force' });
    expect(await row('paths')).toMatchObject({ NAME: 'paths', ACCEPTED: 'True', REASON: 'Accepted', OBSERVED: '1' });

    // The CRD's schema lets "/." through; the service normalizes it to "/" and refuses it, and generation 1 stays in force.
    await apply('paths', { hostPath: { platform: [{ path: '/.' }] } });
    const invalid = await acceptedAt('paths', 2);
    expect(invalid).toMatchObject({
      status: 'False',
      reason: 'Invalid',
      message: 'spec.hostPath.platform[0].path: "/" would allow the whole host file system; name a directory; generation 1 stays in force',
    });
    expect(invalid.lastTransitionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await row('paths')).toMatchObject({ ACCEPTED: 'False', REASON: 'Invalid', OBSERVED: '2' });
    expect(admission!.store.policy('paths')?.generation).toBe(1);

    await apply('paths', { hostPath: { platform: [{ path: '/var/log' }] } });
    const fixed = await acceptedAt('paths', 3);
    expect(fixed).toMatchObject({ status: 'True', reason: 'Accepted', message: 'generation 3 is in force' });
    expect(await row('paths')).toMatchObject({ ACCEPTED: 'True', OBSERVED: '3' });
    // lastTransitionTime moves when the status flips, not with every generation: generation 4, written
    // seconds later (the field has second resolution), keeps generation 3's.
    expect(Date.parse(fixed.lastTransitionTime)).toBeGreaterThanOrEqual(Date.parse(invalid.lastTransitionTime));
    await pollUntil(async () => (Date.now() >= Date.parse(fixed.lastTransitionTime) + 1_500 ? true : undefined), { what: 'a later second', timeoutMs: 10_000, intervalMs: 100 });
    await apply('paths', { hostPath: { platform: [{ path: '/var/log', readOnly: true }] } });
    const again = await acceptedAt('paths', 4);
    expect(again).toMatchObject({ status: 'True', message: 'generation 4 is in force', lastTransitionTime: fixed.lastTransitionTime });
  }, 90_000);

  test('a policy with no valid generation says it is not in force', async () => {
    await apply('never-valid', { hostPath: { namespaces: [{ namespace: 'team-a', paths: [{ path: '/./.' }] }] } });
    expect(await acceptedAt('never-valid', 1)).toMatchObject({
      status: 'False',
      reason: 'Invalid',
      message: 'spec.hostPath.namespaces[0].paths[0].path: "/" would allow the whole host file system; name a directory; no valid generation is known, so the policy is not in force',
    });
    expect(admission!.store.policy('never-valid')).toBeUndefined();
  }, 60_000);
});
