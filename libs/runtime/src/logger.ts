import { context, trace } from '@opentelemetry/api';
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The service name, on every line as `service`. */
  service: string;
  /** pino level (default "info"). */
  level?: string;
  /** Where lines go (default stdout). Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/**
 * Keys whose values never reach a log line, wherever they appear one or two
 * levels deep: credentials, tokens, keys and secrets of every kind.
 */
const secretKeys = ['authorization', 'password', 'token', 'secret', 'apiKey', 'privateKey', 'key', 'hmacKey', 'jwt', 'cookie'];
export const redactedPaths: readonly string[] = secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers.${k}`, `*.headers.${k}`]);

/**
 * Creates the service's structured logger. Every line written inside an
 * active span carries `trace_id` and `span_id`, so logs join the trace in Jaeger.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      redact: { paths: [...redactedPaths], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const span = trace.getSpan(context.active());
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    options.destination,
  );
}
