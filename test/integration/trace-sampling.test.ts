// initTelemetry with a sample ratio (its own file: the tracer provider is
// process-wide). Attempts start traces over two real gRPC hops on loopback;
// a share of them is exported, each one whole, and a callee follows its
// caller's decision rather than the ratio.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { createChannel, createClient, Metadata } from 'nice-grpc';
import { AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import { createLogger, initTelemetry, withSpan } from '@schedmesh/runtime';
import { AdmissionHops } from './admission-hops.js';

const RATIO = 0.25;
const ATTEMPTS = 200;
const exporter = new InMemorySpanExporter();
const telemetry = initTelemetry({ serviceName: 'sampled-test', exporter, simpleProcessor: true, sampleRatio: RATIO });
const logger = createLogger({ service: 'sampled-test', level: 'silent' });
const hops = new AdmissionHops(logger);

let hopA: ReturnType<AdmissionHops['client']>;
let addressA: string;

beforeAll(async () => {
  const hopB = hops.client(await hops.serve(async () => undefined));
  addressA = await hops.serve(async () => {
    await hopB.admit({});
  });
  hopA = hops.client(addressA);
});

afterAll(async () => {
  await hops.close();
  await telemetry.shutdown();
});

/** A trace id the ratio sampler decides `sampled` for. */
function traceIdDecided(sampled: boolean): string {
  const sampler = new TraceIdRatioBasedSampler(RATIO);
  for (;;) {
    const id = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
    const decision = sampler.shouldSample(ROOT_CONTEXT, id).decision;
    if ((decision === SamplingDecision.RECORD_AND_SAMPLED) === sampled) return id;
  }
}

test('a share of the attempts is exported, and each exported attempt is one whole trace across both hops', async () => {
  exporter.reset();
  for (let i = 0; i < ATTEMPTS; i++) {
    await withSpan(telemetry.tracer, 'schedule_one', { parent: ROOT_CONTEXT }, async () => {
      await hopA.admit({});
    });
  }
  const spans = exporter.getFinishedSpans();
  const roots = spans.filter((s) => s.name === 'schedule_one');
  // Binomial(200, 0.25): 50 expected; outside 15..100 with a probability far below 1e-9.
  expect(roots.length).toBeGreaterThan(15);
  expect(roots.length).toBeLessThan(100);
  const sampledTraces = new Set(roots.map((r) => r.spanContext().traceId));
  // Nothing of an unsampled attempt is exported, by any hop.
  expect(spans.filter((s) => !sampledTraces.has(s.spanContext().traceId))).toEqual([]);
  for (const root of roots) {
    const traceId = root.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(inTrace.map((s) => [s.spanContext().spanId, s]));
    // root → client A → server A → client B → server B, each the parent of the next.
    expect(inTrace.map((s) => [s.name, s.kind]).sort()).toEqual(
      [
        ['schedule_one', SpanKind.INTERNAL],
        ['schedmesh.v1.AdmissionService/Admit', SpanKind.CLIENT],
        ['schedmesh.v1.AdmissionService/Admit', SpanKind.SERVER],
        ['schedmesh.v1.AdmissionService/Admit', SpanKind.CLIENT],
        ['schedmesh.v1.AdmissionService/Admit', SpanKind.SERVER],
      ].sort(),
    );
    for (const span of inTrace) {
      if (span === root) continue;
      expect(byId.has(span.parentSpanContext?.spanId ?? '')).toBe(true);
      expect(span.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'schedmesh.v1.AdmissionService', 'rpc.method': 'Admit', 'rpc.grpc.status_code': 0 });
    }
    const server = inTrace.find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.attributes).toMatchObject({ 'net.peer.ip': '127.0.0.1' });
  }
}, 120_000);

test.each([
  { caller: 'sampled', flags: '01', ratioSays: false, recorded: true },
  { caller: 'not sampled', flags: '00', ratioSays: true, recorded: false },
])("a callee follows its caller's decision ($caller) over its own ratio", async ({ flags, ratioSays, recorded }) => {
  exporter.reset();
  const traceId = traceIdDecided(ratioSays);
  // A plain client: the traceparent is exactly what a caller in another process would send.
  const channel = hops.track(createChannel(addressA));
  await createClient(AdmissionServiceDefinition, channel).admit({}, { metadata: Metadata({ traceparent: `00-${traceId}-b7ad6b7169203331-${flags}` }) });
  const spans = exporter.getFinishedSpans();
  expect(spans.filter((s) => s.spanContext().traceId !== traceId)).toEqual([]);
  // Server A, and its client and server spans of hop B: all or nothing.
  expect(spans.length).toBe(recorded ? 3 : 0);
  for (const s of spans) expect(s.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(TraceFlags.SAMPLED);
  expect(trace.getActiveSpan()).toBeUndefined();
});

test('a ratio outside 0..1 is refused at start-up', () => {
  expect(() => initTelemetry({ serviceName: 'bad-ratio', exporter: new InMemorySpanExporter(), sampleRatio: 1.5 })).toThrow(/telemetry.sampleRatio must be between 0 and 1, got 1.5/);
});
