import { afterAll, expect, test } from '@jest/globals';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { httpTraceContext, initTelemetry, injectHttpTraceHeaders, linkTo, withSpan, withSpanSync } from './telemetry.js';

const exporter = new InMemorySpanExporter();
const telemetry = initTelemetry({ serviceName: 'span-test', exporter, simpleProcessor: true });
afterAll(() => telemetry.shutdown());

const finished = (name: string) => exporter.getFinishedSpans().find((s) => s.name === name)!;

test('withSpan: a span of the given kind and attributes around async work; a failure marks it', async () => {
  expect(await withSpan(telemetry.tracer, 'call plugin', { kind: SpanKind.CLIENT, attributes: { 'schedmesh.plugin': 'cost' } }, async () => 42)).toBe(42);
  expect(finished('call plugin')).toMatchObject({ kind: SpanKind.CLIENT, attributes: { 'schedmesh.plugin': 'cost' }, status: { code: SpanStatusCode.UNSET } });

  await expect(withSpan(telemetry.tracer, 'failing', {}, async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  expect(finished('failing')).toMatchObject({ kind: SpanKind.INTERNAL, status: { code: SpanStatusCode.ERROR, message: 'down' } });
  expect(finished('failing').events.map((e) => e.name)).toEqual(['exception']);
});

test('withSpanSync: the same for synchronous work, nested under the active span', async () => {
  await withSpan(telemetry.tracer, 'outer', {}, async () => {
    expect(withSpanSync(telemetry.tracer, 'rule ok', { attributes: { rule: 'a' } }, (span) => span.isRecording())).toBe(true);
    expect(() => withSpanSync(telemetry.tracer, 'rule fails', {}, () => {
      throw new RangeError('bad');
    })).toThrow(RangeError);
  });
  const outer = finished('outer');
  expect(finished('rule ok').parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
  expect(finished('rule fails').status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad' });
});

test('a span with parent ROOT_CONTEXT starts a trace of its own, linked to the span it follows from', async () => {
  await withSpan(telemetry.tracer, 'publish', {}, async (publish) => {
    const follows = context.active();
    await withSpan(telemetry.tracer, 'apply', { kind: SpanKind.CONSUMER, parent: ROOT_CONTEXT, links: linkTo(follows) }, async () => undefined);
    const apply = finished('apply');
    expect(apply.parentSpanContext).toBeUndefined();
    expect(apply.spanContext().traceId).not.toBe(publish.spanContext().traceId);
    expect(apply.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
  });
  // Nothing to link to outside any span.
  expect(linkTo(ROOT_CONTEXT)).toEqual([]);
});

test('HTTP headers carry the trace: injected by a client, they parent the server span', async () => {
  const headers: Record<string, string> = { accept: 'application/json' };
  let clientSpanId = '';
  await withSpan(telemetry.tracer, 'client call', { kind: SpanKind.CLIENT }, async (span) => {
    clientSpanId = span.spanContext().spanId;
    injectHttpTraceHeaders(headers);
  });
  expect(headers.traceparent).toMatch(new RegExp(`^00-[0-9a-f]{32}-${clientSpanId}-01$`));
  // node:http hands the server lower-case names, and arrays for repeated ones.
  const parent = httpTraceContext({ ...headers, 'x-forwarded-for': ['a', 'b'] });
  expect(trace.getSpanContext(parent)?.spanId).toBe(clientSpanId);
  expect(trace.getSpanContext(httpTraceContext({ accept: '*/*' }))).toBeUndefined();
  expect(trace.getSpanContext(httpTraceContext({ traceparent: 'not-a-traceparent' }))).toBeUndefined();
});
