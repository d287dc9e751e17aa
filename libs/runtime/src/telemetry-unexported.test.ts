// initTelemetry without an exporter (its own file: the tracer provider is
// process-wide): nothing reads the spans, so those of a trace this process
// starts are not recorded, but their ids still propagate; a trace a caller
// sampled is recorded, so it stays whole in the services after this one.
import { afterAll, expect, test } from '@jest/globals';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { activeTraceId, httpTraceContext, initTelemetry, injectHttpTraceHeaders, withSpan } from './telemetry.js';

const telemetry = initTelemetry({ serviceName: 'unexported-test' });
afterAll(() => telemetry.shutdown());

test('a trace started here is not recorded; its ids reach logs and, unsampled, the callees', async () => {
  const headers: Record<string, string> = {};
  await withSpan(telemetry.tracer, 'attempt', { parent: ROOT_CONTEXT }, async (span) => {
    expect(span.isRecording()).toBe(false);
    expect(activeTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(activeTraceId()).not.toBe('0'.repeat(32));
    await withSpan(telemetry.tracer, 'step', {}, async (child) => {
      expect(child.isRecording()).toBe(false);
      expect(child.spanContext().traceId).toBe(span.spanContext().traceId);
      injectHttpTraceHeaders(headers);
    });
  });
  expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
});

test("a span whose caller sampled the trace is recorded and passes the caller's trace on, sampled", async () => {
  const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const headers: Record<string, string> = {};
  await withSpan(telemetry.tracer, 'server', { parent: httpTraceContext({ traceparent: caller }) }, async (span) => {
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(TraceFlags.SAMPLED);
    injectHttpTraceHeaders(headers);
  });
  expect(headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  expect(trace.getActiveSpan()).toBeUndefined();
});
