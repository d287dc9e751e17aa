/**
 * The Kubernetes ValidatingAdmissionWebhook: the API server asks it about
 * every pod create and update (ephemeral containers included), so host-path
 * and tenant rules hold for pods that never reach a scheduler (spec.nodeName
 * set, another schedulerName, a container added for debugging). The verdict
 * is the Admitter's at the `creation` moment; the scheduler's own check at
 * PreFilter stays as early feedback.
 *
 * Speaks admission.k8s.io/v1 AdmissionReview over HTTPS (the API server
 * calls webhooks over TLS only). Answers 503 while the policies are not in
 * sync with the cluster stream: the webhook configuration's failurePolicy
 * then decides (Fail in deploy/: a pod is not created on an unknown policy).
 */
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { convertPod, EdgeError } from '@schedmesh/model';
import type { Pod } from '@schedmesh/proto/v1/types';
import type { Logger } from '@schedmesh/runtime';
import type { Counter } from 'prom-client';
import type { Admitter } from './admission.js';
import type { PolicyStore } from './policy-store.js';

/** Options of {@link startValidatingWebhook}. */
export interface ValidatingWebhookOptions {
  readonly admitter: Admitter;
  readonly store: PolicyStore;
  readonly logger: Logger;
  readonly host: string;
  readonly port: number;
  /** PEM certificate chain and key the API server verifies (its caBundle signs them). */
  readonly certFile: string;
  readonly keyFile: string;
  /** Largest AdmissionReview accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Budget of one decision (keep it under the webhook configuration's timeoutSeconds). */
  readonly timeoutMs: number;
  /** The node label holding the node pool: a pod bound by spec.nodeName is pinned to its node's pool. */
  readonly poolLabel: string;
  /** The pool of a node, for pods that name one; undefined when the node or its label is unknown. */
  readonly nodePool?: (node: string, signal: AbortSignal) => Promise<string | undefined>;
  /** Reviews answered, by verdict (allowed, denied, invalid, unavailable). */
  readonly reviews?: Counter;
}

/** A running webhook server. */
export interface ValidatingWebhook {
  readonly port: number;
  close(): Promise<void>;
}

/** The path the webhook configuration's clientConfig names. */
export const VALIDATE_PODS_PATH = '/validate-pods';

interface ReviewRequest {
  uid: string;
  kind?: { kind?: string };
  resource?: { resource?: string };
  subResource?: string;
  operation?: string;
  namespace?: string;
  object?: unknown;
}

type Answer = { readonly status: number; readonly body: unknown };

/** Starts the HTTPS server. */
export async function startValidatingWebhook(options: ValidatingWebhookOptions): Promise<ValidatingWebhook> {
  const server: Server = createServer({ cert: readFileSync(options.certFile), key: readFileSync(options.keyFile) }, (req, res) => {
    void handle(options, req, res);
  });
  server.requestTimeout = options.timeoutMs + 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port, path: VALIDATE_PODS_PATH }, 'validating admission webhook listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(options: ValidatingWebhookOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let answer: Answer;
  try {
    answer = await answerRequest(options, req);
  } catch (err) {
    options.logger.error({ err }, 'validating webhook failed unexpectedly');
    answer = { status: 500, body: { error: `internal error: ${(err as Error).message}` } };
  }
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function answerRequest(options: ValidatingWebhookOptions, req: IncomingMessage): Promise<Answer> {
  if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== VALIDATE_PODS_PATH) {
    return { status: 404, body: { error: `POST an AdmissionReview to ${VALIDATE_PODS_PATH}` } };
  }
  const raw = await readBody(req, options.maxBodyBytes);
  if (raw === undefined) {
    options.reviews?.inc({ verdict: 'invalid' });
    return { status: 413, body: { error: `the AdmissionReview is larger than ${options.maxBodyBytes} bytes` } };
  }
  let review: { apiVersion?: unknown; kind?: unknown; request?: ReviewRequest };
  try {
    review = JSON.parse(raw) as typeof review;
  } catch (err) {
    options.reviews?.inc({ verdict: 'invalid' });
    return { status: 400, body: { error: `the body is not JSON: ${(err as Error).message}` } };
  }
  const request = review?.request;
  if (review?.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1' || typeof request?.uid !== 'string' || request.uid === '') {
    options.reviews?.inc({ verdict: 'invalid' });
    return { status: 400, body: { error: 'expected an admission.k8s.io/v1 AdmissionReview with request.uid' } };
  }
  const respond = (allowed: boolean, message = '', code = 403): Answer => ({
    status: 200,
    body: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: request.uid, allowed, ...(allowed ? {} : { status: { code, reason: code === 403 ? 'Forbidden' : 'BadRequest', message } }) },
    },
  });

  if (request.kind?.kind !== 'Pod' || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) {
    options.reviews?.inc({ verdict: 'allowed' });
    return respond(true);
  }
  if (!options.store.gate.synced) {
    options.reviews?.inc({ verdict: 'unavailable' });
    return { status: 503, body: { error: 'the admission policies are not in sync with the cluster stream yet; retry shortly' } };
  }

  let pod: Pod;
  try {
    pod = convertPod(withNamespace(request.object, request.namespace));
  } catch (err) {
    options.reviews?.inc({ verdict: 'denied' });
    const why = err instanceof EdgeError ? `${err.field}: ${err.reason}` : (err as Error).message;
    return respond(false, `schedmesh cannot read this pod (${why}), so it cannot check its host paths and tenant rules`, 400);
  }

  const signal = AbortSignal.timeout(options.timeoutMs);
  if (pod.nodeName !== '' && options.nodePool && pod.nodeSelector[options.poolLabel] === undefined) {
    // Naming the node pins the pod to that node's pool, as a nodeSelector on the pool label would.
    const pool = await options.nodePool(pod.nodeName, signal).catch(() => undefined);
    if (pool !== undefined) pod = { ...pod, nodeSelector: { ...pod.nodeSelector, [options.poolLabel]: pool } };
  }
  const decision = await options.admitter.admit(pod, signal, 'creation');
  const what = `${request.operation === 'CREATE' ? 'create' : 'update'}${request.subResource ? ` (${request.subResource})` : ''} of pod ${pod.namespace}/${pod.name}`;
  if (decision.allowed) {
    options.reviews?.inc({ verdict: 'allowed' });
    return respond(true);
  }
  options.reviews?.inc({ verdict: 'denied' });
  options.logger.info({ pod: `${pod.namespace}/${pod.name}`, operation: request.operation, subResource: request.subResource, reason: decision.reasonCode }, 'validating webhook denied a pod');
  return respond(false, `schedmesh AdmissionPolicy denied the ${what}: ${decision.reasonCode}: ${decision.message}`);
}

/** A pod in a create request may carry no namespace of its own; the request names it. */
function withNamespace(obj: unknown, namespace: string | undefined): unknown {
  if (obj === null || typeof obj !== 'object' || namespace === undefined) return obj;
  const meta = (obj as { metadata?: Record<string, unknown> }).metadata ?? {};
  // A pod created with generateName has no name yet: report it by its prefix.
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : `${typeof meta.generateName === 'string' && meta.generateName !== '' ? meta.generateName : 'pod-'}generated`;
  const uid = typeof meta.uid === 'string' && meta.uid !== '' ? meta.uid : 'pending-creation';
  return { ...obj, metadata: { ...meta, namespace: typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : namespace, name, uid } };
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Past the limit the rest is read and dropped, so the client still gets its 413.
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks).toString('utf8');
}
