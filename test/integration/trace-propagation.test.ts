// One trace id crosses two gRPC hops and one NATS JetStream message unchanged:
// the property Jaeger's view of a scheduling attempt rests on.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { connectNats, createLogger, initTelemetry, jetStreamClient, messageTraceContext, publishTraced } from '@schedmesh/runtime';
import type { Telemetry } from '@schedmesh/runtime';
import { sharedServers } from '@schedmesh/testkit';
import { AdmissionHops } from './admission-hops.js';

const logger = createLogger({ service: 'trace-test', level: 'silent' });
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let nc: NatsConnection;
const stream = `TRACE_${process.pid}_${Date.now()}`;
const subject = `trace.${stream}.events`;
const hops = new AdmissionHops(logger);

beforeAll(async () => {
  telemetry = initTelemetry({ serviceName: 'trace-test', exporter, simpleProcessor: true });
  nc = await connectNats({ servers: sharedServers().natsUrl, name: 'trace-test', logger });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject] });
  await jsm.consumers.add(stream, { durable_name: 'consumer', ack_policy: AckPolicy.Explicit });
});

afterAll(async () => {
  await hops.close();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream);
  await nc.close();
  await telemetry.shutdown();
});

test('a trace id crosses two gRPC hops and one NATS message unchanged', async () => {
  const js = jetStreamClient(nc);
  // Hop B publishes an event; hop A calls hop B.
  const addressB = await hops.serve(async () => {
    await publishTraced(js, subject, new TextEncoder().encode('pod-added'), { msgId: 'evt-1' });
  });
  const clientB = hops.client(addressB);
  const addressA = await hops.serve(async () => {
    await clientB.admit({ pod: { name: 'p', uid: 'u', namespace: 'd' } });
  });
  const clientA = hops.client(addressA);

  const root = telemetry.tracer.startSpan('scheduling-attempt');
  const rootCtx = trace.setSpan(context.active(), root);
  await context.with(rootCtx, () => clientA.admit({ pod: { name: 'p', uid: 'u', namespace: 'd' } }));
  root.end();

  // The consumer continues the trace from the message headers.
  const consumer = await js.consumers.get(stream, 'consumer');
  const msg = await consumer.next({ expires: 5000 });
  expect(msg).not.toBeNull();
  const traceparent = msg!.headers?.get('traceparent') ?? '';
  const consumed = telemetry.tracer.startSpan('consume pod-added', {}, messageTraceContext(msg!.headers));
  consumed.end();
  msg!.ack();

  await telemetry.flush();
  const spans = exporter.getFinishedSpans();
  const traceId = root.spanContext().traceId;
  expect(traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

  // root, client A, server A, client B, server B, consumer: one trace.
  const names = spans.map((s) => s.name);
  expect(names.filter((n) => n === 'schedmesh.v1.AdmissionService/Admit').length).toBe(4);
  expect(names).toContain('consume pod-added');
  for (const span of spans) expect(span.spanContext().traceId).toBe(traceId);

  // The chain of parents runs root → A client → A server → B client → B server → consumer.
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const chain: string[] = [];
  for (let s = spans.find((x) => x.name === 'consume pod-added'); s; s = byId.get(s.parentSpanContext?.spanId ?? '')) {
    chain.push(`${s.name}:${s.kind}`);
  }
  expect(chain).toEqual([
    'consume pod-added:0',
    'schedmesh.v1.AdmissionService/Admit:1', // SERVER (B)
    'schedmesh.v1.AdmissionService/Admit:2', // CLIENT (A → B)
    'schedmesh.v1.AdmissionService/Admit:1', // SERVER (A)
    'schedmesh.v1.AdmissionService/Admit:2', // CLIENT (test → A)
    'scheduling-attempt:0',
  ]);
});
