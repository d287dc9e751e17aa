// The mesh on a NATS server that authenticates every connection and limits
// each service to its own subjects, with the users and permissions of
// deploy/nats/auth.conf (the file a deployment includes): the informer writes
// the cluster stream, every other service only reads it, and nobody without
// credentials gets in. Real nats-server, real services, in-process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { clusterKindFilter, connectNatsFrom, consumeDurable, createLogger, natsAuthenticator, natsConfigSchema, publishClusterEvent } from '@schedmesh/runtime';
import type { NatsConfig, ServiceApp } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import { pollUntil, sharedServers, startNats } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';

const AUTH_CONF = resolve(__dirname, '../../deploy/nats/auth.conf');
const SERVICES = ['informer', 'snapshot', 'filterscore', 'reservation', 'admission', 'gateway', 'scheduler', 'extender'] as const;
type Service = (typeof SERVICES)[number];

const logger = createLogger({ service: 'nats-auth-test', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'nats-auth-'));
const password = (s: Service): string => `pw-${s}-${process.pid}`;
const common = { grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };

let nats: TestServer;
const apps: ServiceApp[] = [];
const connections: NatsConnection[] = [];

/** The nats block a service is deployed with: its user and a mounted password file. */
function natsFor(service: Service): NatsConfig {
  const passwordFile = join(dir, `${service}.password`);
  writeFileSync(passwordFile, `${password(service)}\n`);
  return natsConfigSchema.parse({ url: nats.url, user: service, passwordFile });
}

async function connectAs(service: Service): Promise<NatsConnection> {
  const nc = await connectNatsFrom(natsFor(service), `test-${service}`, logger);
  connections.push(nc);
  return nc;
}

async function ready(app: ServiceApp, what: string): Promise<void> {
  await pollUntil(async () => ((await fetch(`http://127.0.0.1:${app.httpPort}/readyz`)).ok ? true : undefined), { what: `${what} ready`, timeoutMs: 30_000 });
}

const fixture = `
apiVersion: v1
kind: Node
metadata: {name: n1, uid: uid-n1, resourceVersion: "1"}
status:
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, uid: uid-web, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  schedulerName: schedmesh
  containers: [{name: app, image: shop/web:1, resources: {requests: {cpu: 500m}}}]
status: {phase: Pending}
`;

beforeAll(async () => {
  nats = await startNats({ configFile: AUTH_CONF, env: Object.fromEntries(SERVICES.map((s) => [`SCHEDMESH_NATS_${s.toUpperCase()}_PASSWORD`, password(s)])) });
});
afterAll(async () => {
  for (const nc of connections) await nc.close();
  for (const app of apps.reverse()) await app.stop();
  await nats.stop();
});

describe('NATS authentication and per-subject permissions (deploy/nats/auth.conf)', () => {
  test('a connection without credentials, or with a wrong password, is refused', async () => {
    await expect(connectNatsFrom(natsConfigSchema.parse({ url: nats.url }), 'anonymous', logger)).rejects.toThrow(/Authorization/i);
    const wrong = join(dir, 'wrong.password');
    writeFileSync(wrong, 'not-the-password');
    await expect(connectNatsFrom(natsConfigSchema.parse({ url: nats.url, user: 'snapshot', passwordFile: wrong }), 'wrong', logger)).rejects.toThrow(/Authorization/i);
    const missing = natsConfigSchema.parse({ url: nats.url, user: 'snapshot', passwordFile: join(dir, 'absent') });
    await expect(connectNatsFrom(missing, 'missing', logger)).rejects.toThrow(/nats\.passwordFile: cannot read .*absent: ENOENT/);
  });

  test('the informer writes the stream under its user; snapshot, filterscore, reservation and admission follow it under theirs', async () => {
    const fixtureFile = join(dir, 'cluster.yaml');
    writeFileSync(fixtureFile, fixture);
    const informer = await startInformerApp(informerConfigSchema.parse({ ...common, nats: natsFor('informer'), source: { fixture: fixtureFile } }), { handleSignals: false });
    apps.push(informer);
    await informer.synced;

    const snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, nats: natsFor('snapshot') }), { handleSignals: false });
    apps.push(snapshot);
    const filterscore = await startFilterScoreApp(
      filterScoreConfigSchema.parse({ ...common, nats: natsFor('filterscore'), snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }),
      { handleSignals: false },
    );
    apps.push(filterscore);
    const reservation: ReservationApp = await startReservation(
      reservationConfigSchema.parse({ ...common, nats: natsFor('reservation'), redis: { url: sharedServers().redisUrl, keyPrefix: `nats-auth-${process.pid}` } }),
      { handleSignals: false },
    );
    apps.push(reservation);
    const admission = await startAdmissionApp(
      admissionConfigSchema.parse({ ...common, nats: { ...natsFor('admission'), lastKnownGoodBucket: 'schedmesh_admission_policies' }, kubernetes: { accessReviews: false } }),
      { handleSignals: false },
    );
    apps.push(admission);

    await ready(snapshot, 'snapshot');
    await ready(filterscore, 'filterscore');
    await ready(reservation, 'reservation');
    await ready(admission, 'admission');
    // The reservation ledger was built from the stream it read under its own user.
    await pollUntil(async () => ((await reservation.ledger.ledger('n1')).exists ? true : undefined), { what: "n1 in the reservation ledger", timeoutMs: 30_000 });
  }, 120_000);

  test("the scheduler's durable consumer works under its user", async () => {
    const nc = await connectAs('scheduler');
    const abort = new AbortController();
    const jsm = await jetstreamManager(nc);
    const name = `auth-test-${process.pid}`;
    const events = consumeDurable({
      js: jetstream(nc),
      jsm,
      logger,
      name,
      filterSubject: clusterKindFilter('pod'),
      signal: abort.signal,
    });
    const first = await events.next();
    expect(first.done).toBe(false);
    const event = first.value!;
    expect(event.event.object?.$case === 'pod' ? event.event.object.value.name : '').toBe('web');
    event.ack();
    // The ack is one unconfirmed publish: the server moving its ack floor past the event is the proof the user may ack.
    await pollUntil(async () => ((await jsm.consumers.info('SCHEDMESH_CLUSTER', name)).ack_floor.stream_seq >= event.event.generation ? true : undefined), { what: 'the ack under the scheduler user', timeoutMs: 10_000 });
    abort.abort();
    await events.return(undefined);
  });

  test('a reader cannot publish on the cluster stream, purge it or delete it', async () => {
    const nc = await connectAs('snapshot');
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info('SCHEDMESH_CLUSTER')).state.messages;
    expect(before).toBeGreaterThanOrEqual(2);
    const forged = ClusterEvent.fromPartial({ type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'node', value: { name: 'n1', resourceVersion: '999' } } });
    await expect(publishClusterEvent(jetstream(nc, { timeout: 2_000 }), forged)).rejects.toThrow();
    await expect(jsm.streams.purge('SCHEDMESH_CLUSTER')).rejects.toThrow();
    await expect(jsm.streams.delete('SCHEDMESH_CLUSTER')).rejects.toThrow();

    const admin = await jetstreamManager(await connectAs('informer'));
    const after = await admin.streams.info('SCHEDMESH_CLUSTER');
    expect(after.state.messages).toBe(before);
    expect((await admin.streams.getMessage('SCHEDMESH_CLUSTER', { last_by_subj: 'schedmesh.cluster.node.n1' }))?.seq).toBeLessThanOrEqual(before);
  });

  test('a password file is read at every connect, so a rotated Secret needs no restart', () => {
    const passwordFile = join(dir, 'rotating.password');
    writeFileSync(passwordFile, 'first\n');
    const auth = natsAuthenticator(natsConfigSchema.parse({ url: nats.url, user: 'scheduler', passwordFile }))!;
    expect(auth()).toEqual({ user: 'scheduler', pass: 'first' });
    writeFileSync(passwordFile, 'second\n');
    expect(auth()).toEqual({ user: 'scheduler', pass: 'second' });
  });
});
