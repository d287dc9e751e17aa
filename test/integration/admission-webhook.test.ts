// An AdmissionPolicy's webhook over the real path: the admission service
// (policies from NATS JetStream) → the gateway service over gRPC → a real REST
// plugin over HTTP — the example GPU compliance plugin, speaking the verdict
// protocol. Admit is called over gRPC, as the scheduler calls it.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { admissionConfigSchema, Reason, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { gatewayConfigSchema, startGatewayService } from '@schedmesh/gateway-service';
import type { GatewayServiceHandle } from '@schedmesh/gateway-service';
import { ATTESTATION_ANNOTATION, signAttestation, startGpuCompliancePlugin } from '@schedmesh/gpu-compliance-example';
import type { GpuCompliancePlugin } from '@schedmesh/gpu-compliance-example';
import { AdmissionDecision, AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import { Code } from '@schedmesh/proto/v1/types';
import type { Pod } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, ensureClusterStreamFrom, publishClusterEvent } from '@schedmesh/runtime';
import { admissionPod, namespaceEvent, policyEvent, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import type { Channel } from 'nice-grpc';

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };
const grpc = { host: '127.0.0.1', port: 0 };
const keys = generateKeyPairSync('ed25519');

let nats: TestServer;
let nc: NatsConnection;
let plugin: GpuCompliancePlugin;
let gateway: GatewayServiceHandle;
let admission: AdmissionApp;
let channel: Channel;
let client: ReturnType<typeof createServiceClient<typeof AdmissionServiceDefinition>>;
let generation = 0;

beforeAll(async () => {
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  const dir = mkdtempSync(join(tmpdir(), 'webhook-it-'));
  const publicKeyFile = join(dir, 'ed25519.pub');
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  plugin = await startGpuCompliancePlugin({ publicKeyFile });
  const pluginsFile = join(dir, 'plugins.yaml');
  writeFileSync(pluginsFile, stringify({ plugins: plugin.gatewayPlugins }));
  gateway = await startGatewayService(gatewayConfigSchema.parse({ ...common, grpc, gateway: { pluginsFile } }), { handleSignals: false });

  const config = admissionConfigSchema.parse({
    ...common,
    grpc,
    nats: { url: nats.url },
    kubernetes: { accessReviews: false, policyStatus: false },
    gateway: { address: `127.0.0.1:${gateway.grpcPort}`, deadline: '5s' },
  });
  await ensureClusterStreamFrom(config.nats);
  const js = jetstream(nc);
  for (const event of [
    namespaceEvent('ml'),
    policyEvent('gpu-compliance', { targetNamespaces: { names: ['ml'] }, webhookRef: 'gpu-attestation', failurePolicy: 'Fail' }),
  ]) {
    generation = (await publishClusterEvent(js, event, config.nats.subjectPrefix)).seq;
  }
  admission = await startAdmissionApp(config, { handleSignals: false });
  channel = connectChannel(`127.0.0.1:${admission.grpcPort}`);
  client = createServiceClient(AdmissionServiceDefinition, channel, { defaultDeadlineMs: 10_000 });
}, 60_000);

afterAll(async () => {
  channel?.close();
  await admission?.stop();
  await gateway?.stop();
  await plugin?.close();
  await nc?.close();
  await nats?.stop();
}, 30_000);

const gpuPod = (name: string, annotations: Record<string, string> = {}): Pod =>
  admissionPod(name, 'ml', { serviceAccountName: 'trainer', annotations, requests: { milliCpu: 500, scalar: { 'nvidia.com/gpu': 1 } } });

describe('an AdmissionPolicy webhook through the real gateway to a real REST plugin', () => {
  test('a GPU pod without an attestation is rejected with the plugin\'s reason', async () => {
    const answer = await client.admit({ pod: gpuPod('bare'), minGeneration: generation });
    expect(answer).toMatchObject({
      decision: AdmissionDecision.ADMISSION_DECISION_REJECT,
      code: Code.CODE_UNSCHEDULABLE_AND_UNRESOLVABLE,
      reasonCode: Reason.WebhookRejected,
      policies: ['gpu-compliance'],
      message: 'webhook "gpu-attestation" of AdmissionPolicy gpu-compliance rejected the pod: Missing security attestation',
    });
  });

  test('an attested GPU pod and a pod without GPUs are allowed', async () => {
    const attested = gpuPod('attested', { [ATTESTATION_ANNOTATION]: signAttestation(keys.privateKey, { namespace: 'ml', serviceAccount: 'trainer' }, Math.floor(Date.now() / 1000) + 600) });
    await expect(client.admit({ pod: attested, minGeneration: generation })).resolves.toMatchObject({ decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, reasonCode: Reason.Allowed });
    await expect(client.admit({ pod: admissionPod('web', 'ml'), minGeneration: generation })).resolves.toMatchObject({ decision: AdmissionDecision.ADMISSION_DECISION_ALLOW });
  });

  test('the plugin gone: the policy fails closed, so the pod is retried (ERROR), not admitted', async () => {
    await plugin.close();
    const answer = await client.admit({ pod: gpuPod('while-down'), minGeneration: generation });
    expect(answer).toMatchObject({ decision: AdmissionDecision.ADMISSION_DECISION_REJECT, code: Code.CODE_ERROR, reasonCode: Reason.WebhookUnavailable });
    expect(answer.message).toMatch(/^webhook "gpu-attestation" of AdmissionPolicy gpu-compliance could not be consulted: plugin failed: plugin call failed \(network\): /);
  });
});
