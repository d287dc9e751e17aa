/**
 * What the scheduler and the extender both configure and connect: the mesh
 * services (filterscore required; admission, reservation and the gateway
 * optional) and the Kubernetes API. One config shape, one connection, so the
 * two front ends cannot drift apart.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import { clientConfigSchema, connectClient, duration } from '@schedmesh/runtime';
import type { ClientConfig, Logger } from '@schedmesh/runtime';
import { z } from 'zod';
import { GatewayPlugins } from './adapters/gateway.js';
import { coalescingReservationClient, DEFAULT_RESERVATION_BATCHING } from './adapters/reservation-batching.js';
import type { ReservationBatching } from './adapters/reservation-batching.js';
import type { MeshClients } from './clients.js';

/** The longest reservation batch window: a pod waits at most this long for others to join its call. */
const MAX_BATCH_WINDOW_MS = 50;

/** A batch window: a duration of at most MAX_BATCH_WINDOW_MS. */
function batchWindow() {
  return duration().refine((ms) => ms <= MAX_BATCH_WINDOW_MS, `must be at most ${MAX_BATCH_WINDOW_MS}ms: every pod of a batch waits for it`);
}

/** The mesh services' blocks of a front end's config: `filterscore`, and optional `admission`, `reservation`, `gateway`. */
export const meshServicesConfigShape = {
  filterscore: clientConfigSchema.extend({ address: z.string().min(1).default('127.0.0.1:50052') }).prefault({}),
  admission: clientConfigSchema.optional(),
  reservation: clientConfigSchema
    .extend({
      /** Reserve, Unreserve and Confirm calls gathered into one batch call (see adapters/reservation-batching.ts); maxPods 1 turns it off. */
      batch: z
        .object({
          maxPods: z.number().int().min(1).max(256).default(DEFAULT_RESERVATION_BATCHING.maxPods),
          window: batchWindow().default(DEFAULT_RESERVATION_BATCHING.windowMs),
          /** Confirm's own window: off the bind's path, it can wait longer for company. */
          confirmWindow: batchWindow().default(DEFAULT_RESERVATION_BATCHING.confirmWindowMs),
        })
        .strict()
        .prefault({}),
    })
    .optional(),
  gateway: clientConfigSchema.optional(),
};

/** The `kubernetes` block: where the API is, and the budget of one call (`timeoutMs` the default). */
export function kubernetesConfigSchema(timeoutMs: number) {
  return z
    .object({
      /** A kubeconfig file; absent = in-cluster service account, else ~/.kube/config. */
      kubeconfig: z.string().min(1).optional(),
      /** Budget of one API call. */
      timeout: duration().default(timeoutMs),
    })
    .strict()
    .prefault({});
}

/** The mesh services' resolved blocks. */
export interface MeshServicesConfig {
  readonly filterscore: ClientConfig;
  readonly admission?: ClientConfig | undefined;
  readonly reservation?: (ClientConfig & { readonly batch?: BatchConfig }) | undefined;
  readonly gateway?: ClientConfig | undefined;
}

/** The connected mesh. */
export interface ConnectedMesh {
  readonly clients: MeshClients;
  /** The gateway's REST plugins, when a gateway is configured. */
  readonly gateway?: GatewayPlugins;
  /** Closes every channel. */
  close(): void;
}

/** Connects the configured mesh services; `logger` hears of their TLS certificate reloads. */
export function connectMesh(config: MeshServicesConfig, options: { logger?: Logger } = {}): ConnectedMesh {
  const filterscore = connectClient(FilterScoreServiceDefinition, config.filterscore, options);
  const admission = config.admission ? connectClient(AdmissionServiceDefinition, config.admission, options) : undefined;
  const reservation = config.reservation ? connectClient(ReservationServiceDefinition, config.reservation, options) : undefined;
  const gateway = config.gateway ? connectClient(GatewayServiceDefinition, config.gateway, options) : undefined;
  return {
    clients: {
      filterscore: filterscore.client,
      ...(admission ? { admission: admission.client } : {}),
      ...(reservation ? { reservation: coalescingReservationClient(reservation.client, batchingOf(config.reservation?.batch)) } : {}),
      ...(gateway ? { gateway: gateway.client } : {}),
    },
    ...(gateway ? { gateway: new GatewayPlugins(gateway.client) } : {}),
    close: () => {
      for (const c of [filterscore, admission, reservation, gateway]) c?.close();
    },
  };
}

/** The reservation block's `batch`, resolved (windows in ms). */
interface BatchConfig {
  readonly maxPods: number;
  readonly window: number;
  readonly confirmWindow: number;
}

/** The batching of the reservation block (absent: the defaults). */
function batchingOf(batch: BatchConfig | undefined): ReservationBatching {
  return batch === undefined ? DEFAULT_RESERVATION_BATCHING : { maxPods: batch.maxPods, windowMs: batch.window, confirmWindowMs: batch.confirmWindow };
}

/** A kubeconfig from a file, else the in-cluster service account or ~/.kube/config. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
