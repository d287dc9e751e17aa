/** What {@link loopbackConfig} needs of a service's config schema (a zod schema fits). */
export interface ConfigSchema<T> {
  parse(input: unknown): T;
}

/**
 * A service's configuration for an in-process test: gRPC and HTTP on free
 * loopback ports, silent logs, a short shutdown grace, and NATS at `natsUrl`
 * with memory storage. `overrides` are merged per top-level key:
 * `loopbackConfig(admissionConfigSchema, nats.url, { features: { hibernation: false } })`.
 */
export function loopbackConfig<T>(schema: ConfigSchema<T>, natsUrl: string, overrides: Record<string, Record<string, unknown>> = {}): T {
  return schema.parse({
    ...overrides,
    grpc: { host: '127.0.0.1', port: 0, ...overrides.grpc },
    http: { host: '127.0.0.1', port: 0, ...overrides.http },
    log: { level: 'silent', ...overrides.log },
    shutdown: { grace: '1s', ...overrides.shutdown },
    nats: { url: natsUrl, memoryStorage: true, ...overrides.nats },
  });
}
