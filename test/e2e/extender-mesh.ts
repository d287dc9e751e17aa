// The mesh the extender's end-to-end tests run against, on a real control
// plane: informer → NATS → snapshot → filterscore, reservation on real Redis,
// admission, the extender (and, when asked, a schedmesh scheduler replica),
// each in-process on loopback ports. The tests add kube-scheduler themselves.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';

import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { extenderConfigSchema, startExtenderApp } from '@schedmesh/extender-service';
import type { ExtenderApp } from '@schedmesh/extender-service';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { schedulerConfigSchema, startSchedulerApp } from '@schedmesh/scheduler-service';
import type { SchedulerApp } from '@schedmesh/scheduler-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { pollUntil, requireBinary, startControlPlane, testEnvKeys, kubectl } from '@schedmesh/testkit';
import type { ClusterBinary, ControlPlane } from '@schedmesh/testkit';

/** The AdmissionPolicy CRD, applied before admission starts. */
export const ADMISSION_POLICY_CRD = join(__dirname, '../../deploy/base/crds/admissionpolicy.yaml');

/** Options of {@link startExtenderMesh}. */
export interface ExtenderMeshOptions {
  /** Names the stream, Redis keys and durable consumer, so files never share them. */
  readonly tag: string;
  /** Nodes the replicas must hold before the mesh counts as started. */
  readonly nodes: number;
  /** Extra keys of the extender's `extender` block (`tls: { certFile, keyFile }` serves HTTPS). */
  readonly extender?: Readonly<Record<string, unknown>>;
  /** With HTTPS: the CA file that signed the extender's certificate, which `post` trusts. */
  readonly caFile?: string;
  /** Also run a schedmesh scheduler replica (schedulerName: schedmesh). */
  readonly scheduler?: boolean;
}

/** A running mesh with the extender. */
export interface ExtenderMesh {
  readonly informer: InformerApp;
  readonly snapshot: SnapshotApp;
  readonly filterscore: FilterScoreApp;
  readonly reservation: ReservationApp;
  readonly admission: AdmissionApp;
  /** The extender now serving (replaced by {@link restartExtender}). */
  readonly extender: ExtenderApp;
  readonly scheduler: SchedulerApp | undefined;
  /** The prefix of reservation's Redis keys. */
  readonly redisKeyPrefix: string;
  /** The urlPrefix kube-scheduler is configured with (the same across restarts). */
  readonly urlPrefix: string;
  /** POSTs a body to a verb; `body` is sent as is when a string. */
  post(verb: string, body: unknown): Promise<{ status: number; body: unknown }>;
  /** How many requests of a verb the current extender answered with this HTTP code. */
  requests(verb: string, code?: number): Promise<number>;
  /** Stops the extender (an outage). */
  stopExtender(): Promise<void>;
  /** Starts the extender again on the same port (the end of the outage), with `extender` keys over the mesh's own. */
  restartExtender(extender?: Readonly<Record<string, unknown>>): Promise<void>;
  stop(): Promise<void>;
}

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, shutdown: { grace: '1s' } };
const grpc = { host: '127.0.0.1', port: 0 };

/** Starts the mesh and the extender against `cp`; resolves once the extender's replica holds `nodes` nodes. */
export async function startExtenderMesh(cp: ControlPlane, options: ExtenderMeshOptions): Promise<ExtenderMesh> {
  const tag = `${options.tag}-${process.pid}`;
  const nats = () => ({ url: process.env[testEnvKeys.natsUrl]!, stream: tag.replace(/-/g, '_').toUpperCase(), subjectPrefix: tag, memoryStorage: true });
  const kubeconfig = cp.kubeconfigPath;
  await kubectl(cp, ['apply', '-f', ADMISSION_POLICY_CRD]);
  await kubectl(cp, ['wait', '--for', 'condition=established', '--timeout=30s', 'crd/admissionpolicies.schedmesh.io']);

  const started: { stop(): Promise<void> }[] = [];
  const keep = <T extends { stop(): Promise<void> }>(app: T): T => {
    started.push(app);
    return app;
  };
  const informer = keep(await startInformerApp(informerConfigSchema.parse({ ...common, grpc, nats: nats(), source: { kubeconfig } }), { handleSignals: false }));
  const snapshot = keep(await startSnapshotApp(snapshotConfigSchema.parse({ ...common, grpc, nats: nats() }), { handleSignals: false }));
  const filterscore = keep(await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc, snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }), { handleSignals: false }));
  const reservation = keep(
    await startReservation(reservationConfigSchema.parse({ ...common, grpc, nats: nats(), redis: { url: process.env[testEnvKeys.redisUrl]!, keyPrefix: tag } }), { handleSignals: false }),
  );
  const admission = keep(
    await startAdmissionApp(admissionConfigSchema.parse({ ...common, grpc, nats: { ...nats(), lastKnownGoodBucket: tag.replace(/-/g, '_') }, kubernetes: { kubeconfig } }), {
      handleSignals: false,
    }),
  );
  const services = {
    filterscore: { address: `127.0.0.1:${filterscore.grpcPort}` },
    reservation: { address: `127.0.0.1:${reservation.grpcPort}` },
    admission: { address: `127.0.0.1:${admission.grpcPort}` },
  };
  let port = 0;
  const startExtender = async (overrides: Readonly<Record<string, unknown>> = {}): Promise<ExtenderApp> => {
    const app = await startExtenderApp(
      extenderConfigSchema.parse({
        ...common,
        grpc,
        nats: nats(),
        ...services,
        kubernetes: { kubeconfig },
        extender: { host: '127.0.0.1', port, pathPrefix: '/schedmesh', instance: `${options.tag}-extender`, ...options.extender, ...overrides },
      }),
      { handleSignals: false },
    );
    port = app.server.port;
    await pollUntil(async () => (app.gate?.synced && app.view.size >= options.nodes ? true : undefined), { what: 'extender view in sync', timeoutMs: 60_000 });
    return app;
  };
  let extender: ExtenderApp | undefined = await startExtender();
  const scheduler = options.scheduler
    ? keep(
        await startSchedulerApp(
          schedulerConfigSchema.parse({ ...common, grpc, nats: nats(), ...services, kubernetes: { kubeconfig }, scheduler: { durableName: tag, instance: `${options.tag}-replica` } }),
          { handleSignals: false },
        ),
      )
    : undefined;
  if (scheduler) await pollUntil(async () => (scheduler.source.gate.synced && scheduler.source.viewNodes() >= options.nodes ? true : undefined), { what: 'scheduler view in sync', timeoutMs: 60_000 });
  const urlPrefix = extender.server.urlPrefix;
  const current = (): ExtenderApp => {
    if (!extender) throw new Error('the extender is stopped');
    return extender;
  };

  return {
    informer,
    snapshot,
    filterscore,
    reservation,
    admission,
    get extender() {
      return current();
    },
    scheduler,
    redisKeyPrefix: tag,
    urlPrefix,
    post: (verb, body) =>
      new Promise((resolve, reject) => {
        const https = urlPrefix.startsWith('https:');
        const request = https ? httpsRequest : httpRequest;
        const tls = https && options.caFile ? { ca: readFileSync(options.caFile) } : {};
        const req = request(`${urlPrefix}/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...tls }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as unknown }));
        });
        req.on('error', reject);
        req.end(typeof body === 'string' ? body : JSON.stringify(body));
      }),
    requests: async (verb, code = 200) => {
      const metric = await current().runtime.metrics.getSingleMetric('schedmesh_extender_requests_total')?.get();
      return (metric?.values ?? []).filter((v) => v.labels.verb === verb && v.labels.code === String(code)).reduce((a, v) => a + v.value, 0);
    },
    stopExtender: async () => {
      await extender?.stop();
      extender = undefined;
    },
    restartExtender: async (overrides) => {
      extender = await startExtender(overrides);
    },
    stop: async () => {
      await extender?.stop().catch(() => undefined);
      for (const app of started.reverse()) await app.stop().catch(() => undefined);
    },
  };
}

/** Checks the cluster binaries the extender's end-to-end tests use, then starts etcd and kube-apiserver. */
export async function startExtenderControlPlane(options: { readonly kubeScheduler: boolean }): Promise<ControlPlane> {
  const bins: ClusterBinary[] = ['etcd', 'kube-apiserver', 'kubectl', ...(options.kubeScheduler ? (['kube-scheduler'] as const) : [])];
  for (const bin of bins) requireBinary(bin);
  return startControlPlane();
}
