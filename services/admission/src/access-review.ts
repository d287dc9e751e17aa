/**
 * Tenant RBAC through Kubernetes SubjectAccessReviews: "may service account
 * X use node pool Y?" is asked of the API server's authorizer (RBAC and any
 * other configured mode), never re-implemented here. Answers are cached with a
 * TTL and a bounded size; concurrent identical questions share one review.
 */
import { Agent, request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubeConfig, V1SubjectAccessReview } from '@kubernetes/client-node';
import { UnavailableError } from '@schedmesh/runtime';

/** The API group of the resources tenant RBAC governs. */
export const RBAC_GROUP = 'schedmesh.io';
/** The verb checked. */
export const RBAC_VERB = 'use';
/** The resource of node pools: `use` on `nodepools.schedmesh.io/<pool>`. */
export const RESOURCE_NODE_POOLS = 'nodepools';
/** The resource of extended resources: `use` on `extendedresources.schedmesh.io/<name>` (e.g. "nvidia.com/gpu"). */
export const RESOURCE_EXTENDED = 'extendedresources';

/** One access question: may `user` (in `groups`) `use` `resource`/`name` in API group schedmesh.io? */
export interface AccessQuestion {
  readonly user: string;
  readonly groups: readonly string[];
  readonly resource: string;
  readonly name: string;
  /** The namespace of the request; RoleBindings in it count. */
  readonly namespace: string;
}

/**
 * Answers access questions. `review` resolves true (allowed) or false
 * (denied); it rejects with AccessReviewUnavailableError when no answer could
 * be had (API unreachable, timeout, an error status), and with the abort
 * reason when `signal` aborts.
 */
export interface AccessReviewer {
  review(question: AccessQuestion, signal: AbortSignal): Promise<boolean>;
}

/** The Kubernetes API could not answer a SubjectAccessReview. */
export class AccessReviewUnavailableError extends UnavailableError {}

/** The user and groups a pod's service account authenticates as. */
export function serviceAccountSubject(namespace: string, serviceAccount: string): { user: string; groups: string[] } {
  const sa = serviceAccount === '' ? 'default' : serviceAccount;
  return {
    user: `system:serviceaccount:${namespace}:${sa}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/** Options of {@link KubernetesAccessReviewer}. */
export interface KubernetesAccessReviewerOptions {
  /** Where the API server is and how to authenticate (the service's own credentials). */
  kubeConfig: KubeConfig;
  /** Budget of one review, in ms. */
  timeoutMs: number;
  /** Called once per review sent to the API server, with its outcome. */
  onReview?: (outcome: 'allowed' | 'denied' | 'error') => void;
}

/**
 * Creates SubjectAccessReviews (authorization.k8s.io/v1) on the API server of
 * a kubeconfig. The service account of admission needs `create` on
 * `subjectaccessreviews` (deploy/base grants it).
 */
export class KubernetesAccessReviewer implements AccessReviewer {
  private agent: Agent | undefined;
  /** The TLS material the agent was made with: a rotated client certificate (or CA) makes a new agent. */
  private agentTls: readonly unknown[] = [];

  constructor(private readonly options: KubernetesAccessReviewerOptions) {}

  async review(question: AccessQuestion, signal: AbortSignal): Promise<boolean> {
    const body: V1SubjectAccessReview = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: question.user,
        groups: [...question.groups],
        resourceAttributes: { namespace: question.namespace, verb: RBAC_VERB, group: RBAC_GROUP, resource: question.resource, name: question.name },
      },
    };
    try {
      const answer = await this.post(JSON.stringify(body), AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]));
      const allowed = answer.status?.allowed === true && answer.status.denied !== true;
      this.options.onReview?.(allowed ? 'allowed' : 'denied');
      return allowed;
    } catch (err) {
      // The caller went away: not a failure of the API server.
      if (signal.aborted) throw signal.reason;
      this.options.onReview?.('error');
      if (err instanceof AccessReviewUnavailableError) throw err;
      const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (err as Error).message;
      throw new AccessReviewUnavailableError(`SubjectAccessReview failed: ${why}`, { cause: err });
    }
  }

  /** Stops reusing connections. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private async post(payload: string, signal: AbortSignal): Promise<V1SubjectAccessReview> {
    const cluster = this.options.kubeConfig.getCurrentCluster();
    if (!cluster) throw new AccessReviewUnavailableError('SubjectAccessReview failed: the kubeconfig has no current cluster');
    // Re-applied per request: token files of in-cluster service accounts rotate.
    const opts: RequestOptions = {};
    await this.options.kubeConfig.applyToHTTPSOptions(opts);
    const tls = [opts.ca, opts.cert, opts.key];
    if (this.agent && !sameTls(tls, this.agentTls)) this.close();
    this.agentTls = tls;
    this.agent ??= new Agent({
      keepAlive: true,
      maxSockets: 16,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
      ...(opts.key !== undefined ? { key: opts.key } : {}),
      ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    });
    const url = new URL('/apis/authorization.k8s.io/v1/subjectaccessreviews', cluster.server);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
    for (const [name, value] of Object.entries(opts.headers ?? {})) if (typeof value === 'string') headers[name] = value;
    return new Promise<V1SubjectAccessReview>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent: this.agent, headers, signal, ...(opts.auth ? { auth: opts.auth } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 201 && res.statusCode !== 200) {
            reject(new AccessReviewUnavailableError(`SubjectAccessReview failed: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            return;
          }
          try {
            resolve(JSON.parse(text) as V1SubjectAccessReview);
          } catch (err) {
            reject(new AccessReviewUnavailableError('SubjectAccessReview failed: the answer is not JSON', { cause: err }));
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** Whether two lists of PEM material (strings, Buffers or arrays of them, as kubeconfig gives them) are the same. */
function sameTls(a: readonly unknown[], b: readonly unknown[]): boolean {
  const text = (v: unknown): string => {
    if (Array.isArray(v)) return v.map(text).join('\n');
    if (Buffer.isBuffer(v)) return v.toString('latin1');
    return typeof v === 'string' ? v : '';
  };
  return a.length === b.length && a.every((v, i) => text(v) === text(b[i]));
}

/** Options of {@link CachedAccessReviewer}. */
export interface AccessCacheOptions {
  /** How long an answer (allowed or denied) is reused, in ms. Failures are never cached. */
  ttlMs: number;
  /** Most answers kept; the least recently used goes first. */
  maxEntries: number;
  /** The clock (tests of expiry use a real one; this is only for the benchmark's steady state). */
  now?: () => number;
  /** Called on each lookup: a cached answer, a review shared with a concurrent caller, or a new review. */
  onLookup?: (result: 'hit' | 'coalesced' | 'miss') => void;
}

/**
 * A TTL + LRU cache in front of an AccessReviewer. Concurrent identical
 * questions share one review, run under the reviewer's own timeout so that one
 * impatient caller cannot fail the others.
 */
export class CachedAccessReviewer implements AccessReviewer {
  private readonly entries = new Map<string, { allowed: boolean; expires: number }>();
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly now: () => number;
  // Shared reviews must not end because one caller left.
  private readonly detached = new AbortController().signal;

  constructor(
    private readonly inner: AccessReviewer,
    private readonly options: AccessCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Answers kept. */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets every answer (RBAC changed and cannot wait for the TTL). */
  clear(): void {
    this.entries.clear();
  }

  async review(question: AccessQuestion, signal: AbortSignal): Promise<boolean> {
    const key = `${question.user}\u0000${question.namespace}\u0000${question.resource}\u0000${question.name}\u0000${question.groups.join(',')}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      if (cached.expires > this.now()) {
        // Re-insert: Map order is the LRU order.
        this.entries.delete(key);
        this.entries.set(key, cached);
        this.options.onLookup?.('hit');
        return cached.allowed;
      }
      this.entries.delete(key);
    }
    let pending = this.inFlight.get(key);
    if (pending) {
      this.options.onLookup?.('coalesced');
    } else {
      this.options.onLookup?.('miss');
      pending = this.inner.review(question, this.detached).then(
        (allowed) => {
          this.inFlight.delete(key);
          this.remember(key, allowed);
          return allowed;
        },
        (err: unknown) => {
          this.inFlight.delete(key);
          throw err;
        },
      );
      // Callers that left must not turn a later failure into an unhandled rejection.
      pending.catch(() => undefined);
      this.inFlight.set(key, pending);
    }
    return raceAbort(pending, signal);
  }

  private remember(key: string, allowed: boolean): void {
    if (this.options.maxEntries <= 0) return;
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { allowed, expires: this.now() + this.options.ttlMs });
  }
}

/** Resolves as `promise` does, or rejects with the abort reason when `signal` aborts first. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(asError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(err));
      },
    );
  });
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
