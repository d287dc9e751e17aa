import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { ConsumerInfo, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { isAbortError } from 'abort-controller-x';
import { clusterStream, decodeOrReportInvalid, waitForClusterStream } from './cluster-stream.js';
import type { ReceivedClusterEvent } from './cluster-stream.js';
import { FailedPreconditionError } from './errors.js';
import type { Logger } from './logger.js';

/** Options of {@link consumeDurable}. */
export interface DurableConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
  /** Stream name (default SCHEDMESH_CLUSTER). */
  stream?: string;
  /**
   * The durable name. The consumer is created on first use and delivers the
   * stream from its start; a consumer started again with the same name (after
   * a restart, on another replica) resumes from its ack floor.
   */
  name: string;
  /** Only this subject filter (e.g. clusterKindFilter('pod')); default every object. */
  filterSubject?: string;
  /** How long a delivered event may stay unacknowledged before it is delivered again, in ms (default 30 s). */
  ackWaitMs?: number;
  /** Deliveries of one event before the server gives up on it (default 5; -1 = no limit). */
  maxDeliver?: number;
  /** Events delivered and not yet acknowledged, at most (default 1,000). */
  maxAckPending?: number;
  /** Events pulled per request (default 64). */
  batch?: number;
  /** A message that is not a ClusterEvent; it is terminated either way (logged by default). */
  onInvalid?(msg: JsMsg, err: Error): void;
  /** Stops consuming: the iteration ends (events delivered and not acknowledged come back after ackWaitMs). */
  signal: AbortSignal;
}

/**
 * One event from a durable consumer, with what the consumer must say of it.
 * Exactly one of ack, nak or term settles it; until then it counts against
 * maxAckPending, and after ackWaitMs without one it is delivered again.
 */
export interface DurableClusterEvent extends ReceivedClusterEvent {
  /** How many times this event has been delivered, this time included (1 = first). */
  readonly deliveryCount: number;
  /**
   * Done with it: it is never delivered again. One publish, not a request
   * (no reply, timer or Error per event): an ack the server did not get
   * leaves the event to be delivered again after ackWaitMs, so the consumer
   * must take a redelivered event as the duplicate it may be.
   */
  ack(): void;
  /** Not now: deliver it again after `delayMs` (default: at once), up to maxDeliver deliveries. */
  nak(delayMs?: number): void;
  /**
   * Never: drop it without further deliveries (a poison event). (No reason
   * string is sent: servers before 2.10.4 ignore a TERM that carries one.)
   */
  term(): void;
  /** Still working on it: restarts the ack-wait clock. */
  working(): void;
}

const NANOS_PER_MS = 1_000_000;

/**
 * Consumes the cluster stream with a durable pull consumer (explicit acks):
 * unlike the ordered consumers of the followers, each event is handed out
 * until a consumer acknowledges it, and a restarted consumer picks up where
 * the acknowledgements stopped. The scheduler's pending-pod queue is built on
 * it.
 *
 * Waits for the stream if it does not exist yet. Creates the consumer when it
 * is missing; an existing one keeps its position (its ack wait, max deliver
 * and max ack pending are updated to the options). An existing consumer with
 * another subject filter is a FailedPreconditionError: it would deliver
 * other events than asked for. NATS reconnects are handled by the client; the
 * iteration fails if the stream or the consumer is deleted under it.
 */
export async function* consumeDurable(options: DurableConsumerOptions): AsyncGenerator<DurableClusterEvent, void, undefined> {
  const { js, jsm, logger, signal } = options;
  const stream = options.stream ?? clusterStream.name;
  try {
    await waitForClusterStream(jsm, { stream, logger, signal });
  } catch (err) {
    if (isAbortError(err)) return;
    throw err;
  }
  await ensureDurableConsumer(jsm, stream, options);
  const consumer = await js.consumers.get(stream, options.name);
  const messages = await consumer.consume({ max_messages: options.batch ?? 64, abort_on_missing_resource: true });
  const stop = (): void => {
    void messages.close();
  };
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const msg of messages) {
      const received = decodeOrReportInvalid(msg, options, 'terminating a message that is not a ClusterEvent');
      if (!received) {
        msg.term();
        continue;
      }
      yield {
        ...received,
        deliveryCount: msg.info.deliveryCount,
        ack: () => msg.ack(),
        nak: (delayMs) => msg.nak(delayMs),
        term: () => msg.term(),
        working: () => msg.working(),
      };
    }
  } finally {
    signal.removeEventListener('abort', stop);
    stop();
  }
}

async function ensureDurableConsumer(jsm: JetStreamManager, stream: string, options: DurableConsumerOptions): Promise<ConsumerInfo> {
  const settings = {
    ack_wait: (options.ackWaitMs ?? 30_000) * NANOS_PER_MS,
    max_deliver: options.maxDeliver ?? 5,
    max_ack_pending: options.maxAckPending ?? 1_000,
  };
  let existing: ConsumerInfo | undefined;
  try {
    existing = await jsm.consumers.info(stream, options.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
  }
  if (existing === undefined) {
    return jsm.consumers.add(stream, {
      durable_name: options.name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...(options.filterSubject ? { filter_subject: options.filterSubject } : {}),
      ...settings,
    });
  }
  const filter = existing.config.filter_subject ?? '';
  if (filter !== (options.filterSubject ?? '')) {
    throw new FailedPreconditionError(
      `durable consumer ${options.name} on ${stream} filters ${JSON.stringify(filter)}, not ${JSON.stringify(options.filterSubject ?? '')}: delete it or use another name`,
    );
  }
  const changed = existing.config.ack_wait !== settings.ack_wait || existing.config.max_deliver !== settings.max_deliver || existing.config.max_ack_pending !== settings.max_ack_pending;
  return changed ? jsm.consumers.update(stream, options.name, settings) : existing;
}
