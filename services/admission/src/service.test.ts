// The admission service in-process over real NATS JetStream and real gRPC:
// policies hot-reloaded from the cluster stream, an invalid version refused
// while the previous one stays in force (also across a restart), request
// validation, GetAppState, and NOT_SERVING while the stream is lost.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { AdmissionDecision, AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import { Code } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Pod } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, ensureClusterStreamFrom, publishClusterEvent } from '@schedmesh/runtime';
import { admissionPod, hostPathVolume, loopbackConfig, namespaceEvent, policyEvent, pollUntil, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import { createClient, Status } from 'nice-grpc';
import type { Channel } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { startAdmissionApp } from './app.js';
import type { AdmissionApp } from './app.js';
import { admissionConfigSchema } from './config.js';
import { Reason } from './reasons.js';

const SERVING = 1;
let nats: TestServer;
let nc: NatsConnection;
let js: JetStreamClient;
const apps: AdmissionApp[] = [];
const channels: Channel[] = [];
let streams = 0;

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  js = jetstream(nc);
});

afterAll(async () => {
  for (const c of channels) c.close();
  await Promise.all(apps.map((a) => a.stop()));
  await nc.close();
  await nats.stop();
});

/** Waits for the condition, with a limit generous enough for two busy cores. */
async function until(what: string, predicate: () => boolean | Promise<boolean>): Promise<void> {
  await pollUntil(async () => ((await predicate()) ? true : undefined), { what, timeoutMs: 30_000, intervalMs: 20 });
}

/** A private stream (and last-known-good bucket) per harness, so tests do not see each other's policies. */
function streamOf(n: number): { stream: string; subjectPrefix: string; lastKnownGoodBucket: string } {
  return { stream: `ADMISSION_T${n}`, subjectPrefix: `t${n}.cluster`, lastKnownGoodBucket: `admission_t${n}` };
}

async function startApp(stream: ReturnType<typeof streamOf>, overrides: Record<string, Record<string, unknown>> = {}) {
  const config = loopbackConfig(admissionConfigSchema, nats.url, { ...overrides, nats: { memoryStorage: false, ...stream, ...overrides.nats }, kubernetes: { accessReviews: false, policyStatus: false } });
  // The informer owns the cluster stream; without one, the test creates it.
  await ensureClusterStreamFrom(config.nats);
  const app = await startAdmissionApp(config, { handleSignals: false });
  apps.push(app);
  const channel = connectChannel(`127.0.0.1:${app.grpcPort}`);
  channels.push(channel);
  const client = createServiceClient(AdmissionServiceDefinition, channel, { defaultDeadlineMs: 5_000 });
  const health = createClient(HealthDefinition, channel);
  const serving = async (): Promise<boolean> => (await health.check({ service: 'schedmesh.v1.AdmissionService' }).catch(() => ({ status: 0 }))).status === SERVING;
  return { app, client, serving };
}

async function harness(overrides: Record<string, Record<string, unknown>> = {}) {
  const stream = streamOf(++streams);
  const started = await startApp(stream, overrides);
  await until('SERVING', started.serving);
  const publish = async (...events: ClusterEvent[]): Promise<number> => {
    let seq = 0;
    for (const e of events) {
      for (let attempt = 1; ; attempt++) {
        try {
          seq = (await publishClusterEvent(js, e, stream.subjectPrefix)).seq;
          break;
        } catch (err) {
          // Our own connection may still be reconnecting after a server restart.
          if (attempt >= 40) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
    return seq;
  };
  return { ...started, stream, publish };
}

const dataPod = (path: string, readOnly = false): Pod => admissionPod('web-0', 'team-a', { volumes: [hostPathVolume('data', path, readOnly)] });

async function metric(app: AdmissionApp, name: string): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
}

describe('policies hot-reload from the cluster stream', () => {
  test('a new version takes effect without a restart; an invalid one is refused and the previous stays in force', async () => {
    const { app, client, publish } = await harness();
    let seq = await publish(
      namespaceEvent('team-a', { tenant: 'true' }),
      policyEvent('paths', { targetNamespaces: { names: ['team-a'] }, hostPath: { platform: [{ path: '/var/log' }] } }, { generation: 1 }),
    );
    expect(await client.admit({ pod: dataPod('/data/x'), minGeneration: seq })).toMatchObject({
      decision: AdmissionDecision.ADMISSION_DECISION_REJECT,
      code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
      reasonCode: Reason.HostPathDenied,
      policies: ['paths'],
    });

    seq = await publish(policyEvent('paths', { targetNamespaces: { names: ['team-a'] }, hostPath: { platform: [{ path: '/data', readOnly: true }] } }, { generation: 2 }));
    expect(await client.admit({ pod: dataPod('/data/x', true), minGeneration: seq })).toMatchObject({ decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, reasonCode: Reason.Allowed, policies: ['paths'] });
    expect((await client.admit({ pod: dataPod('/data/x', false) })).reasonCode).toBe(Reason.HostPathReadOnlyRequired);

    // Version 3 is invalid (an unknown field): refused whole, version 2 stays.
    seq = await publish(policyEvent('paths', { targetNamespaces: { names: ['team-a'] }, hostPath: { platform: [{ path: '/' }] }, bogus: true }, { generation: 3 }));
    expect(await client.admit({ pod: dataPod('/data/x', true), minGeneration: seq })).toMatchObject({ decision: AdmissionDecision.ADMISSION_DECISION_ALLOW });
    expect(app.store.policy('paths')?.generation).toBe(2);
    expect(app.store.refusals()).toEqual([expect.objectContaining({ key: 'paths', generation: 3, issues: [{ field: 'spec.hostPath.platform[0].path', reason: expect.stringContaining('whole host file system') }, { field: 'spec.bogus', reason: 'unknown field' }] })]);
    expect(await metric(app, 'schedmesh_admission_policy_rejected_total{')).toMatch(/^schedmesh_admission_policy_rejected_total\{policy="paths",field="spec.hostPath.platform\[0\].path",service="schedmesh-admission"\} 1$/);

    // A valid version 4 clears the refusal; a deletion removes the policy.
    seq = await publish(policyEvent('paths', { targetNamespaces: { names: ['team-a'] }, hostPath: { platform: [{ path: '/srv' }] } }, { generation: 4 }));
    expect((await client.admit({ pod: dataPod('/data/x', true), minGeneration: seq })).reasonCode).toBe(Reason.HostPathDenied);
    expect(app.store.refusals()).toEqual([]);
    seq = await publish(policyEvent('paths', {}, { type: 'delete' }));
    // No policy left: host paths are restricted by default (admission.hostPath.whenNoPolicy), other pods pass.
    expect(await client.admit({ pod: dataPod('/data/x', true), minGeneration: seq })).toMatchObject({
      decision: AdmissionDecision.ADMISSION_DECISION_REJECT,
      reasonCode: Reason.HostPathDenied,
      policies: [],
      message: expect.stringContaining('host paths are restricted by default'),
    });
    expect(await client.admit({ pod: admissionPod('web-0', 'team-a') })).toMatchObject({ decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, reasonCode: Reason.NoPolicyApplies });
    expect(await metric(app, 'schedmesh_admission_decisions_total{decision="reject",reason="HostPathDenied",')).toMatch(/ 3$/);
  });

  test('a policy first seen invalid is not applied at all', async () => {
    const { app, client, publish } = await harness();
    const seq = await publish(policyEvent('strict', { targetNamespaces: { selectors: [{}] }, rejectIfNotMatch: true }));
    expect(await client.admit({ pod: admissionPod('p', 'anywhere'), minGeneration: seq })).toMatchObject({ reasonCode: Reason.NoPolicyApplies });
    expect(app.store.refusals()[0]?.issues[0]).toEqual({ field: 'spec.targetNamespaces.selectors[0]', reason: expect.stringContaining('must not be empty') });
    expect(app.store.refusals()[0]?.inForce).toBeUndefined();
  });

  test('after a restart, the last valid version is restored when the stream holds only an invalid one', async () => {
    const first = await harness();
    let seq = await first.publish(policyEvent('only-a', { targetNamespaces: { names: ['team-a'] }, rejectIfNotMatch: true }, { generation: 1 }));
    expect((await first.client.admit({ pod: admissionPod('p', 'team-b'), minGeneration: seq })).reasonCode).toBe(Reason.NotTargeted);
    await first.app.stop();

    // While no admission replica runs, the policy is edited into an invalid version.
    seq = await first.publish(policyEvent('only-a', { targetNamespaces: { names: ['Team A'] }, rejectIfNotMatch: true }, { generation: 2 }));
    const second = await startApp(first.stream);
    await until('SERVING', second.serving);
    expect(await second.client.admit({ pod: admissionPod('p', 'team-b'), minGeneration: seq })).toMatchObject({ reasonCode: Reason.NotTargeted, policies: ['only-a'] });
    expect(second.app.store.policy('only-a')?.generation).toBe(1);
    expect(await metric(second.app, 'schedmesh_admission_policy_restored_total')).toMatch(/ 1$/);
  });
});

describe('the gRPC edge', () => {
  test('bad input is INVALID_ARGUMENT naming the field; an unknown namespace is NOT_FOUND', async () => {
    const { client } = await harness();
    const invalid = (field: string) => ({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(new RegExp(`^${field.replace(/[[\]]/g, '\\$&')}: `)) });
    await expect(client.admit({})).rejects.toMatchObject(invalid('pod'));
    await expect(client.admit({ pod: admissionPod('p', '') })).rejects.toMatchObject(invalid('pod.namespace'));
    await expect(client.admit({ pod: admissionPod('p', 'Not_A_Namespace') })).rejects.toMatchObject(invalid('pod.namespace'));
    await expect(client.admit({ pod: admissionPod('', 'team-a') })).rejects.toMatchObject(invalid('pod.name'));
    await expect(client.admit({ pod: admissionPod('p', 'team-a', { serviceAccountName: 'Bad SA' }) })).rejects.toMatchObject(invalid('pod.service_account_name'));
    await expect(client.admit({ pod: admissionPod('p', 'team-a', { volumes: [hostPathVolume('', '/x')] }) })).rejects.toMatchObject(invalid('pod.volumes[0].name'));
    await expect(client.getAppState({ namespace: '' })).rejects.toMatchObject(invalid('namespace'));
    await expect(client.getAppState({ namespace: 'team-a', app: 'not a label value' })).rejects.toMatchObject(invalid('app'));
    await expect(client.getAppState({ namespace: 'nowhere' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  });

  test('GetAppState reports hibernation from the namespace annotation and policy blocks', async () => {
    const { client, publish } = await harness();
    const seq = await publish(
      namespaceEvent('shop', {}, { 'schedmesh.io/hibernate': 'true' }),
      namespaceEvent('team-a'),
      policyEvent('sleep', { targetNamespaces: { names: ['team-a'] }, hibernation: { apps: ['batch'] } }),
    );
    await client.admit({ pod: admissionPod('p', 'team-a'), minGeneration: seq });
    expect(await client.getAppState({ namespace: 'shop', app: 'web' })).toMatchObject({ hibernating: true, wakeHint: 'wake it with: kubectl annotate namespace shop schedmesh.io/hibernate-' });
    expect(await client.getAppState({ namespace: 'team-a', app: 'batch' })).toMatchObject({ hibernating: true, source: expect.stringContaining('AdmissionPolicy sleep') });
    expect(await client.getAppState({ namespace: 'team-a', app: 'web' })).toEqual({ hibernating: false, source: '', wakeHint: '' });
    const d = await client.admit({ pod: admissionPod('b-0', 'team-a', { labels: { app: 'batch' } }) });
    expect(d).toMatchObject({ decision: AdmissionDecision.ADMISSION_DECISION_REJECT, code: Code.CODE_UNSCHEDULABLE, reasonCode: Reason.Hibernating });
  });

  test('min_generation waits for the stream, bounded by the deadline', async () => {
    const { client, publish } = await harness();
    const seq = await publish(namespaceEvent('team-a'));
    const started = Date.now();
    await expect(client.admit({ pod: admissionPod('p', 'team-a'), minGeneration: seq + 10 }, { deadline: 300 })).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(3_000);
    const waiting = client.admit({ pod: admissionPod('p', 'sleepy'), minGeneration: seq + 1 });
    await publish(namespaceEvent('sleepy', {}, { 'schedmesh.io/hibernate': 'true' }));
    expect((await waiting).reasonCode).toBe(Reason.Hibernating);
  });
});

describe('degradation', () => {
  test('NOT_SERVING and UNAVAILABLE while NATS is down; policies still in force after it returns', async () => {
    const { app, client, serving, publish } = await harness();
    const seq = await publish(policyEvent('only-a', { targetNamespaces: { names: ['team-a'] }, rejectIfNotMatch: true }));
    expect((await client.admit({ pod: admissionPod('p', 'team-b'), minGeneration: seq })).reasonCode).toBe(Reason.NotTargeted);

    await nats.restart();
    await until('not synced', () => !app.store.gate.synced);
    await expect(client.admit({ pod: admissionPod('p', 'team-b') }, { retry: false })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(await serving()).toBe(false);

    await until('SERVING again', serving);
    const after = await publish(namespaceEvent('team-c'));
    expect((await client.admit({ pod: admissionPod('p', 'team-b'), minGeneration: after })).reasonCode).toBe(Reason.NotTargeted);
  }, 90_000);
});
