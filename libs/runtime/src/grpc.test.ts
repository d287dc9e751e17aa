import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Client as GrpcClient, credentials } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createChannel, createClient, ClientError, Status } from 'nice-grpc';
import type { Channel } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { ServerReflectionService } from 'nice-grpc-server-reflection';
import { FileDescriptorProto } from 'google-protobuf/google/protobuf/descriptor_pb';
import { ServerReflectionRequest } from 'nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb';
import { AdmissionDecision, AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import type { AdmissionServiceImplementation } from '@schedmesh/proto/v1/admission';
import { makeTestPki } from '@schedmesh/testkit';
import type { TestPki } from '@schedmesh/testkit';
import { InvalidArgumentError, NotFoundError, ResourceExhaustedError } from './errors.js';
import { clientConfigSchema, connectChannel, connectClient, createServiceClient } from './grpc-client.js';
import { createGrpcServer } from './grpc-server.js';
import type { GrpcServer } from './grpc-server.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry, startHttpEndpoints } from './metrics.js';
import { Counter } from 'prom-client';

const logger = createLogger({ service: 'test', level: 'silent' });

async function* once<T>(item: T): AsyncIterable<T> {
  yield item;
}

/** An admission service whose behaviour each test steers through the pod name. */
function admissionImpl(hooks: { slow?: Promise<void>; entered?: () => void } = {}): AdmissionServiceImplementation {
  return {
    async admit(request) {
      const name = request.pod?.name ?? '';
      if (name === '') throw new InvalidArgumentError('pod.name', 'must not be empty');
      if (name === 'boom') throw new TypeError('cannot read properties of undefined');
      if (name === 'full') throw new ResourceExhaustedError('the queue is full (limit 3); retry with backoff');
      if (name === 'slow') {
        hooks.entered?.();
        await hooks.slow;
      }
      return { decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, code: 0, reasonCode: 'Allowed', message: `admitted ${name}`, policies: [] };
    },
    async getAppState(request) {
      throw new NotFoundError('app', `${request.namespace}/${request.app}`);
    },
  };
}

async function startServer(impl: AdmissionServiceImplementation, tls?: Parameters<typeof createGrpcServer>[0]['tls']): Promise<{ server: GrpcServer; address: string }> {
  const server = createGrpcServer({ logger, ...(tls ? { tls } : {}) });
  server.add(AdmissionServiceDefinition, impl);
  const port = await server.listen('127.0.0.1:0');
  server.setServing(true);
  return { server, address: `127.0.0.1:${port}` };
}

describe('gRPC server bootstrap', () => {
  let server: GrpcServer;
  let channel: Channel;
  let address: string;

  beforeAll(async () => {
    ({ server, address } = await startServer(admissionImpl()));
    channel = connectChannel(address);
  });
  afterAll(async () => {
    channel.close();
    await server.shutdown(1000);
  });

  test('a call round-trips through the runtime client', async () => {
    const client = createServiceClient(AdmissionServiceDefinition, channel);
    const reply = await client.admit({ pod: { name: 'web-0', uid: 'u1', namespace: 'default' } });
    expect(reply.decision).toBe(AdmissionDecision.ADMISSION_DECISION_ALLOW);
    expect(reply.message).toBe('admitted web-0');
  });

  test('health reports SERVING for the server and the service, NOT_SERVING after setServing(false)', async () => {
    const health = createClient(HealthDefinition, channel);
    expect((await health.check({ service: '' })).status).toBe(1);
    expect((await health.check({ service: 'schedmesh.v1.AdmissionService' })).status).toBe(1);
    server.setServing(false);
    expect((await health.check({ service: 'schedmesh.v1.AdmissionService' })).status).toBe(2);
    server.setServing(true);
    await expect(health.check({ service: 'schedmesh.v1.Nope' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  });

  test('reflection lists the service (what grpcurl list shows)', async () => {
    const reflection = createClient(ServerReflectionService, channel);
    const request = new ServerReflectionRequest();
    request.setListServices('*');
    const names: string[] = [];
    for await (const response of reflection.serverReflectionInfo(once(request))) {
      for (const s of response.getListServicesResponse()?.getServiceList() ?? []) names.push(s.getName());
    }
    expect(names).toEqual(expect.arrayContaining(['schedmesh.v1.AdmissionService', 'grpc.health.v1.Health']));
  });

  test('reflection describes a service from the generated descriptor set', async () => {
    const reflection = createClient(ServerReflectionService, channel);
    const request = new ServerReflectionRequest();
    request.setFileContainingSymbol('schedmesh.v1.AdmissionService');
    const files: FileDescriptorProto[] = [];
    for await (const response of reflection.serverReflectionInfo(once(request))) {
      for (const bytes of response.getFileDescriptorResponse()?.getFileDescriptorProtoList_asU8() ?? []) {
        files.push(FileDescriptorProto.deserializeBinary(bytes));
      }
    }
    const file = files.find((f) => f.getName() === 'schedmesh/v1/admission.proto');
    expect(file?.getDependencyList()).toContain('schedmesh/v1/types.proto');
    const service = file?.getServiceList().find((s) => s.getName() === 'AdmissionService');
    expect(service?.getMethodList().map((m) => m.getName())).toEqual(['Admit', 'GetAppState']);
  });

  test.each([
    ['', Status.INVALID_ARGUMENT, 'pod.name: must not be empty'],
    ['full', Status.RESOURCE_EXHAUSTED, 'the queue is full (limit 3); retry with backoff'],
    ['boom', Status.INTERNAL, 'internal error in /schedmesh.v1.AdmissionService/Admit: cannot read properties of undefined'],
  ])('pod name %j maps to status %s', async (name, code, details) => {
    const client = createServiceClient(AdmissionServiceDefinition, channel, { retryMaxAttempts: 1 });
    const err = await client.admit({ pod: { name, uid: 'u', namespace: 'd' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe(code);
    expect((err as ClientError).details).toContain(details);
  });

  // Review L4: the generated decoder throws, without the field, on an integer above 2^53; grpc-js answered INTERNAL.
  test.each([
    ['a top-level uint64', (w: BinaryWriter) => w.uint32(10).fork().uint32(26).string('web-0').join().uint32(16).uint64(2n ** 60n), 'min_generation: 1152921504606846976 is beyond ±2^53 − 1 (9007199254740991), the largest integer read exactly'],
    ['a nested int64', (w: BinaryWriter) => w.uint32(10).fork().uint32(26).string('web-0').uint32(122).fork().uint32(8).int64(-(2n ** 62n)).join().join(), 'pod.requests.milli_cpu: -4611686018427387904 is beyond ±2^53 − 1 (9007199254740991), the largest integer read exactly'],
    ['bytes that are not protobuf', (w: BinaryWriter) => w.raw(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f])), 'request: not a valid schedmesh.v1.AdmitRequest message'],
  ])('a request with %s is INVALID_ARGUMENT naming the field, and the handler never sees it', async (_what, write, details) => {
    const raw = new GrpcClient(address, credentials.createInsecure());
    try {
      const answer = await new Promise<{ code: number; details: string }>((resolve) => {
        raw.makeUnaryRequest('/schedmesh.v1.AdmissionService/Admit', (b: Buffer) => b, (b: Buffer) => b, Buffer.from(write(new BinaryWriter()).finish()), (err) =>
          resolve({ code: err?.code ?? Status.OK, details: err?.details ?? '' }),
        );
      });
      expect(answer).toEqual({ code: Status.INVALID_ARGUMENT, details });
    } finally {
      raw.close();
    }
  });

  test('NotFoundError maps to NOT_FOUND', async () => {
    const client = createServiceClient(AdmissionServiceDefinition, channel);
    await expect(client.getAppState({ namespace: 'team-a', app: 'web' })).rejects.toMatchObject({
      code: Status.NOT_FOUND,
      details: 'app "team-a/web" not found',
    });
  });

  test('the client default deadline ends a call that hangs', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const { server: s2, address: a2 } = await startServer(admissionImpl({ slow }));
    const ch = connectChannel(a2);
    try {
      const client = createServiceClient(AdmissionServiceDefinition, ch, { defaultDeadlineMs: 150, retryMaxAttempts: 1 });
      const started = Date.now();
      await expect(client.admit({ pod: { name: 'slow', uid: 'u', namespace: 'd' } })).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      release();
      ch.close();
      await s2.shutdown(500);
    }
  });

  test('/metrics exposes per-method latency histograms and codes', async () => {
    const client = createServiceClient(AdmissionServiceDefinition, channel);
    await client.admit({ pod: { name: 'metrics', uid: 'u', namespace: 'd' } });
    await expect(client.getAppState({ namespace: 'd', app: 'a' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    const http = await startHttpEndpoints({ registry: createMetricsRegistry('test'), port: 0, host: '127.0.0.1', ready: () => false });
    try {
      const text = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
      expect(text).toMatch(/grpc_server_handling_seconds_bucket\{[^}]*grpc_method="Admit"[^}]*grpc_code="OK"/);
      expect(text).toMatch(/grpc_server_handled_total\{[^}]*grpc_method="Admit"[^}]*grpc_code="INVALID_ARGUMENT"[^}]*\} [1-9]/);
      expect(text).toMatch(/grpc_server_started_total\{grpc_type="unary",grpc_service="schedmesh.v1.AdmissionService",grpc_method="Admit",grpc_path="\/schedmesh.v1.AdmissionService\/Admit"[^}]*\} [1-9]/);
      // The client's end: the same labels; GetAppState's NOT_FOUND counted under its code.
      expect(text).toMatch(/grpc_client_handled_total\{[^}]*grpc_method="Admit"[^}]*grpc_code="OK"[^}]*\} [1-9]/);
      expect(text).toMatch(/grpc_client_handled_total\{[^}]*grpc_method="GetAppState"[^}]*grpc_code="NOT_FOUND"[^}]*\} [1-9]/);
      expect(text).toMatch(/grpc_client_handling_seconds_count\{[^}]*grpc_method="Admit"[^}]*grpc_code="OK"[^}]*\} [1-9]/);
      expect(text).toContain('process_cpu_user_seconds_total');
      expect((await fetch(`http://127.0.0.1:${http.port}/readyz`)).status).toBe(503);
      expect((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status).toBe(200);
    } finally {
      await http.close();
    }
  });
});

describe('in-flight limit per method', () => {
  test('a call over the limit is refused RESOURCE_EXHAUSTED at once, other methods and health still served', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = 0;
    const impl: AdmissionServiceImplementation = {
      async admit(request) {
        entered++;
        await gate;
        return { decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, code: 0, reasonCode: 'Allowed', message: `admitted ${request.pod?.name ?? ''}`, policies: [] };
      },
      async getAppState() {
        return { hibernating: false, source: 'ok', wakeHint: '' };
      },
    };
    const registry = createMetricsRegistry('limit-test');
    const refused = new Counter({ name: 'refused', help: 'r', labelNames: ['method'], registers: [registry] });
    const server = createGrpcServer({ logger, maxInFlightPerMethod: 2, refused });
    server.add(AdmissionServiceDefinition, impl);
    const port = await server.listen('127.0.0.1:0');
    server.setServing(true);
    const channel = connectChannel(`127.0.0.1:${port}`);
    const client = createServiceClient(AdmissionServiceDefinition, channel, { retryMaxAttempts: 1, defaultDeadlineMs: 10_000 });
    try {
      const first = client.admit({ pod: { name: 'a', uid: 'u', namespace: 'd' } });
      const second = client.admit({ pod: { name: 'b', uid: 'u', namespace: 'd' } });
      for (let i = 0; entered < 2 && i < 3_000; i++) await new Promise((r) => setTimeout(r, 10));
      expect(entered).toBe(2);
      await expect(client.admit({ pod: { name: 'c', uid: 'u', namespace: 'd' } })).rejects.toMatchObject({
        code: Status.RESOURCE_EXHAUSTED,
        details: '/schedmesh.v1.AdmissionService/Admit: 2 calls already in flight (the server\'s limit per method); retry with backoff',
      });
      await expect(client.getAppState({ namespace: 'd', app: 'x' })).resolves.toMatchObject({ source: 'ok' });
      expect((await createClient(HealthDefinition, channel).check({ service: '' })).status).toBe(1);
      release();
      await expect(Promise.all([first, second])).resolves.toHaveLength(2);
      // The slots are free again.
      await expect(client.admit({ pod: { name: 'd', uid: 'u', namespace: 'd' } })).resolves.toMatchObject({ message: 'admitted d' });
      expect((await refused.get()).values).toEqual([expect.objectContaining({ labels: { method: '/schedmesh.v1.AdmissionService/Admit' }, value: 1 })]);
    } finally {
      channel.close();
      await server.shutdown(500);
    }
  });
});

describe('graceful shutdown', () => {
  test('stops accepting new calls, lets an in-flight call finish, and reports NOT_SERVING', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const { server, address } = await startServer(admissionImpl({ slow, entered }));
    const channel = connectChannel(address);
    const client = createServiceClient(AdmissionServiceDefinition, channel, { retryMaxAttempts: 1 });
    const health = createClient(HealthDefinition, channel);
    const inFlight = client.admit({ pod: { name: 'slow', uid: 'u', namespace: 'd' } });
    await inHandler;
    // A generous grace: the drain must end because the call finished, not because the grace ran out.
    const shutdown = server.shutdown(60_000);
    // The listener closes as shutdown starts: a new connection is refused while the old call drains.
    const fresh = createChannel(address);
    const refused = createServiceClient(AdmissionServiceDefinition, fresh, { retryMaxAttempts: 1, defaultDeadlineMs: 1000 });
    await expect(refused.admit({ pod: { name: 'late', uid: 'u', namespace: 'd' } })).rejects.toBeInstanceOf(ClientError);
    fresh.close();
    release();
    await expect(inFlight).resolves.toMatchObject({ message: 'admitted slow' });
    await shutdown;
    await expect(health.check({ service: '' })).rejects.toBeInstanceOf(ClientError);
    channel.close();
  });

  test('cancels calls that outlive the grace period', async () => {
    const never = new Promise<void>(() => undefined);
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const { server, address } = await startServer(admissionImpl({ slow: never, entered }));
    const channel = connectChannel(address);
    const client = createServiceClient(AdmissionServiceDefinition, channel, { retryMaxAttempts: 1, defaultDeadlineMs: 60_000 });
    const inFlight = client.admit({ pod: { name: 'slow', uid: 'u', namespace: 'd' } }).catch((e: unknown) => e);
    await inHandler;
    // The handler never ends, so a graceful drain never would: shutdown returning at all means the grace ran out and the call was cut.
    await server.shutdown(200);
    // grpc-js closes the connection: the client sees the call cut off (long before its 60 s deadline).
    const err = await inFlight;
    expect(err).toBeInstanceOf(ClientError);
    expect([Status.CANCELLED, Status.UNAVAILABLE]).toContain((err as ClientError).code);
    channel.close();
  });
});

describe('mTLS', () => {
  let pki: TestPki;
  let server: GrpcServer;
  let address: string;

  beforeAll(async () => {
    pki = makeTestPki();
    ({ server, address } = await startServer(admissionImpl(), { certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert }));
  });
  afterAll(async () => {
    await server.shutdown(500);
    pki.remove();
  });
  let channels: Channel[] = [];
  afterEach(() => {
    for (const c of channels) c.close();
    channels = [];
  });
  const call = (tls: Parameters<typeof connectChannel>[1]): Promise<unknown> => {
    const ch = connectChannel(address.replace('127.0.0.1', 'localhost'), tls);
    channels.push(ch);
    return createServiceClient(AdmissionServiceDefinition, ch, { retryMaxAttempts: 1, defaultDeadlineMs: 3000 }).admit({ pod: { name: 'tls', uid: 'u', namespace: 'd' } });
  };

  test('a client with a certificate from the trusted CA is served', async () => {
    await expect(call({ tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey } })).resolves.toMatchObject({ message: 'admitted tls' });
  });

  test('a client without a certificate is refused', async () => {
    await expect(call({ tls: { caFile: pki.caCert } })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
  });

  test('a client with a certificate from another CA is refused', async () => {
    const other = makeTestPki('rogue-ca');
    try {
      await expect(call({ tls: { caFile: pki.caCert, certFile: other.clientCert, keyFile: other.clientKey } })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    } finally {
      other.remove();
    }
  });

  test('a plaintext client is refused', async () => {
    await expect(call({})).rejects.toMatchObject({ code: Status.UNAVAILABLE });
  });

  test('connectClient: a configured client (address, TLS, deadline) is served', async () => {
    const config = clientConfigSchema.parse({ address: address.replace('127.0.0.1', 'localhost'), tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey }, deadline: '3s' });
    expect(config.deadline).toBe(3_000);
    const { client, close } = connectClient(AdmissionServiceDefinition, config, { retryMaxAttempts: 1 });
    try {
      await expect(client.admit({ pod: { name: 'tls', uid: 'u', namespace: 'd' } })).resolves.toMatchObject({ message: 'admitted tls' });
    } finally {
      close();
    }
  });
});

describe('client configuration', () => {
  test('defaults the deadline; refuses a missing address, a half TLS block and an unknown key', () => {
    expect(clientConfigSchema.parse({ address: 'snapshot:50051' })).toEqual({ address: 'snapshot:50051', deadline: 10_000 });
    const paths = (input: unknown) => clientConfigSchema.safeParse(input).error?.issues.map((i) => i.path.join('.'));
    expect(paths({})).toEqual(['address']);
    expect(paths({ address: 'a:1', tls: { certFile: 'c.pem' } })).toEqual(['tls.caFile']);
    expect(paths({ address: 'a:1', timeout: '2s' })).toEqual(['']);
  });

  test('the configured deadline ends a call that hangs', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const { server, address } = await startServer(admissionImpl({ slow }));
    const { client, close } = connectClient(AdmissionServiceDefinition, clientConfigSchema.parse({ address, deadline: '150ms' }), { retryMaxAttempts: 1 });
    try {
      await expect(client.admit({ pod: { name: 'slow', uid: 'u', namespace: 'd' } })).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    } finally {
      release();
      close();
      await server.shutdown(500);
    }
  });
});
