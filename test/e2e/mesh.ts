// The whole mesh in-process against a real control plane, as the end-to-end
// tests compose it: informer (watching the API), snapshot, filterscore,
// reservation (real Redis), and — when asked for — the gateway with a plugins
// file and admission, then the scheduler binding pods with schedulerName:
// schedmesh. One NATS stream and Redis prefix per suite (the shared servers
// outlive it).
import { join } from 'node:path';

import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { gatewayConfigSchema, startGatewayService } from '@schedmesh/gateway-service';
import type { GatewayServiceHandle } from '@schedmesh/gateway-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { schedulerConfigSchema, startSchedulerApp } from '@schedmesh/scheduler-service';
import type { SchedulerApp } from '@schedmesh/scheduler-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { kubectl, pollUntil, requireBinary, startControlPlane, testEnvKeys } from '@schedmesh/testkit';
import type { ControlPlane } from '@schedmesh/testkit';
import { meshConfig } from './mesh-config';
import type { AddressOf, MeshService, MeshSetting } from './mesh-config';

const CRD = join(__dirname, '../../deploy/base/crds/admissionpolicy.yaml');

/**
 * A real etcd + kube-apiserver as the mesh expects it: the AdmissionPolicy
 * CRD established (the informer watches policies) and the schedmesh-system
 * namespace (its ConfigMaps), plus `namespaces`. Missing binaries fail with
 * the build command.
 */
export async function startE2eControlPlane(namespaces: readonly string[] = []): Promise<ControlPlane> {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  requireBinary('kubectl');
  const cp = await startControlPlane();
  await kubectl(cp, ['apply', '-f', CRD]);
  await kubectl(cp, ['wait', '--for', 'condition=established', '--timeout=30s', 'crd/admissionpolicies.schedmesh.io']);
  for (const ns of ['schedmesh-system', ...namespaces]) await kubectl(cp, ['create', 'namespace', ns]);
  return cp;
}

/** Options of {@link startE2eMesh}. */
export interface E2eMeshOptions {
  /** Names the suite's stream, consumer and Redis prefix ("sched-e2e"). */
  name: string;
  /** The scheduler is ready once its view holds this many nodes. */
  nodes: number;
  /** The gateway's plugins file; without it, no gateway. */
  pluginsFile?: string;
  /** Start admission (with the control plane's kubeconfig). */
  admission?: boolean;
  /** The scheduler's lease TTL (default its own, 30s). */
  leaseTtl?: string;
}

/** The running services but the scheduler; stop() stops them in reverse order. */
export interface E2eServices {
  readonly informer: InformerApp;
  readonly snapshot: SnapshotApp;
  readonly filterscore: FilterScoreApp;
  readonly reservation: ReservationApp;
  readonly gateway: GatewayServiceHandle | undefined;
  readonly admission: AdmissionApp | undefined;
  /** The prefix of reservation's Redis keys. */
  readonly redisKeyPrefix: string;
  /** A service's configuration as this mesh starts it (the scheduler's, the extender's, another replica's). */
  config(service: MeshService): Record<string, unknown>;
  stop(): Promise<void>;
}

/** The running services with the scheduler. */
export interface E2eMesh extends E2eServices {
  readonly scheduler: SchedulerApp;
}

/** The keys every service of an end-to-end suite shares: loopback on free ports, warn logs, a short grace. */
export const e2eService = { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, shutdown: { grace: '1s' } };

/** A suite's own NATS block: its stream and subjects on the shared server (named after `name` and the process). */
export function e2eNats(name: string): { url: string; stream: string; subjectPrefix: string; memoryStorage: boolean } {
  const id = `${name}-${process.pid}`;
  return { url: process.env[testEnvKeys.natsUrl]!, stream: id.toUpperCase().replace(/-/g, '_'), subjectPrefix: id, memoryStorage: true };
}

/** Starts the services a scheduler or an extender calls, and waits until the snapshot holds every node. */
export async function startE2eServices(cp: ControlPlane, options: E2eMeshOptions): Promise<E2eServices> {
  const setting: MeshSetting = {
    natsUrl: process.env[testEnvKeys.natsUrl]!,
    redisUrl: process.env[testEnvKeys.redisUrl]!,
    kubeconfig: cp.kubeconfigPath,
    runId: `${options.name}-${process.pid}`,
    ...(options.pluginsFile ? { pluginsFile: options.pluginsFile } : {}),
  };
  // In process, every service binds port 0: its callers are configured with the port it got.
  const ports = new Map<MeshService, number>();
  const address: AddressOf = (s) => (ports.has(s) ? `127.0.0.1:${ports.get(s)!}` : undefined);
  const config = (s: MeshService): Record<string, unknown> => meshConfig(s, setting, address);
  const started: Array<{ stop(): Promise<void> }> = [];
  const start = async <T extends { stop(): Promise<void>; readonly grpcPort: number }>(service: MeshService, app: Promise<T>): Promise<T> => {
    const running = await app;
    started.push(running);
    ports.set(service, running.grpcPort);
    return running;
  };
  const stop = async (): Promise<void> => {
    for (const app of started.splice(0).reverse()) await app.stop().catch(() => undefined);
  };
  const inProcess = { handleSignals: false };
  try {
    const informer = await start('informer', startInformerApp(informerConfigSchema.parse(config('informer')), inProcess));
    const snapshot = await start('snapshot', startSnapshotApp(snapshotConfigSchema.parse(config('snapshot')), inProcess));
    // With a nats block, filterscore follows the profiles ConfigMap (schedmesh-system/schedmesh-profiles); so does the scheduler.
    const filterscore = await start('filterscore', startFilterScoreApp(filterScoreConfigSchema.parse(config('filterscore')), inProcess));
    const reservation = await start('reservation', startReservation(reservationConfigSchema.parse(config('reservation')), inProcess));
    const gateway = options.pluginsFile ? await start('gateway', startGatewayService(gatewayConfigSchema.parse(config('gateway')), inProcess)) : undefined;
    const admission = options.admission ? await start('admission', startAdmissionApp(admissionConfigSchema.parse(config('admission')), inProcess)) : undefined;
    await pollUntil(async () => (snapshot.store.state.nodeSize >= options.nodes ? true : undefined), { what: 'snapshot holding every node', timeoutMs: 60_000 });
    const redisKeyPrefix = (config('reservation') as { redis: { keyPrefix: string } }).redis.keyPrefix;
    return { informer, snapshot, filterscore, reservation, gateway, admission, redisKeyPrefix, config, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Starts the mesh and waits until the scheduler's view holds every node. */
export async function startE2eMesh(cp: ControlPlane, options: E2eMeshOptions): Promise<E2eMesh> {
  const services = await startE2eServices(cp, options);
  let scheduler: SchedulerApp | undefined;
  const stop = async (): Promise<void> => {
    await scheduler?.stop().catch(() => undefined);
    await services.stop();
  };
  try {
    const schedulerConfig = services.config('scheduler') as { scheduler: Record<string, unknown> };
    if (options.leaseTtl) schedulerConfig.scheduler = { ...schedulerConfig.scheduler, leaseTtl: options.leaseTtl };
    const app = await startSchedulerApp(schedulerConfigSchema.parse(schedulerConfig), { handleSignals: false });
    scheduler = app;
    await pollUntil(async () => (app.source.gate.synced && app.source.viewNodes() === options.nodes ? true : undefined), { what: 'scheduler view in sync', timeoutMs: 60_000 });
    return { ...services, scheduler: app, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
