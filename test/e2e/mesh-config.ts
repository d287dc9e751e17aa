// Each service's configuration for end-to-end tests, written once: the
// in-process mesh (mesh.ts) and the mesh as processes (mesh-processes.ts)
// both start their services from it.
/** The mesh's services, in start order (each one's dependencies before it). */
export const MESH_SERVICES = ['informer', 'snapshot', 'filterscore', 'reservation', 'gateway', 'admission', 'scheduler', 'extender'] as const;
export type MeshService = (typeof MESH_SERVICES)[number];

/** What every service of one mesh shares. */
export interface MeshSetting {
  readonly natsUrl: string;
  readonly redisUrl: string;
  readonly kubeconfig: string;
  /** Makes the stream, subjects, durable names and Redis keys of this mesh its own (the servers are shared). */
  readonly runId: string;
  /** The gateway's plugins file (the in-process mesh runs the gateway only with one; the processes always run it). */
  readonly pluginsFile?: string;
  /** OTLP/HTTP traces endpoint ("http://127.0.0.1:4318/v1/traces"); no export without it. */
  readonly otlpEndpoint?: string;
  /** Share of the traces each service starts that it exports (telemetry.sampleRatio; default: all). */
  readonly traceSampleRatio?: number;
  /** Log level of every service (default warn). */
  readonly logLevel?: string;
  /** Extra keys of every scheduler replica's `scheduler` block (e.g. a shorter ackWait). */
  readonly scheduler?: Readonly<Record<string, unknown>>;
  /** The cluster stream on disk, so that it outlives a NATS restart (default: in memory). */
  readonly fileStorage?: boolean;
}

/** "host:port" of a service's gRPC server; undefined for a service this mesh does not run (admission, the gateway). */
export type AddressOf = (service: MeshService) => string | undefined;

/**
 * One service's configuration (the object its schema parses, or the YAML
 * its process reads), on port 0 unless the caller sets the ports.
 * `address` names the services it calls; it is asked only for those, so an
 * in-process caller can answer with the ports the services already bound.
 */
export function meshConfig(service: MeshService, setting: MeshSetting, address: AddressOf): Record<string, unknown> {
  const id = setting.runId;
  const nats = { url: setting.natsUrl, stream: `MESH_${id}`, subjectPrefix: `mesh-${id}`, memoryStorage: setting.fileStorage !== true };
  const common = {
    grpc: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: setting.logLevel ?? 'warn' },
    shutdown: { grace: '1s' },
    ...(setting.otlpEndpoint ? { telemetry: { otlpEndpoint: setting.otlpEndpoint, ...(setting.traceSampleRatio !== undefined ? { sampleRatio: setting.traceSampleRatio } : {}) } } : {}),
  };
  const kubernetes = { kubeconfig: setting.kubeconfig };
  const at = (s: MeshService) => {
    const where = address(s);
    if (where === undefined) throw new Error(`meshConfig(${service}): no address for ${s}, which it needs`);
    return { address: where };
  };
  const optional = (s: MeshService) => (address(s) === undefined ? {} : { [s]: at(s) });
  // What the scheduler and the extender both call: an attempt over the mesh (admission and the gateway when they run), and the API for its writes.
  // Asked only for them: a service's address is known once it started.
  const attemptServices = () => ({ filterscore: at('filterscore'), reservation: at('reservation'), ...optional('admission'), ...optional('gateway'), kubernetes });
  switch (service) {
    case 'informer':
      return { ...common, nats, source: { kubeconfig: setting.kubeconfig } };
    case 'snapshot':
      return { ...common, nats };
    case 'filterscore':
      return { ...common, nats, snapshot: at('snapshot') };
    case 'reservation':
      return { ...common, nats, redis: { url: setting.redisUrl, keyPrefix: `mesh-${id}` } };
    case 'gateway':
      // Without a plugins file the gateway serves no plugin until a plugin ConfigMap arrives (the scheduling benchmark runs it so).
      return { ...common, gateway: setting.pluginsFile ? { pluginsFile: setting.pluginsFile } : {} };
    case 'admission':
      return { ...common, nats: { ...nats, lastKnownGoodBucket: `mesh_${id}` }, kubernetes };
    case 'scheduler':
      return { ...common, nats, ...attemptServices(), scheduler: { durableName: `mesh-${id}`, instance: `mesh-${id}-scheduler`, ...setting.scheduler } };
    case 'extender':
      return { ...common, nats, ...attemptServices(), extender: { host: '127.0.0.1', port: 0, pathPrefix: '/schedmesh', instance: `mesh-${id}-extender` } };
  }
}
