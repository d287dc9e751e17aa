import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger } from './logger.js';
import { initTelemetry } from './telemetry.js';
import type { Telemetry } from './telemetry.js';

let telemetry: Telemetry;
beforeAll(() => {
  telemetry = initTelemetry({ serviceName: 'log-test', exporter: new InMemorySpanExporter(), simpleProcessor: true });
});
afterAll(() => telemetry.shutdown());

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('lines inside a span carry its trace and span ids; lines outside carry none', () => {
  const out = capture();
  const logger = createLogger({ service: 'svc', destination: out.stream });
  logger.info('outside');
  const span = telemetry.tracer.startSpan('work');
  context.with(trace.setSpan(context.active(), span), () => logger.info({ pod: 'default/web' }, 'inside'));
  span.end();
  const [outside, inside] = out.lines();
  expect(outside).toMatchObject({ service: 'svc', level: 'info', msg: 'outside' });
  expect(outside).not.toHaveProperty('trace_id');
  expect(inside).toMatchObject({ msg: 'inside', pod: 'default/web', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
});

test('secrets never reach a line', () => {
  const out = capture();
  const logger = createLogger({ service: 'svc', destination: out.stream });
  logger.info({ token: 't0ps3cret', plugin: { name: 'cost', hmacKey: 'k3y', auth: { password: 'pw' } }, headers: { authorization: 'Bearer abc' } }, 'calling plugin');
  const text = JSON.stringify(out.lines());
  for (const secret of ['t0ps3cret', 'k3y', 'pw"', 'Bearer abc']) expect(text).not.toContain(secret);
  expect(text).toContain('"name":"cost"');
  expect(text).toContain('[redacted]');
});
