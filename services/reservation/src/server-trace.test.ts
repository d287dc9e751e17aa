// The call spans of Reserve, Confirm and Unreserve say what was decided:
// the pod, the node, the fencing version and the outcome.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { initTelemetry } from '@schedmesh/runtime';
import type { Telemetry } from '@schedmesh/runtime';
import { sharedServers } from '@schedmesh/testkit';
import { nodeEvent, startHarness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let h: Harness;

beforeAll(async () => {
  // Registered first, this provider is the process's: the gRPC server's spans come to it.
  telemetry = initTelemetry({ serviceName: 'reservation-trace-test', exporter, simpleProcessor: true });
  const { redisUrl, natsUrl } = sharedServers();
  h = await startHarness({ redisUrl, natsUrl, events: [nodeEvent('n1', { cpu: 1_000, memory: 2 ** 30, pods: 10 })] });
});
afterAll(async () => {
  await h.stop();
  await telemetry.shutdown();
});

const spanOf = (method: string) => exporter.getFinishedSpans().filter((s) => s.name === `schedmesh.v1.ReservationService/${method}` && s.kind === SpanKind.SERVER);

test('Reserve names the pod and node, and the lease it granted or the conflict; Confirm and Unreserve the lease they act on', async () => {
  const client = h.clients[0]!;
  const pod = (uid: string) => ({ uid, namespace: 'team-a', name: `web-${uid}` });
  const granted = await client.reserve({ pod: pod('u1'), nodeName: 'n1', requests: { milliCpu: 800 }, ttl: { seconds: 30 }, holder: 'test' });
  const version = granted.result?.$case === 'lease' ? granted.result.value.fencingVersion : -1;
  await client.reserve({ pod: pod('u2'), nodeName: 'n1', requests: { milliCpu: 800 }, ttl: { seconds: 30 }, holder: 'test' });
  await client.confirm({ podUid: 'u1', fencingVersion: version });
  await client.unreserve({ podUid: 'u1', fencingVersion: version });
  await client.unreserve({ podUid: 'u1', fencingVersion: version });
  await telemetry.flush();

  expect(spanOf('Reserve').map((s) => s.attributes)).toEqual([
    expect.objectContaining({ 'k8s.pod.uid': 'u1', 'k8s.pod.name': 'web-u1', 'k8s.namespace.name': 'team-a', 'k8s.node.name': 'n1', 'schedmesh.reservation.outcome': 'granted', 'schedmesh.fencing_version': version }),
    expect.objectContaining({ 'k8s.pod.uid': 'u2', 'k8s.node.name': 'n1', 'schedmesh.reservation.outcome': 'conflict' }),
  ]);
  expect(spanOf('Reserve')[1]!.attributes).not.toHaveProperty('schedmesh.fencing_version');
  expect(spanOf('Confirm').map((s) => s.attributes)).toEqual([expect.objectContaining({ 'k8s.pod.uid': 'u1', 'schedmesh.fencing_version': version })]);
  // The first Unreserve releases the lease; the second finds none (idempotent) and says so.
  expect(spanOf('Unreserve').map((s) => s.attributes)).toEqual([
    expect.objectContaining({ 'k8s.pod.uid': 'u1', 'schedmesh.fencing_version': version, 'schedmesh.reservation.released': true }),
    expect.objectContaining({ 'k8s.pod.uid': 'u1', 'schedmesh.fencing_version': version, 'schedmesh.reservation.released': false }),
  ]);
});
