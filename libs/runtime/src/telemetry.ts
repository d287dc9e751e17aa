import { context, isSpanContextValid, propagation, ROOT_CONTEXT, trace, SpanStatusCode } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, SpanKind, TextMapGetter, TextMapSetter, Tracer } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BatchSpanProcessor, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** Options of {@link initTelemetry}. */
export interface TelemetryOptions {
  /** service.name of every span. */
  serviceName: string;
  /** service.version. */
  serviceVersion?: string;
  /**
   * OTLP/HTTP traces endpoint ("http://jaeger:4318/v1/traces"). Without it
   * (and without `exporter`) nothing is exported, so a trace this process
   * starts is not recorded: its spans are non-recording (no attributes, no
   * timing kept), yet their ids still reach logs and, unsampled, other
   * services. A span whose caller sampled its trace is recorded, so the
   * services after it still join that trace.
   */
  otlpEndpoint?: string;
  /** An exporter to use instead of OTLP (tests: InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** Export each span at once instead of in batches (tests). */
  simpleProcessor?: boolean;
  /**
   * The share (0–1) of the traces this process starts that are recorded and
   * exported, decided from the trace id (the same decision in every process
   * for one trace id). A trace begun elsewhere follows its caller's decision
   * (parent-based), so a sampled trace stays whole across services. Unset:
   * the standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG variables
   * decide, and without them every trace is recorded. Ignored without an
   * exporter (nothing is recorded then).
   */
  sampleRatio?: number;
}

/** The running telemetry of a process. */
export interface Telemetry {
  /** The service's tracer. */
  readonly tracer: Tracer;
  /** Flushes pending spans. */
  flush(): Promise<void>;
  /** Flushes and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Installs the process-wide tracer provider with W3C trace-context and baggage
 * propagation. Call it first in a service's main, before anything traces.
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  const processors: SpanProcessor[] = [];
  const exporter = options.exporter ?? (options.otlpEndpoint ? new OTLPTraceExporter({ url: options.otlpEndpoint }) : undefined);
  if (exporter) {
    processors.push(options.simpleProcessor ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
    }),
    spanProcessors: processors,
    ...sampling(exporter !== undefined, options.sampleRatio),
  });
  provider.register({
    propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  });
  return {
    tracer: provider.getTracer(options.serviceName),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** The sampler: parent-based, rooted in the ratio; unset leaves the SDK to read OTEL_TRACES_SAMPLER. */
function sampling(exported: boolean, ratio: number | undefined): { sampler?: Sampler } {
  if (!exported) return { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) };
  if (ratio === undefined) return {};
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`telemetry.sampleRatio must be between 0 and 1, got ${ratio}`);
  return { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) };
}

/** Options of the span {@link withSpan} starts. */
export interface SpanOptions {
  /** INTERNAL by default; CLIENT around an outgoing call, PRODUCER around a publish. */
  kind?: SpanKind;
  attributes?: Attributes;
  /** Spans this one follows from without being their child (a consumed message's producer: {@link linkTo}). */
  links?: Link[];
  /**
   * The parent: the active context by default; ROOT_CONTEXT starts a trace
   * of its own (work that only follows from another trace, through `links`).
   */
  parent?: Context;
}

/**
 * Runs `fn` inside a new active span that ends when `fn` settles; an exception
 * is recorded on the span, marks it as an error, and is rethrown.
 */
export async function withSpan<T>(tracer: Tracer, name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, spanOptions(options), options.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** {@link withSpan} for synchronous work (per-node checks, rule evaluation). */
export function withSpanSync<T>(tracer: Tracer, name: string, options: SpanOptions, fn: (span: Span) => T): T {
  return tracer.startActiveSpan(name, spanOptions(options), options.parent ?? context.active(), (span) => {
    try {
      return fn(span);
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

function spanOptions(options: SpanOptions): { kind?: SpanKind; attributes?: Attributes; links?: Link[] } {
  return {
    ...(options.kind !== undefined ? { kind: options.kind } : {}),
    ...(options.attributes ? { attributes: options.attributes } : {}),
    ...(options.links ? { links: options.links } : {}),
  };
}

/**
 * A link to the span a context carries (a message's producer, read with
 * {@link extractTraceContext}); none when it carries no valid span.
 */
export function linkTo(ctx: Context): Link[] {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && isSpanContextValid(spanContext) ? [{ context: spanContext }] : [];
}

function markFailed(span: Span, err: unknown): void {
  span.recordException(err as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
}

/** The trace id of the active span, or "" outside any span. */
export function activeTraceId(): string {
  return trace.getSpan(context.active())?.spanContext().traceId ?? '';
}

/** A header carrier in the shape of NATS message headers (MsgHdrs). */
export interface HeaderCarrier {
  get(key: string): string;
  set(key: string, value: string): void;
  has(key: string): boolean;
  keys(): string[];
}

const headerSetter: TextMapSetter<HeaderCarrier> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
const headerGetter: TextMapGetter<HeaderCarrier> = {
  get: (carrier, key) => (carrier.has(key) ? carrier.get(key) : undefined),
  keys: (carrier) => carrier.keys(),
};

/** Writes the active (or given) trace context into message headers (traceparent, tracestate, baggage). */
export function injectTraceHeaders(headers: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, headerSetter);
}

/** Reads a trace context from message headers; the result parents the consumer's span. */
export function extractTraceContext(headers: HeaderCarrier | undefined, base: Context = context.active()): Context {
  return headers ? propagation.extract(base, headers, headerGetter) : base;
}

/** Request headers as node:http gives them (lower-case names). */
export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

const httpHeaderGetter: TextMapGetter<HttpHeaders> = {
  get: (carrier, key) => carrier[key.toLowerCase()],
  keys: (carrier) => Object.keys(carrier),
};

/** Writes the active (or given) trace context into the headers of an outgoing HTTP request. */
export function injectHttpTraceHeaders(headers: Record<string, string>, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers);
}

/**
 * Reads the caller's W3C trace context (traceparent, tracestate, baggage)
 * from HTTP request headers; an HTTP server's span is parented by it. A
 * request without one yields ROOT_CONTEXT: the server's span starts a trace.
 */
export function httpTraceContext(headers: HttpHeaders): Context {
  return propagation.extract(ROOT_CONTEXT, headers, httpHeaderGetter);
}
