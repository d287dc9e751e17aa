/**
 * The spans of gRPC calls, in the OpenTelemetry RPC conventions (span name
 * "package.Service/Method", rpc.system / rpc.service / rpc.method, the status
 * as rpc.grpc.status_code): what nice-grpc-opentelemetry records, made to cost
 * nothing beyond the span itself when the span is not recorded (an unsampled
 * trace, or no exporter).
 */
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, TextMapGetter, TextMapSetter, Tracer } from '@opentelemetry/api';
import { Status } from 'nice-grpc-common';
import type { Metadata, MethodDescriptor } from 'nice-grpc-common';

/** The tracer of the calls' spans (their instrumentation scope). */
export const callTracer = (): Tracer => trace.getTracer('@schedmesh/runtime/grpc');

/** W3C trace context in gRPC metadata. */
export const metadataSetter: TextMapSetter<Metadata> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
export const metadataGetter: TextMapGetter<Metadata> = {
  get: (carrier, key) => {
    const value = carrier.get(key);
    return typeof value === 'string' ? value : undefined;
  },
  keys: (carrier) => Array.from(carrier, ([key]) => key),
};

/** What a method's spans share, made once per method. */
export interface MethodSpanShape {
  readonly name: string;
  readonly attributes: Attributes;
}

export function methodSpanShape(method: MethodDescriptor): MethodSpanShape {
  const [service = '', name = ''] = method.path.split('/').slice(1);
  return { name: method.path.slice(1), attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': name } };
}

/** The peer ("ip:port", "[ipv6]:port" or "host:port") as net.peer.* attributes. */
export function peerAttributes(peer: string): Attributes {
  const colon = peer.lastIndexOf(':');
  const port = colon === -1 ? Number.NaN : Number(peer.slice(colon + 1));
  if (Number.isNaN(port)) return { 'net.peer.name': peer };
  const host = peer.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return /^[\d.]+$|:/.test(host) ? { 'net.peer.ip': host, 'net.peer.port': port } : { 'net.peer.name': host, 'net.peer.port': port };
}

/** Ends a call's span with its status; an error status carries `details`. */
export function endCallSpan(span: Span, code: Status, details: string | undefined): void {
  if (span.isRecording()) {
    span.setAttributes({ 'rpc.grpc.status_code': code, 'rpc.grpc.status_text': Status[code] });
    if (code !== Status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: `${Status[code]}: ${details ?? ''}` });
  }
  span.end();
}

/**
 * A stream's messages, each counted and, on a recorded span, marked with a
 * 'message' event (as nice-grpc-opentelemetry marks them).
 */
export async function* countedMessages<T>(messages: AsyncIterable<T>, span: Span, type: 'SENT' | 'RECEIVED', count: () => void): AsyncGenerator<T, void, undefined> {
  let id = 0;
  for await (const message of messages) {
    count();
    if (span.isRecording()) span.addEvent('message', { 'message.type': type, 'message.id': ++id });
    yield message;
  }
}

/** `make` runs on a method's first call; its result is kept for the method's next calls. */
export function perMethod<T>(make: (method: MethodDescriptor) => T): (method: MethodDescriptor) => T {
  const made = new Map<string, T>();
  return (method) => {
    let found = made.get(method.path);
    if (found === undefined) {
      found = make(method);
      made.set(method.path, found);
    }
    return found;
  };
}

/** An async generator whose every step runs in `ctx` (a stream's handler sees its call's span as active). */
export function bindGenerator<T, R>(ctx: Context, generator: AsyncGenerator<T, R, undefined>): AsyncGenerator<T, R, undefined> {
  const bound: AsyncGenerator<T, R, undefined> = {
    next: context.bind(ctx, generator.next.bind(generator)),
    return: context.bind(ctx, generator.return.bind(generator)),
    throw: context.bind(ctx, generator.throw.bind(generator)),
    [Symbol.asyncIterator]: () => bound,
  };
  return bound;
}
