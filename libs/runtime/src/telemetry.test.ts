import { afterAll, expect, test } from '@jest/globals';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { initTelemetry, withSpan, withSpanSync } from './telemetry.js';

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
