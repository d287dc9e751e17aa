/**
 * Fixture builders and a harness for the service's tests (and the race
 * worker): cluster events, a private cluster stream on a real NATS, and
 * service instances on real Redis and real gRPC over loopback.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import { ClusterEvent, ClusterEventType, PodPhase } from '@schedmesh/proto/v1/types';
import type { Resources } from '@schedmesh/proto/v1/types';
import { connectChannel, createServiceClient, ensureClusterStream, publishClusterEvent } from '@schedmesh/runtime';
import type { MeshCallOptions } from '@schedmesh/runtime';
import type { Channel, Client } from 'nice-grpc';
import { startReservation } from '../app.js';
import type { ReservationApp } from '../app.js';
import { reservationConfigSchema } from '../config.js';
import type { ReservationConfig } from '../config.js';

/** A reservation client with the mesh's middleware. */
export type ReservationClient = Client<typeof ReservationServiceDefinition, MeshCallOptions>;

/** Resources from a short spec: { cpu: 1000, memory: 2 ** 30, pods: 110, gpu: 4 }. */
export interface ResourceSpec {
  cpu?: number;
  memory?: number;
  ephemeralStorage?: number;
  pods?: number;
  /** Extended resources by name ("nvidia.com/gpu"). */
  scalar?: Record<string, number>;
}

/** A proto Resources from a spec. */
export function resources(spec: ResourceSpec = {}): Resources {
  return { milliCpu: spec.cpu ?? 0, memory: spec.memory ?? 0, ephemeralStorage: spec.ephemeralStorage ?? 0, pods: spec.pods ?? 0, scalar: { ...spec.scalar } };
}

/** A node upsert (or delete) event. */
export function nodeEvent(name: string, allocatable: ResourceSpec, options: { deleted?: boolean; resourceVersion?: string } = {}): ClusterEvent {
  return ClusterEvent.fromPartial({
    type: options.deleted ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT,
    object: { $case: 'node', value: { name, uid: `uid-${name}`, allocatable: resources(allocatable), ready: true, resourceVersion: options.resourceVersion ?? '' } },
  });
}

/** What a pod event says. */
export interface PodSpec {
  uid: string;
  namespace?: string;
  name?: string;
  /** spec.nodeName; "" while pending. */
  node?: string;
  requests?: ResourceSpec;
  phase?: PodPhase;
  group?: { name: string; minMember: number };
  deleted?: boolean;
}

/** A pod upsert (or delete) event. */
export function podEvent(spec: PodSpec): ClusterEvent {
  return ClusterEvent.fromPartial({
    type: spec.deleted ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT,
    object: {
      $case: 'pod',
      value: {
        uid: spec.uid,
        namespace: spec.namespace ?? 'default',
        name: spec.name ?? spec.uid,
        nodeName: spec.node ?? '',
        phase: spec.phase ?? (spec.node ? PodPhase.POD_PHASE_RUNNING : PodPhase.POD_PHASE_PENDING),
        requests: resources(spec.requests),
        ...(spec.group ? { podGroup: { name: spec.group.name, minMember: spec.group.minMember, scheduleTimeoutSeconds: 0 } } : {}),
      },
    },
  });
}

let harnessCount = 0;

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  redisUrl: string;
  natsUrl: string;
  /** Service replicas to start (default 1). */
  replicas?: number;
  /** Events published before the services start. */
  events?: readonly ClusterEvent[];
  /** Keep the private stream in memory (default true; false survives a NATS restart). */
  memoryStorage?: boolean;
  /** Overrides of the service configuration (merged per top-level key). */
  config?: {
    redis?: Record<string, unknown>;
    reservation?: Record<string, unknown>;
  };
}

/** Real NATS stream + real Redis + N service replicas on loopback. */
export interface Harness {
  readonly apps: ReservationApp[];
  /** A client per replica (each on its own channel). */
  readonly clients: ReservationClient[];
  readonly config: ReservationConfig;
  readonly streamName: string;
  readonly js: JetStreamClient;
  /** Publishes events to the harness's stream. Resolves with the last generation. */
  publish(...events: ClusterEvent[]): Promise<number>;
  /** Waits until every replica applied a generation. */
  waitForGeneration(generation: number, timeoutMs?: number): Promise<void>;
  /** A new client on a new channel to a replica. */
  newClient(replica?: number): { client: ReservationClient; channel: Channel };
  stop(): Promise<void>;
}

/** Polls until `check` returns true. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a private stream and service replicas; resolves when every replica is ready. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const id = `${process.pid}x${++harnessCount}x${Math.floor(Math.random() * 1e6)}`;
  const streamName = `RSV_${id}`;
  const subjectPrefix = `rsv${id}.cluster`;
  const nc: NatsConnection = await connect({ servers: options.natsUrl });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureClusterStream(jsm, { name: streamName, prefix: subjectPrefix, memory: options.memoryStorage ?? true });
  const publish = async (...events: ClusterEvent[]): Promise<number> => {
    let last = 0;
    for (const e of events) last = (await publishClusterEvent(js, e, subjectPrefix)).seq;
    return last;
  };
  await publish(...(options.events ?? []));
  const config = reservationConfigSchema.parse({
    grpc: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: process.env.SCHEDMESH_TEST_LOG ?? 'silent' },
    shutdown: { grace: 1_000 },
    redis: { url: options.redisUrl, keyPrefix: `t:${id}`, checkInterval: 200, ...options.config?.redis },
    nats: { url: options.natsUrl, stream: streamName, subjectPrefix },
    reservation: { sweepInterval: 100, permitPollInterval: 100, ...options.config?.reservation },
  });
  const apps: ReservationApp[] = [];
  const channels: Channel[] = [];
  const clients: ReservationClient[] = [];
  const newClient = (replica = 0): { client: ReservationClient; channel: Channel } => {
    const channel = connectChannel(`127.0.0.1:${apps[replica]!.grpcPort}`);
    channels.push(channel);
    return { client: createServiceClient(ReservationServiceDefinition, channel, { retryMaxAttempts: 0 }), channel };
  };
  const stop = async (): Promise<void> => {
    for (const c of channels) c.close();
    await Promise.all(apps.map((a) => a.stop()));
    await jsm.streams.delete(streamName).catch(() => false);
    await nc.close();
  };
  try {
    for (let i = 0; i < (options.replicas ?? 1); i++) apps.push(await startReservation(config, { handleSignals: false }));
    for (let i = 0; i < apps.length; i++) clients.push(newClient(i).client);
    await waitFor(() => apps.every((a) => a.sync.ready), 10_000, 'the replicas to be ready');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    apps,
    clients,
    config,
    streamName,
    js,
    publish,
    async waitForGeneration(generation, timeoutMs = 5_000) {
      await waitFor(() => apps.every((a) => a.sync.gate.generation >= generation), timeoutMs, `generation ${generation}`);
    },
    newClient,
    stop,
  };
}
