import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import type { Authenticator, MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { Context } from '@opentelemetry/api';
import type { Logger } from './logger.js';
import { extractTraceContext, injectTraceHeaders } from './telemetry.js';

/** Options of {@link connectNats}. */
export interface NatsOptions {
  /** Server URLs ("nats://127.0.0.1:4222"), comma-separated or a list. */
  servers: string | string[];
  /** Connection name shown by the server (the service name). */
  name: string;
  /** The logger for connection state changes. */
  logger: Logger;
  /** Token authentication. */
  token?: string;
  /** User/password authentication. */
  user?: string;
  /** Password for `user`. */
  pass?: string;
  /** Any other authentication (credentials read at each connect); overrides token and user. */
  authenticator?: Authenticator;
  /** How long the first connection may take, in ms (default 10 s). */
  timeoutMs?: number;
}

/**
 * Connects to NATS and keeps reconnecting forever (the mesh degrades, it does
 * not die, while NATS restarts). State changes are logged; credentials never are.
 */
export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  const servers = typeof options.servers === 'string' ? options.servers.split(',').map((s) => s.trim()) : options.servers;
  const nc = await connect({
    servers,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    timeout: options.timeoutMs ?? 10_000,
    // By default every request (each JetStream publish) builds two Errors up
    // front, stack traces and all, for a failure that almost never comes: a
    // tenth of the informer's CPU. A failure still says what failed.
    noAsyncTraces: true,
    ...(options.authenticator
      ? { authenticator: options.authenticator }
      : { ...(options.token ? { token: options.token } : {}), ...(options.user ? { user: options.user, pass: options.pass ?? '' } : {}) }),
  });
  options.logger.info({ servers: servers.map(redactUrl) }, 'nats connected');
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'ping') continue;
      const level = status.type === 'disconnect' || status.type === 'error' ? 'warn' : 'info';
      options.logger[level]({ nats: status.type, server: 'server' in status ? redactUrl(String(status.server)) : undefined }, 'nats status');
    }
  })().catch((err: unknown) => options.logger.error({ err }, 'nats status loop failed'));
  return nc;
}

/** Options of {@link publishTraced}. */
export interface PublishOptions {
  /** JetStream de-duplication id (Nats-Msg-Id). */
  msgId?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Fail unless the stream's last sequence for the subject is this (optimistic concurrency). */
  expectLastSubjectSequence?: number;
}

/**
 * Publishes to JetStream with the active trace context in the message headers
 * (traceparent/tracestate), so the consumer's spans join the producer's trace.
 */
export async function publishTraced(js: JetStreamClient, subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PubAck> {
  const hdrs = natsHeaders();
  for (const [k, v] of Object.entries(options.headers ?? {})) hdrs.set(k, v);
  injectTraceHeaders(hdrs);
  try {
    return await js.publish(subject, data, {
      headers: hdrs,
      ...(options.msgId ? { msgID: options.msgId } : {}),
      ...(options.expectLastSubjectSequence !== undefined ? { expect: { lastSubjectSequence: options.expectLastSubjectSequence } } : {}),
    });
  } catch (err) {
    if (isTooLarge(err)) throw new MessageTooLargeError(subject, data.length, { cause: err });
    throw err;
  }
}

/**
 * A message the server will never take, however often it is sent: larger
 * than the connection's `max_payload` (checked by the client before sending)
 * or the stream's `max_msg_size`. Publishers must not retry it.
 */
export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';

  constructor(
    readonly subject: string,
    /** The payload's size in bytes (headers not counted). */
    readonly bytes: number,
    options?: { cause?: unknown },
  ) {
    super(`a ${bytes}-byte message on ${subject} exceeds the NATS server's message size limit`, options);
  }
}

/** JetStream's API error code for a message over the stream's max_msg_size. */
const streamMessageTooLarge = 10054;

function isTooLarge(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.message.includes('max_payload')) return true;
  return (err as { code?: unknown }).code === streamMessageTooLarge;
}

/** The trace context a message carries (or the active one if it carries none). */
export function messageTraceContext(hdrs: MsgHdrs | undefined): Context {
  return extractTraceContext(hdrs);
}

/** A JetStream client for a connection. */
export function jetStreamClient(nc: NatsConnection): JetStreamClient {
  return jetstream(nc);
}

/** Removes user info from a URL for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//[redacted]@');
}
