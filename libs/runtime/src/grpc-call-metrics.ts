/**
 * The grpc_server_* and grpc_client_* metrics of every call, in the names and
 * labels of go-grpc-prometheus (grpc_type, grpc_service, grpc_method,
 * grpc_path, grpc_code), which dashboards for gRPC services expect. The label
 * sets of a method are built once, on its first call, and the metrics' bound
 * children are kept per method and code: a call costs a few increments, not
 * label objects, label validation and timer closures.
 */
import { Counter, exponentialBuckets, Histogram, Registry } from 'prom-client';
import type { MethodDescriptor } from 'nice-grpc-common';
import { Status } from 'nice-grpc-common';
import { perMethod } from './grpc-call-tracing.js';

/** The registry of the call metrics; a service's /metrics serves it beside its own. */
export const grpcCallRegistry = new Registry();

const labelNames = ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_path'] as const;
const labelNamesWithCode = [...labelNames, 'grpc_code'] as const;
/** 1 ms, 4 ms, 16 ms, … about an hour. */
const latencyBuckets = exponentialBuckets(0.001, 4, 12);

/** Which end of a call: the metric names' prefix. */
export type CallSide = 'server' | 'client';

interface SideMetrics {
  readonly started: Counter<string>;
  readonly handled: Counter<string>;
  readonly seconds: Histogram<string>;
  readonly received: Counter<string>;
  readonly sent: Counter<string>;
}

function sideMetrics(side: CallSide): SideMetrics {
  const registers = [grpcCallRegistry];
  const who = side === 'server' ? 'the server' : 'the client';
  return {
    started: new Counter({ name: `grpc_${side}_started_total`, help: `Total number of RPCs started on ${who}.`, labelNames, registers }),
    handled: new Counter({ name: `grpc_${side}_handled_total`, help: `Total number of RPCs completed on ${who}, regardless of success or failure.`, labelNames: labelNamesWithCode, registers }),
    seconds: new Histogram({
      name: `grpc_${side}_handling_seconds`,
      help: side === 'server' ? 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.' : 'Histogram of response latency (seconds) of the gRPC until it is finished by the application.',
      labelNames: labelNamesWithCode,
      buckets: latencyBuckets,
      registers,
    }),
    received: new Counter({ name: `grpc_${side}_msg_received_total`, help: `Total number of RPC stream messages received by ${who}.`, labelNames, registers }),
    sent: new Counter({ name: `grpc_${side}_msg_sent_total`, help: `Total number of RPC stream messages sent by ${who}.`, labelNames, registers }),
  };
}

/** The metrics of one method at one end, bound to its labels. */
export interface MethodMetrics {
  /** A call began. */
  started(): void;
  /** A call ended with `code` after `seconds`. */
  handled(code: Status, seconds: number): void;
  /** A stream message arrived. */
  readonly received: () => void;
  /** A stream message left. */
  readonly sent: () => void;
}

function callType(method: MethodDescriptor): string {
  if (method.requestStream) return method.responseStream ? 'bidi_stream' : 'client_stream';
  return method.responseStream ? 'server_stream' : 'unary';
}

function methodMetrics(metrics: SideMetrics, method: MethodDescriptor): MethodMetrics {
  const [service = '', name = ''] = method.path.split('/').slice(1);
  const labels = { grpc_type: callType(method), grpc_service: service, grpc_method: name, grpc_path: method.path };
  const started = metrics.started.labels(labels);
  const received = metrics.received.labels(labels);
  const sent = metrics.sent.labels(labels);
  const byCode = new Map<Status, { handled: Counter.Internal; seconds: Histogram.Internal<string> }>();
  const ofCode = (code: Status) => {
    let children = byCode.get(code);
    if (children === undefined) {
      const withCode = { ...labels, grpc_code: Status[code] ?? String(code) };
      children = { handled: metrics.handled.labels(withCode), seconds: metrics.seconds.labels(withCode) };
      byCode.set(code, children);
    }
    return children;
  };
  return {
    started: () => started.inc(),
    handled(code, seconds) {
      const children = ofCode(code);
      children.seconds.observe(seconds);
      children.handled.inc();
    },
    received: () => received.inc(),
    sent: () => sent.inc(),
  };
}

const sides: Record<CallSide, SideMetrics | undefined> = { server: undefined, client: undefined };

/**
 * The metrics of `method` at one end of its calls; made on the first call of
 * the method and kept (a process serves and calls a fixed set of methods).
 */
export function callMetricsOf(side: CallSide): (method: MethodDescriptor) => MethodMetrics {
  const metrics = (sides[side] ??= sideMetrics(side));
  return perMethod((method) => methodMetrics(metrics, method));
}
