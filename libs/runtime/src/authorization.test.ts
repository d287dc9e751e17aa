import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AdmissionDecision, AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import type { AdmissionServiceImplementation } from '@schedmesh/proto/v1/admission';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import { GatewayServiceDefinition } from '@schedmesh/proto/v1/gateway';
import { ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import { SchedulerServiceDefinition } from '@schedmesh/proto/v1/scheduler';
import { SnapshotServiceDefinition } from '@schedmesh/proto/v1/snapshot';
import { makeTestPki } from '@schedmesh/testkit';
import type { TestPki } from '@schedmesh/testkit';
import { createClient, Status } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import { authorize, callerRole, methodCallers } from './authorization.js';
import { connectChannel, createServiceClient } from './grpc-client.js';
import { commonConfigSchema, startService } from './service.js';
import type { ServiceRuntime } from './service.js';

describe('the authorization table', () => {
  const definitions = [
    AdmissionServiceDefinition,
    FilterScoreServiceDefinition,
    GatewayServiceDefinition,
    ReservationServiceDefinition,
    SchedulerServiceDefinition,
    SnapshotServiceDefinition,
  ];
  const paths = definitions.flatMap((d) => Object.values(d.methods as Record<string, { name: string }>).map((m) => `/${d.fullName}/${m.name}`));

  test('names the callers of every method of every schedmesh service, and nothing else', () => {
    expect(paths.length).toBeGreaterThanOrEqual(20);
    expect(paths.filter((p) => methodCallers[p] === undefined)).toEqual([]);
    expect(Object.keys(methodCallers).filter((p) => !paths.includes(p))).toEqual([]);
  });

  test.each([
    ['/schedmesh.v1.ReservationService/Reserve', 'scheduler', true],
    ['/schedmesh.v1.ReservationService/Reserve', 'extender', true],
    ['/schedmesh.v1.ReservationService/Reserve', 'operator', false],
    ['/schedmesh.v1.ReservationService/ReserveBatch', 'scheduler', true],
    ['/schedmesh.v1.ReservationService/UnreserveBatch', 'operator', false],
    ['/schedmesh.v1.ReservationService/Confirm', 'filterscore', false],
    ['/schedmesh.v1.ReservationService/ConfirmBatch', 'extender', true],
    ['/schedmesh.v1.ReservationService/ConfirmBatch', 'operator', false],
    ['/schedmesh.v1.ReservationService/GetLedger', 'operator', true],
    ['/schedmesh.v1.ReservationService/GetLedger', 'scheduler', false],
    ['/schedmesh.v1.ReservationService/GetReservation', 'operator', true],
    ['/schedmesh.v1.ReservationService/GetReservation', 'extender', false],
    ['/schedmesh.v1.SnapshotService/Watch', 'filterscore', true],
    ['/schedmesh.v1.SnapshotService/Watch', 'gateway', false],
    ['/schedmesh.v1.GatewayService/Invoke', 'admission', true],
    ['/schedmesh.v1.GatewayService/Invoke', 'client', false],
    ['/schedmesh.v1.SchedulerService/Schedule', 'client', true],
    ['/grpc.health.v1.Health/Check', 'anyone-with-a-certificate', true],
    ['/schedmesh.v1.ReservationService/Unknown', 'scheduler', false],
  ])('%s by %s: %s', (path, caller, allowed) => {
    expect(authorize(path, caller).allowed).toBe(allowed);
  });

  test.each([
    ['scheduler', 'scheduler'],
    ['schedmesh-scheduler', 'scheduler'],
    ['schedmesh-extender.schedmesh-system.svc', 'extender'],
    ['schedmesh-scheduler-tls', 'schedmesh-scheduler-tls'],
    ['mallory.schedmesh-system.svc', 'mallory.schedmesh-system.svc'],
  ])('the identity %s has the role %s', (identity, role) => {
    expect(callerRole(identity)).toBe(role);
  });

  test('no certificate is UNAUTHENTICATED; a mapped identity takes its role', () => {
    expect(authorize('/grpc.health.v1.Health/Check', '')).toMatchObject({ allowed: false, code: Status.UNAUTHENTICATED });
    expect(authorize('/schedmesh.v1.ReservationService/GetLedger', 'alice@example.com', { identities: { 'alice@example.com': 'operator' } }).allowed).toBe(true);
    expect(authorize('/schedmesh.v1.ReservationService/Reserve', 'alice@example.com', { identities: { 'alice@example.com': 'operator' } })).toMatchObject({
      allowed: false,
      code: Status.PERMISSION_DENIED,
      message: 'caller "alice@example.com" (role operator) may not call /schedmesh.v1.ReservationService/Reserve; it admits scheduler, extender',
    });
  });
});

describe('a service with mTLS authorizes every call by its client certificate', () => {
  let pki: TestPki;
  let runtime: ServiceRuntime;
  let address: string;
  let handled: string[];

  const impl: AdmissionServiceImplementation = {
    async admit(request) {
      handled.push(`admit ${request.pod?.name ?? ''}`);
      return { decision: AdmissionDecision.ADMISSION_DECISION_ALLOW, code: 0, reasonCode: 'Allowed', message: 'ok', policies: [] };
    },
    async getAppState(request) {
      handled.push(`app ${request.app}`);
      return { hibernating: false, source: `test ${request.app}`, wakeHint: '' };
    },
  };

  beforeAll(async () => {
    pki = makeTestPki();
    const config = commonConfigSchema.parse({
      grpc: {
        host: '127.0.0.1',
        port: 0,
        tls: { certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert, identities: { 'alice@example.com': 'operator' } },
      },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
    });
    runtime = startService({ name: 'authz-test', config, handleSignals: false });
    runtime.grpc.add(AdmissionServiceDefinition, impl);
    const { grpcPort } = await runtime.listen();
    runtime.setReady(true);
    address = `localhost:${grpcPort}`;
  });
  afterAll(async () => {
    await runtime.stop();
    pki.remove();
  });

  function clientAs(name: string) {
    const { cert, key } = pki.issue(name);
    const channel = connectChannel(address, { tls: { caFile: pki.caCert, certFile: cert, keyFile: key } });
    return {
      admission: createServiceClient(AdmissionServiceDefinition, channel, { retryMaxAttempts: 1, defaultDeadlineMs: 5_000 }),
      health: createClient(HealthDefinition, channel),
      close: () => channel.close(),
    };
  }

  test('callers the table admits are served; others are refused before the handler runs', async () => {
    handled = [];
    const scheduler = clientAs('scheduler');
    const operator = clientAs('alice@example.com');
    const mallory = clientAs('mallory');
    try {
      await expect(scheduler.admission.admit({ pod: { name: 'p1', uid: 'u1', namespace: 'd' } })).resolves.toMatchObject({ message: 'ok' });
      await expect(operator.admission.getAppState({ namespace: 'd', app: 'web' })).resolves.toMatchObject({ source: 'test web' });
      await expect(operator.admission.admit({ pod: { name: 'p2', uid: 'u2', namespace: 'd' } })).rejects.toMatchObject({
        code: Status.PERMISSION_DENIED,
        details: 'caller "alice@example.com" (role operator) may not call /schedmesh.v1.AdmissionService/Admit; it admits scheduler, extender',
      });
      await expect(mallory.admission.getAppState({ namespace: 'd', app: 'web' })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
      // Health stays open to any authenticated caller (probes, load balancers).
      expect((await mallory.health.check({ service: '' })).status).toBe(1);
      expect(handled).toEqual(['admit p1', 'app web']);

      const metrics = await runtime.metrics.getSingleMetricAsString('grpc_server_denied_calls_total');
      expect(metrics).toMatch(/method="\/schedmesh.v1.AdmissionService\/Admit",caller="alice@example.com"[^}]*} 1/);
      expect(metrics).toMatch(/method="\/schedmesh.v1.AdmissionService\/GetAppState",caller="mallory"[^}]*} 1/);
    } finally {
      scheduler.close();
      operator.close();
      mallory.close();
    }
  });
});
