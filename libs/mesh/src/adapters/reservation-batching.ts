/**
 * A reservation client that coalesces: the attempt still calls `reserve`,
 * `unreserve` and `confirm` once per pod, and the calls issued in the same
 * tick (or within `windowMs` of the first; `confirmWindowMs` for Confirm)
 * go out as one ReserveBatch / UnreserveBatch / ConfirmBatch call of at most
 * `maxPods` pods. Each caller gets what its own call would have given: its
 * response, or the ClientError of its entry (same code and message), so the
 * reservation steps need no change. Every other method is the wrapped
 * client's.
 *
 * A batch of one (nothing else came within the window) is the plain Reserve,
 * Unreserve or Confirm call, with the caller's signal and trace context, as without
 * batching. Cancellation: a call whose signal aborts before its batch is sent
 * leaves the batch; once a batch of several is sent, it waits for the
 * answer (a lease it then holds is released by the attempt, as after any
 * failure past Reserve). A reservation
 * service without the batch RPCs (UNIMPLEMENTED) is called one pod at a time
 * from then on (Reserve and Unreserve, and Confirm, each found out on its own:
 * ConfirmBatch came later).
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { ConfirmResponse, ReserveResponse, UnreserveResponse } from '@schedmesh/proto/v1/reservation';
import type { BatchEntryError, ConfirmBatchEntry, ConfirmRequest, DeepPartial, ReserveBatchEntry, ReserveRequest, UnreserveRequest } from '@schedmesh/proto/v1/reservation';
import { ClientError, Status } from 'nice-grpc';
import type { ReservationClient } from '../clients.js';

/** How calls are coalesced. */
export interface ReservationBatching {
  /** Most pods per call (1..256, the service's bound); 1 sends one call per pod, as without batching. */
  readonly maxPods: number;
  /** How long the first Reserve or Unreserve of a batch waits for more, in ms; 0 = only the calls of the same tick. */
  readonly windowMs: number;
  /**
   * The same for Confirm (PostBind): the pod is bound and its lease lives
   * its TTL, so its Confirm can wait longer for company than a Reserve on
   * the bind's path.
   */
  readonly confirmWindowMs: number;
}

/** The defaults: up to 32 pods, gathered for at most 1 ms, and Confirm calls for at most 10 ms. */
export const DEFAULT_RESERVATION_BATCHING: ReservationBatching = { maxPods: 32, windowMs: 1, confirmWindowMs: 10 };

const RESERVE_PATH = '/schedmesh.v1.ReservationService/Reserve';
const CONFIRM_PATH = '/schedmesh.v1.ReservationService/Confirm';
const tracer = trace.getTracer('schedmesh-mesh');

/** The client, with `reserve`, `unreserve` and `confirm` coalesced as the options say (maxPods 1: the client itself). */
export function coalescingReservationClient(client: ReservationClient, options: ReservationBatching): ReservationClient {
  if (options.maxPods <= 1) return client;
  let batched = true;
  let confirmBatched = true;
  const reserveOne = (r: DeepPartial<ReserveRequest>, signal?: AbortSignal): Promise<ReserveResponse> => client.reserve(r, signal ? { signal } : {});
  const unreserveOne = (r: DeepPartial<UnreserveRequest>, signal?: AbortSignal): Promise<UnreserveResponse> => client.unreserve(r, signal ? { signal } : {});
  const reserve = new Coalescer<DeepPartial<ReserveRequest>, ReserveResponse>(options, 'ReserveBatch', (r) => r.pod?.uid ?? '', reserveOne, async (requests) => {
    const reply = batched ? await orSingly(client.reserveBatch({ pods: requests }), () => (batched = false)) : undefined;
    if (reply === undefined) return singly(requests, reserveOne);
    return requests.map((_, i) => fromEntry(reply.pods[i]));
  });
  const unreserve = new Coalescer<DeepPartial<UnreserveRequest>, UnreserveResponse>(options, 'UnreserveBatch', (r) => r.podUid ?? '', unreserveOne, async (requests) => {
    const reply = batched ? await orSingly(client.unreserveBatch({ pods: requests }), () => (batched = false)) : undefined;
    if (reply === undefined) return singly(requests, unreserveOne);
    return requests.map((_, i) => UnreserveResponse.fromPartial({ released: reply.released[i] ?? false }));
  });
  const confirmOne = (r: DeepPartial<ConfirmRequest>, signal?: AbortSignal): Promise<ConfirmResponse> => client.confirm(r, signal ? { signal } : {});
  const confirmWindow = { maxPods: options.maxPods, windowMs: options.confirmWindowMs };
  const confirm = new Coalescer<DeepPartial<ConfirmRequest>, ConfirmResponse>(confirmWindow, 'ConfirmBatch', (r) => r.podUid ?? '', confirmOne, async (requests) => {
    const reply = confirmBatched ? await orSingly(client.confirmBatch({ pods: requests }), () => (confirmBatched = false)) : undefined;
    if (reply === undefined) return singly(requests, confirmOne);
    return requests.map((_, i) => fromConfirmEntry(reply.pods[i]));
  });
  return {
    ...client,
    reserve: (request, callOptions) => reserve.add(request, callOptions?.signal),
    unreserve: (request, callOptions) => unreserve.add(request, callOptions?.signal),
    confirm: (request, callOptions) => confirm.add(request, callOptions?.signal),
  };
}

/** The batch reply, or undefined (after `unsupported()`) when the service has no batch RPCs. */
async function orSingly<T>(call: Promise<T>, unsupported: () => void): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (!(err instanceof ClientError) || err.code !== Status.UNIMPLEMENTED) throw err;
    unsupported();
    return undefined;
  }
}

/** The batch as single calls (a service without the batch RPC): each caller gets its own call's answer or ClientError. */
function singly<Req, Res>(requests: readonly Req[], one: (request: Req) => Promise<Res>): Promise<Array<Res | ClientError>> {
  return Promise.all(
    requests.map((r) =>
      one(r).catch((err: unknown) => {
        if (err instanceof ClientError) return err;
        throw err;
      }),
    ),
  );
}

/** One entry's answer as its own Reserve would have given it: the response, or its error thrown. */
function fromEntry(entry: ReserveBatchEntry | undefined): ReserveResponse | ClientError {
  const result = entry?.result;
  if (result === undefined || result.$case === 'error') return entryFailure(RESERVE_PATH, result?.value);
  return ReserveResponse.fromPartial({ result });
}

/** One entry's answer as its own Confirm would have given it. */
function fromConfirmEntry(entry: ConfirmBatchEntry | undefined): ConfirmResponse | ClientError {
  const result = entry?.result;
  if (result === undefined || result.$case === 'error') return entryFailure(CONFIRM_PATH, result?.value);
  return ConfirmResponse.fromPartial({ lease: result.value });
}

/** The ClientError of an entry's own call: its error as the service gave it, or INTERNAL when it was left unanswered. */
function entryFailure(path: string, error: BatchEntryError | undefined): ClientError {
  if (error === undefined) return new ClientError(path, Status.INTERNAL, 'the reservation service left this pod of the batch unanswered');
  return new ClientError(path, error.code, error.message);
}

/** Why a signal aborted, as an Error (AbortSignal.reason may be any value). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}

interface Pending<Req, Res> {
  readonly request: Req;
  readonly signal: AbortSignal | undefined;
  /** The caller's context: a lone call runs in it, and a batch under its first caller's. */
  readonly context: Context;
  readonly resolve: (value: Res) => void;
  readonly reject: (err: unknown) => void;
  onAbort?: () => void;
}

/**
 * Gathers calls into batches: a batch goes out when it holds `maxPods`
 * calls, or `windowMs` after its first (0: at the end of the tick), or when a
 * call for a pod it already holds arrives (the service refuses a pod twice).
 * A batch of one is the plain call, made as its caller would have made it.
 */
class Coalescer<Req, Res> {
  private pending: Pending<Req, Res>[] = [];
  /** Cancels the scheduled flush of the pending batch, if one is scheduled. */
  private cancelFlush: (() => void) | undefined;

  constructor(
    private readonly options: Pick<ReservationBatching, 'maxPods' | 'windowMs'>,
    private readonly name: string,
    private readonly podOf: (request: Req) => string,
    private readonly one: (request: Req, signal: AbortSignal | undefined) => Promise<Res>,
    private readonly many: (requests: Req[]) => Promise<Array<Res | ClientError>>,
  ) {}

  add(request: Req, signal: AbortSignal | undefined): Promise<Res> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const pod = this.podOf(request);
    if (this.pending.some((p) => this.podOf(p.request) === pod)) this.flush();
    return new Promise<Res>((resolve, reject) => {
      const entry: Pending<Req, Res> = { request, signal, context: context.active(), resolve, reject };
      if (signal) {
        entry.onAbort = () => {
          // Not sent yet: the call leaves the batch. Once sent it waits for the answer.
          const i = this.pending.indexOf(entry);
          if (i < 0) return;
          this.pending.splice(i, 1);
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.pending.push(entry);
      if (this.pending.length >= this.options.maxPods) this.flush();
      else this.cancelFlush ??= this.scheduleFlush();
    });
  }

  private scheduleFlush(): () => void {
    if (this.options.windowMs > 0) {
      const timer = setTimeout(() => this.flush(), this.options.windowMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(() => this.flush());
    return () => clearImmediate(immediate);
  }

  private flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const p of batch) if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (batch.length > 0) void this.run(batch);
  }

  /**
   * One call for the batch. Its span is a child of the first caller's step
   * and links to every other caller's, so each pod's trace leads to the call
   * that reserved it.
   */
  private async run(batch: Pending<Req, Res>[]): Promise<void> {
    const [first] = batch;
    if (batch.length === 1) {
      const { resolve, reject } = first!;
      await context.with(first!.context, () => this.one(first!.request, first!.signal)).then(resolve, reject);
      return;
    }
    const links = batch.slice(1).flatMap((p) => {
      const spanContext = trace.getSpanContext(p.context);
      return spanContext ? [{ context: spanContext }] : [];
    });
    const span = tracer.startSpan(`${this.name} (coalesced)`, { kind: SpanKind.INTERNAL, links, attributes: { 'schedmesh.batch.size': batch.length } }, first!.context);
    try {
      const results = await context.with(trace.setSpan(first!.context, span), () => this.many(batch.map((p) => p.request)));
      batch.forEach((p, i) => {
        const r = results[i];
        if (r instanceof ClientError) p.reject(r);
        else p.resolve(r as Res);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      span.end();
    }
  }
}
