/**
 * Who may call what, by the identity of the caller's client certificate. The
 * table below is the mesh's one authorization policy: every method of every
 * schedmesh service names the callers it admits, and a method missing from it
 * is refused (the test that walks the descriptor set makes adding one
 * without a row fail). Enforced on a server that requires client certificates
 * (mTLS); without them nothing is authenticated, so nothing can be authorized.
 */
import { ServerInterceptingCall, status } from '@grpc/grpc-js';
import type { ServerInterceptingCallInterface, ServerInterceptor } from '@grpc/grpc-js';
import type { Counter } from 'prom-client';
import type { Logger } from './logger.js';

/** What grpc-js knows of a call's connection: its TLS peer certificate. */
type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;

/** The roles a caller can have: a mesh service, an operator (read-only tools, the CLI) or a scheduling client. */
export type CallerRole =
  | 'informer'
  | 'snapshot'
  | 'filterscore'
  | 'reservation'
  | 'admission'
  | 'gateway'
  | 'scheduler'
  | 'extender'
  | 'operator'
  | 'client';

/** Every role, for validating configured identities. */
export const callerRoles: readonly CallerRole[] = [
  'informer',
  'snapshot',
  'filterscore',
  'reservation',
  'admission',
  'gateway',
  'scheduler',
  'extender',
  'operator',
  'client',
];

const schedulers: readonly CallerRole[] = ['scheduler', 'extender'];
const readers: readonly CallerRole[] = [...schedulers, 'operator'];

/** The callers each method admits, by full method path. */
export const methodCallers: Readonly<Record<string, readonly CallerRole[]>> = {
  // Reservation: only the two schedulers change leases. Reading them shows
  // holders and pod names, which no service needs: operators only (review L3).
  '/schedmesh.v1.ReservationService/Reserve': schedulers,
  '/schedmesh.v1.ReservationService/Unreserve': schedulers,
  '/schedmesh.v1.ReservationService/ReserveBatch': schedulers,
  '/schedmesh.v1.ReservationService/UnreserveBatch': schedulers,
  '/schedmesh.v1.ReservationService/Confirm': schedulers,
  '/schedmesh.v1.ReservationService/ConfirmBatch': schedulers,
  '/schedmesh.v1.ReservationService/Renew': schedulers,
  '/schedmesh.v1.ReservationService/Permit': schedulers,
  '/schedmesh.v1.ReservationService/GetReservation': ['operator'],
  '/schedmesh.v1.ReservationService/GetLedger': ['operator'],
  // Admission decides for the schedulers.
  '/schedmesh.v1.AdmissionService/Admit': schedulers,
  '/schedmesh.v1.AdmissionService/GetAppState': readers,
  // Filter/score answers have no side effects, but they reveal the cluster.
  '/schedmesh.v1.FilterScoreService/Evaluate': readers,
  '/schedmesh.v1.FilterScoreService/Filter': readers,
  '/schedmesh.v1.FilterScoreService/Score': readers,
  '/schedmesh.v1.FilterScoreService/FindPreemptionCandidates': readers,
  // The gateway sends pod data to REST plugins: the schedulers and admission's webhooks.
  '/schedmesh.v1.GatewayService/Invoke': [...schedulers, 'admission'],
  '/schedmesh.v1.GatewayService/ListPlugins': [...readers, 'admission'],
  // The snapshot is the cluster's state: its followers and operators.
  '/schedmesh.v1.SnapshotService/GetNode': [...readers, 'filterscore', 'admission'],
  '/schedmesh.v1.SnapshotService/ListNodes': [...readers, 'filterscore', 'admission'],
  '/schedmesh.v1.SnapshotService/GetPod': [...readers, 'filterscore', 'admission'],
  '/schedmesh.v1.SnapshotService/Watch': [...readers, 'filterscore', 'admission'],
  '/schedmesh.v1.SnapshotService/WaitForGeneration': [...readers, 'filterscore', 'admission'],
  '/schedmesh.v1.SnapshotService/GetPoolHealth': [...readers, 'filterscore', 'admission'],
  // The scheduler's API: clients ask for decisions; operators ask why.
  '/schedmesh.v1.SchedulerService/Schedule': ['client', 'operator'],
  '/schedmesh.v1.SchedulerService/GetSchedulingStatus': ['client', 'operator'],
  '/schedmesh.v1.SchedulerService/GetQueueStatus': ['client', 'operator'],
};

/** Methods any authenticated caller may use: health and reflection. */
const openPrefixes = ['/grpc.health.v1.', '/grpc.reflection.'];

/** Options of {@link authorizationInterceptor}. */
export interface AuthorizationOptions {
  readonly logger: Logger;
  /**
   * Certificate identities (subject CN) that hold a role other than their own
   * name, e.g. `{ "alice@example.com": "operator" }`. A CN not listed is its own role.
   */
  readonly identities?: Readonly<Record<string, CallerRole>>;
  /** Counts refusals by method and caller. */
  readonly denied?: Counter;
  /** The policy (default {@link methodCallers}); tests pass their own. */
  readonly policy?: Readonly<Record<string, readonly string[]>>;
}

/** The verdict of {@link authorize}. */
export type AuthorizationDecision =
  | { readonly allowed: true; readonly caller: string }
  | { readonly allowed: false; readonly code: status.UNAUTHENTICATED | status.PERMISSION_DENIED; readonly caller: string; readonly message: string };

/**
 * The certificate identity of a connection: its peer certificate's subject
 * CN, or its first DNS name when it has no CN ("" without a certificate).
 */
export function certificateIdentity(auth: AuthContext): string {
  const cert = auth.sslPeerCertificate;
  if (!cert) return '';
  const cn = cert.subject?.CN;
  const first = typeof cn === 'string' ? cn : Array.isArray(cn) ? String(cn[0] ?? '') : '';
  if (first !== '') return first;
  return /DNS:([^,\s]+)/.exec(cert.subjectaltname ?? '')?.[1] ?? '';
}

/**
 * The role of an identity: what `identities` maps it to; else the role it
 * names, as `scheduler`, `schedmesh-scheduler` or a service DNS name
 * `schedmesh-scheduler.<namespace>.svc…` (the names deploy/ issues
 * certificates for); else the identity itself (which matches no role).
 */
export function callerRole(identity: string, identities?: Readonly<Record<string, CallerRole>>): string {
  const mapped = identities?.[identity];
  if (mapped !== undefined) return mapped;
  const named = /^(?:schedmesh-)?([a-z]+)(?:\..*)?$/.exec(identity)?.[1];
  return named !== undefined && (callerRoles as readonly string[]).includes(named) ? named : identity;
}

/** Decides one call. */
export function authorize(path: string, identity: string, options: Pick<AuthorizationOptions, 'identities' | 'policy'> = {}): AuthorizationDecision {
  if (identity === '') {
    return { allowed: false, code: status.UNAUTHENTICATED, caller: '', message: `${path} needs a client certificate (mTLS)` };
  }
  if (openPrefixes.some((p) => path.startsWith(p))) return { allowed: true, caller: identity };
  const role = callerRole(identity, options.identities);
  const allowed = (options.policy ?? methodCallers)[path];
  if (allowed === undefined) {
    return { allowed: false, code: status.PERMISSION_DENIED, caller: identity, message: `${path} is not in the authorization table; nobody may call it` };
  }
  if (allowed.includes(role)) return { allowed: true, caller: identity };
  const as = role === identity ? '' : ` (role ${role})`;
  return {
    allowed: false,
    code: status.PERMISSION_DENIED,
    caller: identity,
    message: `caller "${identity}"${as} may not call ${path}; it admits ${allowed.join(', ')}`,
  };
}

/**
 * A grpc-js server interceptor that enforces the table before any handler
 * runs: UNAUTHENTICATED without a client certificate, PERMISSION_DENIED for a
 * caller the method does not admit (logged and counted, the handler never
 * sees the request).
 */
export function authorizationInterceptor(options: AuthorizationOptions): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, mdNext) {
            const decision = authorize(method.path, certificateIdentity(call.getAuthContext()), options);
            if (decision.allowed) {
              mdNext(metadata);
              return;
            }
            options.denied?.inc({ method: method.path, caller: decision.caller || '(none)' });
            options.logger.warn({ method: method.path, caller: decision.caller, peer: call.getPeer() }, decision.message);
            call.sendStatus({ code: decision.code, details: decision.message });
          },
        });
      },
    });
}
