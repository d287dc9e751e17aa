// The one scheduling attempt (libs/mesh SchedulingAttempt) over the real
// services, without an API server: snapshot, filterscore, reservation (real
// Redis) and admission in-process over real NATS and gRPC. Modes dryRun and
// reserve stop before any Kubernetes write, so every outcome here is read
// from the services themselves: leases through GetLedger/GetReservation.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { admissionConfigSchema, startAdmissionApp } from '@schedmesh/admission-service';
import type { AdmissionApp } from '@schedmesh/admission-service';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { POD_GROUP_PLUGIN, SchedulingAttempt } from '@schedmesh/mesh';
import type { AttemptRequest, MeshClients, PodWriter } from '@schedmesh/mesh';
import { PodGroupIndex } from '@schedmesh/model';
import { AdmissionServiceDefinition } from '@schedmesh/proto/v1/admission';
import { FilterScoreServiceDefinition } from '@schedmesh/proto/v1/filterscore';
import { LeaseState, ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import { ClusterEvent as ClusterEventMessage, ClusterEventType, ExtensionPoint } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Pod } from '@schedmesh/proto/v1/types';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { connectChannel, createLogger, createServiceClient, ensureClusterStreamFrom, publishClusterEvent } from '@schedmesh/runtime';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { clusterEvent, makeNode, makePod, namespaceEvent, policyEvent, pollUntil, startNats, startRedis } from '@schedmesh/testkit';
import type { TestServer } from '@schedmesh/testkit';
import type { Channel } from 'nice-grpc';

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, shutdown: { grace: '1s' } };
const grpc = { host: '127.0.0.1', port: 0 };

let nats: TestServer;
let redis: TestServer;
let nc: NatsConnection;
let js: JetStreamClient;
let snapshot: SnapshotApp;
let filterscore: FilterScoreApp;
let reservation: ReservationApp;
let admission: AdmissionApp;
const channels: Channel[] = [];
let clients: MeshClients;
let attempt: SchedulingAttempt;
let generation = 0;

async function publish(...events: ClusterEvent[]): Promise<number> {
  for (const e of events) generation = (await publishClusterEvent(js, e)).seq;
  return generation;
}

function client<D extends Parameters<typeof createServiceClient>[0]>(def: D, port: number) {
  const ch = connectChannel(`127.0.0.1:${port}`);
  channels.push(ch);
  return createServiceClient(def, ch, { defaultDeadlineMs: 5_000 });
}

const run = (pod: Pod, over: Partial<AttemptRequest> = {}) =>
  attempt.run({ pod, profile: '', minGeneration: generation, mode: 'reserve', signal: AbortSignal.timeout(15_000), ...over });

/** Attempts that bind through `writer`: a stand-in for the API server (none runs in this file). */
const binding = (writer: PodWriter, over: Partial<MeshClients> = {}) =>
  new SchedulingAttempt({
    clients: { ...clients, ...over },
    nodes: () => undefined,
    tracer: trace.getTracer('attempt-test'),
    logger: createLogger({ service: 'attempt-test', level: 'silent' }),
    reservation: { ttlMs: 60_000, holder: 'attempt-test' },
    writer,
  });

const pod = (name: string, cpu = '1', ns = 'shop'): Pod => makePod(name, ns).uid(`uid-${ns}-${name}`).requests(cpu, '1Gi').build();

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  nc = await connect({ servers: nats.url });
  js = jetstream(nc);
  const natsBlock = { url: nats.url };
  await ensureClusterStreamFrom(natsConfigOf(natsBlock));
  await publish(
    namespaceEvent('shop'),
    namespaceEvent('frozen'),
    clusterEvent(makeNode('a').capacity('2', '8Gi').build()),
    clusterEvent(makeNode('b').capacity('2', '8Gi').build()),
    policyEvent('freeze', { targetNamespaces: { names: ['frozen'] }, hibernation: { allApps: true } }),
  );
  snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, grpc, nats: natsBlock }), { handleSignals: false });
  filterscore = await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc, snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }), { handleSignals: false });
  reservation = await startReservation(reservationConfigSchema.parse({ ...common, grpc, nats: natsBlock, redis: { url: redis.url } }), { handleSignals: false });
  admission = await startAdmissionApp(admissionConfigSchema.parse({ ...common, grpc, nats: natsBlock, kubernetes: { accessReviews: false, policyStatus: false } }), { handleSignals: false });
  clients = {
    filterscore: client(FilterScoreServiceDefinition, filterscore.grpcPort),
    reservation: client(ReservationServiceDefinition, reservation.grpcPort),
    admission: client(AdmissionServiceDefinition, admission.grpcPort),
  };
  attempt = new SchedulingAttempt({
    clients,
    nodes: () => undefined,
    tracer: trace.getTracer('attempt-test'),
    logger: createLogger({ service: 'attempt-test', level: 'silent' }),
    reservation: { ttlMs: 60_000, holder: 'attempt-test' },
  });
  await pollUntil(async () => (filterscore.replica.gate.synced && filterscore.replica.current.nodeCount === 2 ? true : undefined), { what: 'filterscore in sync', timeoutMs: 20_000 });
}, 60_000);

afterAll(async () => {
  for (const ch of channels) ch.close();
  for (const app of [admission, reservation, filterscore, snapshot]) await app?.stop();
  await nc?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
}, 30_000);

function natsConfigOf(block: { url: string }) {
  return snapshotConfigSchema.parse({ nats: block }).nats;
}

describe('SchedulingAttempt over the real services', () => {
  test('a dry run decides without a lease; the steps name their plugins', async () => {
    const result = await run(pod('dry'), { mode: 'dryRun' });
    expect(result.outcome).toBe('scheduled');
    expect(['a', 'b']).toContain(result.nodeName);
    expect(result.steps.map((s) => [s.point, s.status?.plugin])).toEqual([
      [ExtensionPoint.EXTENSION_POINT_PRE_FILTER, 'SchedmeshAdmission'],
      [ExtensionPoint.EXTENSION_POINT_FILTER, 'SchedmeshFilterScore'],
    ]);
    await expect(clients.reservation!.getReservation({ podUid: 'uid-shop-dry' })).rejects.toMatchObject({ code: 5 }); // NOT_FOUND
  });

  test('reserve holds a lease on the chosen node, and falls back to the next node when another pod took it', async () => {
    // b runs a bound pod (so filterscore ranks the empty a first); a is then taken whole behind
    // filterscore's back, by a lease of a pod the snapshot does not know.
    await publish(clusterEvent(makePod('resident', 'shop').uid('uid-shop-resident').requests('500m', '1Gi').on('b').build()));
    await pollUntil(async () => ((await clients.reservation!.getLedger({ nodeName: 'b' })).bound?.milliCpu === 500 ? true : undefined), { what: 'ledger sees the resident', timeoutMs: 10_000 });
    const ghost = await clients.reservation!.reserve({ pod: { uid: 'uid-ghost', namespace: 'elsewhere', name: 'ghost' }, nodeName: 'a', requests: { milliCpu: 2000 }, holder: 'another-scheduler' });
    expect(ghost.result?.$case).toBe('lease');

    const result = await run(pod('second', '1'));
    expect(result.outcome).toBe('scheduled');
    expect(result.nodeName).toBe('b');
    const reserves = result.steps.filter((s) => s.point === ExtensionPoint.EXTENSION_POINT_RESERVE);
    expect(reserves.map((s) => s.status?.code)).toEqual([3, 1]); // Unschedulable on a, then Success on b
    expect(reserves[0]!.status?.reasons.join()).toMatch(/node a is reserved: Insufficient cpu/);
    expect((await clients.reservation!.getReservation({ podUid: 'uid-shop-second' })).lease?.nodeName).toBe('b');

    // No room left anywhere for another CPU: refused on every ranked node, never overbooked.
    const third = await run(pod('third', '1'));
    expect(third.outcome).toBe('unschedulable');
    expect(third.message).toMatch(/reserved by other pods meanwhile/);
    const a = await clients.reservation!.getLedger({ nodeName: 'a' });
    const b = await clients.reservation!.getLedger({ nodeName: 'b' });
    expect([a.free?.milliCpu, b.free?.milliCpu]).toEqual([0, 500]);

    const ghostVersion = ghost.result?.$case === 'lease' ? ghost.result.value.fencingVersion : 0;
    expect((await clients.reservation!.unreserve({ podUid: 'uid-ghost', fencingVersion: ghostVersion })).released).toBe(true);
    expect((await clients.reservation!.unreserve({ podUid: 'uid-shop-second', fencingVersion: result.fencingVersion })).released).toBe(true);
    await publish(clusterEvent(makePod('resident', 'shop').uid('uid-shop-resident').on('b').build(), 'delete'));
  });

  test('an admission rejection ends the attempt as rejected, naming the policy, with no lease', async () => {
    const result = await run(pod('sleeper', '1', 'frozen'));
    expect(result.outcome).toBe('rejected');
    expect(result.message).toContain('freeze');
    expect(result.steps).toHaveLength(1);
    await expect(clients.reservation!.getReservation({ podUid: 'uid-frozen-sleeper' })).rejects.toMatchObject({ code: 5 });
  });

  test('nothing fits: unschedulable with the kube-scheduler message', async () => {
    const result = await run(pod('huge', '16'));
    expect(result.outcome).toBe('unschedulable');
    expect(result.message).toMatch(/^0\/2 nodes are available: 2 Insufficient cpu\./);
    expect(result.rejectors).toEqual(['SchedmeshFilterScore']);
  });

  test('a service that is down is an error (retry), never unschedulable', async () => {
    const dead = new SchedulingAttempt({
      clients: { ...clients, filterscore: createServiceClient(FilterScoreServiceDefinition, connectChannel('127.0.0.1:1'), { defaultDeadlineMs: 1_000, retryMaxAttempts: 1 }) },
      nodes: () => undefined,
      tracer: trace.getTracer('attempt-test'),
      logger: createLogger({ service: 'attempt-test', level: 'silent' }),
      reservation: { ttlMs: 60_000, holder: 'attempt-test' },
    });
    const result = await dead.run({ pod: pod('orphan'), profile: '', minGeneration: 0, mode: 'reserve', signal: AbortSignal.timeout(10_000) });
    expect(result.outcome).toBe('error');
    expect(result.status.isError()).toBe(true);
    await expect(clients.reservation!.getReservation({ podUid: 'uid-shop-orphan' })).rejects.toMatchObject({ code: 5 });
  });

  test("losing a lease race to another replica is an error marked heldElsewhere, and the winner's lease stays", async () => {
    const winner = await run(pod('contested'));
    expect(winner.outcome).toBe('scheduled');
    const other = new SchedulingAttempt({
      clients,
      nodes: () => undefined,
      tracer: trace.getTracer('attempt-test'),
      logger: createLogger({ service: 'attempt-test', level: 'silent' }),
      reservation: { ttlMs: 60_000, holder: 'other-replica' },
    });
    const loser = await other.run({ pod: pod('contested'), profile: '', minGeneration: generation, mode: 'reserve', signal: AbortSignal.timeout(15_000) });
    expect(loser.outcome).toBe('error');
    expect(loser.heldElsewhere).toBe(true);
    expect(loser.message).toMatch(/is being scheduled by attempt-test/);
    // A plain service failure is not marked.
    expect(winner.heldElsewhere).toBe(false);
    const lease = await clients.reservation!.getReservation({ podUid: 'uid-shop-contested' });
    expect(lease.lease?.holder).toBe('attempt-test');
    expect(lease.lease?.fencingVersion).toBe(winner.fencingVersion);
    await clients.reservation!.unreserve({ podUid: 'uid-shop-contested', fencingVersion: winner.fencingVersion });
  });

  test('a Binding whose answer was lost keeps its lease on a, and the retry on b is an Error: a is not freed', async () => {
    // A stand-in for the API server, whose answer to the Binding never arrives (what a timeout or a
    // dropped connection looks like to the attempt); no API server runs in this file.
    const binder = binding({ bind: () => Promise.reject(new Error('the Binding request timed out')) } as unknown as PodWriter);
    const target = pod('unanswered', '2');
    const first = await binder.bindTo({ pod: target, profile: '', minGeneration: generation, nodeName: 'a', signal: AbortSignal.timeout(15_000) });
    expect(first.outcome).toBe('error');
    // kube-scheduler retries the pod on b.
    const retry = await binder.bindTo({ pod: target, profile: '', minGeneration: generation, nodeName: 'b', signal: AbortSignal.timeout(15_000) });
    expect(retry.outcome).toBe('error');
    expect(retry.message).toMatch(/may be bound to node a: its lease there .* is binding/);
    const lease = (await clients.reservation!.getReservation({ podUid: 'uid-shop-unanswered' })).lease!;
    expect(lease.nodeName).toBe('a');
    expect((await clients.reservation!.getLedger({ nodeName: 'a' })).free!.milliCpu).toBe(0);
    expect((await clients.reservation!.getLedger({ nodeName: 'b' })).free!.milliCpu).toBe(2_000);
    await clients.reservation!.unreserve({ podUid: 'uid-shop-unanswered', fencingVersion: lease.fencingVersion });
  });

  describe("the lease's binding mark (no Renew before Bind for the scheduler's own attempts)", () => {
    /** What the stand-in Binding saw of the pod's lease: 'moved', or why a move to the other node was refused. */
    const seen: string[] = [];
    // A stand-in for the API server (none runs in this file) that binds at once, after asking the
    // ledger whether the lease is binding: only then is the pod's own holder refused a move elsewhere.
    const probing = {
      bind: async (p: Pod, node: string) => {
        const other = node === 'a' ? 'b' : 'a';
        const move = { pod: { uid: p.uid, namespace: p.namespace, name: p.name }, nodeName: other, requests: p.requests, ttl: { seconds: 60 }, holder: 'attempt-test' };
        seen.push(await clients.reservation!.reserve(move).then(() => 'moved', (err: unknown) => (err as Error).message));
        return { kind: 'bound', already: false };
      },
    } as unknown as PodWriter;
    const binder = () => binding(probing);
    const RENEWALS = ExtensionPoint.EXTENSION_POINT_RESERVE;

    test.each([
      // how the pod is bound, the Reserve-point steps (Reserve, then a Renew right before Bind or none)
      ["the scheduler's attempt: the lease is granted binding and, fresh, is not renewed", 'run', 1],
      // kube-scheduler's retry of a late bind, on another node, is the probe's move: refused, not a move that the renewal would catch.
      ["the extender's bindTo: granted binding too, so kube-scheduler's retry elsewhere cannot move it, and, fresh, it is not renewed", 'bindTo', 1],
      // A retry on the same node shares the lease, and its failure would Unreserve it under this call.
      ["the extender's bindTo while another bind of the pod runs: renewed before Bind, however fresh", 'bindToConcurrent', 2],
      ['a gang member (of one): granted without the mark, which the renewal before Bind sets', 'gang', 2],
    ] as const)('%s', async (_, how, reserveSteps) => {
      const name = `marked-${how}`;
      const target: Pod = how === 'gang' ? { ...pod(name), podGroup: { name: 'solo', minMember: 1, scheduleTimeoutSeconds: 5 } } : pod(name);
      if (how === 'gang') await publish(clusterEvent(target));
      const request = { pod: target, profile: '', minGeneration: generation, signal: AbortSignal.timeout(15_000) };
      seen.length = 0;
      const result =
        how === 'bindTo' || how === 'bindToConcurrent'
          ? await binder().bindTo({ ...request, nodeName: 'a', ...(how === 'bindToConcurrent' ? { concurrent: () => true } : {}) })
          : await binder().run({ ...request, mode: 'bind' });
      expect(result.outcome).toBe('scheduled');
      expect(result.steps.filter((s) => s.point === RENEWALS)).toHaveLength(reserveSteps);
      // Binding either way by the time of the Binding: a lost answer would keep the pod on its node.
      expect(seen).toEqual([expect.stringMatching(new RegExp(`may be bound to node ${result.nodeName}: its lease there .* is binding`))]);
      const lease = (await clients.reservation!.getReservation({ podUid: target.uid })).lease!;
      expect([lease.nodeName, lease.state]).toEqual([result.nodeName, LeaseState.LEASE_STATE_CONFIRMED]);
      await clients.reservation!.unreserve({ podUid: target.uid, fencingVersion: result.fencingVersion });
    });

    test('a reservation service that does not know the mark (it drops the field) leaves the lease unmarked: the attempt renews before Bind', async () => {
      const reservation = clients.reservation!;
      // What a service older than ReserveRequest.binding does with it: nothing (and its Lease carries no mark).
      const older = { ...reservation, reserve: ((request, options) => reservation.reserve({ ...request, binding: false }, options)) as typeof reservation.reserve };
      seen.length = 0;
      const target = pod('marked-older');
      const result = await binding(probing, { reservation: older }).run({ pod: target, profile: '', minGeneration: generation, mode: 'bind', signal: AbortSignal.timeout(15_000) });
      expect(result.outcome).toBe('scheduled');
      expect(result.steps.filter((s) => s.point === RENEWALS)).toHaveLength(2);
      expect(seen).toEqual([expect.stringMatching(new RegExp(`may be bound to node ${result.nodeName}: its lease there .* is binding`))]);
      await clients.reservation!.unreserve({ podUid: target.uid, fencingVersion: result.fencingVersion });
    });

    test("mode 'reserve' leaves the lease unmarked: the pod's next attempt may still move it", async () => {
      const result = await run(pod('unmarked', '1'));
      expect(result.outcome).toBe('scheduled');
      const other = result.nodeName === 'a' ? 'b' : 'a';
      const moved = await clients.reservation!.reserve({ pod: { uid: 'uid-shop-unmarked', namespace: 'shop', name: 'unmarked' }, nodeName: other, requests: { milliCpu: 1_000, memory: 1024 ** 3 }, holder: 'attempt-test' });
      expect(moved.result).toMatchObject({ $case: 'lease', value: { nodeName: other } });
      await clients.reservation!.unreserve({ podUid: 'uid-shop-unmarked', fencingVersion: moved.result?.$case === 'lease' ? moved.result.value.fencingVersion : 0 });
    });
  });

  test('a dry run with nothing feasible reports the node preemption would nominate, evicting nothing', async () => {
    // a and b (2 CPU each) are full of bound pods; the cheapest victim is a's priority-10 pod.
    const residents = [
      makePod('low-a', 'shop').uid('uid-shop-low-a').requests('1', '1Gi').priority(10).on('a').build(),
      makePod('mid-a', 'shop').uid('uid-shop-mid-a').requests('1', '1Gi').priority(50).on('a').build(),
      makePod('mid-b1', 'shop').uid('uid-shop-mid-b1').requests('1', '1Gi').priority(50).on('b').build(),
      makePod('mid-b2', 'shop').uid('uid-shop-mid-b2').requests('1', '1Gi').priority(50).on('b').build(),
    ];
    await publish(...residents.map((p) => clusterEvent(p)));
    const urgent = makePod('urgent', 'shop').uid('uid-shop-urgent').requests('1', '1Gi').priority(1000).build();

    const result = await run(urgent, { mode: 'dryRun' });
    expect(result.outcome).toBe('unschedulable');
    expect(result.nominatedNodeName).toBe('a');
    expect(result.message).toMatch(/^0\/2 nodes are available: 2 Insufficient cpu\. preemption: would nominate node a, evicting 1 pod\(s\) \(shop\/low-a\)\.$/);
    expect(result.steps.map((s) => [s.point, s.status?.plugin])).toContainEqual([ExtensionPoint.EXTENSION_POINT_POST_FILTER, 'DefaultPreemption']);
    // The extender's way: preempt: false skips the search (kube-scheduler preempts on its own).
    const asExtender = await run(urgent, { mode: 'dryRun', preempt: false });
    expect(asExtender.outcome).toBe('unschedulable');
    expect(asExtender.nominatedNodeName).toBe('');
    expect(asExtender.steps.map((s) => s.point)).not.toContain(ExtensionPoint.EXTENSION_POINT_POST_FILTER);
    // preemptionPolicy Never: no search at all.
    const polite = await run(makePod('polite', 'shop').uid('uid-shop-polite').requests('1', '1Gi').priority(1000).preemptNever().build(), { mode: 'dryRun' });
    expect(polite.nominatedNodeName).toBe('');
    expect(polite.steps.map((s) => s.point)).not.toContain(ExtensionPoint.EXTENSION_POINT_POST_FILTER);
    // Equal priority: nobody to evict; the message says why, upstream style.
    const peer = await run(makePod('peer', 'shop').uid('uid-shop-peer').requests('1', '1Gi').priority(10).build(), { mode: 'dryRun' });
    expect(peer.outcome).toBe('unschedulable');
    expect(peer.nominatedNodeName).toBe('');
    expect(peer.message).toMatch(/preemption: 0\/2 nodes are available: 2 No preemption victims found for incoming pod/);

    await publish(...residents.map((p) => clusterEvent(p, 'delete')));
  });

  test("an attempt is a trace of its own that links to the pod event's span; schedule_one parents every step", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('attempt-trace-test');
    const traced = new SchedulingAttempt({
      clients,
      nodes: () => undefined,
      tracer,
      logger: createLogger({ service: 'attempt-test', level: 'silent' }),
      reservation: { ttlMs: 60_000, holder: 'attempt-test' },
    });
    // Stands in for the informer's publish span that a cluster event's headers carry.
    const publish = tracer.startSpan('informer.publish Pod');
    const follows = trace.setSpan(context.active(), publish);
    // Run inside the publish span too: an attempt that follows an event must not become its child by accident.
    const result = await context.with(follows, () =>
      traced.run({ pod: pod('traced'), profile: '', minGeneration: generation, mode: 'dryRun', follows, signal: AbortSignal.timeout(10_000) }),
    );
    publish.end();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    const root = spans.find((sp) => sp.name === 'schedule_one')!;
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.spanContext().traceId).not.toBe(publish.spanContext().traceId);
    expect(root.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
    expect(root.attributes).toMatchObject({ 'k8s.pod.name': 'traced', 'k8s.pod.uid': expect.any(String), 'k8s.namespace.name': expect.any(String) });
    expect(result.traceId).toBe(root.spanContext().traceId);
    const steps = spans.filter((sp) => sp.parentSpanContext?.spanId === root.spanContext().spanId).map((sp) => sp.name);
    expect(steps).toEqual(['PreFilter/SchedmeshAdmission', 'Filter/SchedmeshFilterScore']);
    await provider.shutdown();
  });

  test('a gang that cannot fill its group is released at Permit: the lease goes', async () => {
    const member = makePod('gang-0', 'shop').uid('uid-shop-gang-0').requests('1', '1Gi').build();
    const grouped: Pod = { ...member, podGroup: { name: 'g', minMember: 3, scheduleTimeoutSeconds: 1 } };
    // A gang member is a real pod on the cluster stream (reservation checks it).
    await publish(clusterEvent(grouped));
    const result = await run(grouped, { permitTimeoutMs: 1_000 });
    expect(result.outcome).toBe('unschedulable');
    expect(result.message).toMatch(/^pod group shop\/g: /);
    expect(result.steps.map((s) => s.point)).toContain(ExtensionPoint.EXTENSION_POINT_PERMIT);
    await expect(clients.reservation!.getReservation({ podUid: 'uid-shop-gang-0' })).rejects.toMatchObject({ code: 5 });
  });

  describe('gangs from PodGroup objects', () => {
    const train = { namespace: 'shop', name: 'train', resourceVersion: '1', minMember: 3, scheduleTimeoutSeconds: 1 };
    const groups = new PodGroupIndex();
    groups.apply(train, false);
    // The object is on the cluster stream too, as the informer carries it: reservation checks a Permit against it.
    beforeAll(() => publish(ClusterEventMessage.fromPartial({ type: ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT, object: { $case: 'podGroup', value: train } })));
    const withGroups = () =>
      new SchedulingAttempt({
        clients,
        nodes: () => undefined,
        podGroups: groups.get,
        tracer: trace.getTracer('attempt-test'),
        logger: createLogger({ service: 'attempt-test', level: 'silent' }),
        reservation: { ttlMs: 60_000, holder: 'attempt-test' },
      });
    // What the edge makes of a pod with the group label and no annotations.
    const labelled = (name: string, group: string): Pod => ({ ...pod(name), podGroup: { name: group, minMember: 1, scheduleTimeoutSeconds: 0 } });

    test('a label naming no PodGroup, without annotations, is rejected at PreFilter, naming the group; nothing is leased', async () => {
      const result = await withGroups().run({ pod: labelled('orphan', 'absent'), profile: '', minGeneration: generation, mode: 'reserve', signal: AbortSignal.timeout(15_000) });
      expect(result.outcome).toBe('rejected');
      expect(result.message).toBe('pod group shop/absent not found');
      expect(result.rejectors).toEqual([POD_GROUP_PLUGIN]);
      expect(result.steps.map((s) => s.point)).toEqual([ExtensionPoint.EXTENSION_POINT_PRE_FILTER]);
      await expect(clients.reservation!.getReservation({ podUid: 'uid-shop-orphan' })).rejects.toMatchObject({ code: 5 });
    });

    test("the PodGroup's minMember and timeout hold the member at Permit, not the pod's own minimum of 1", async () => {
      await publish(clusterEvent(labelled('member-0', 'train')));
      const result = await withGroups().run({ pod: labelled('member-0', 'train'), profile: '', minGeneration: generation, mode: 'reserve', signal: AbortSignal.timeout(15_000) });
      expect(result.outcome).toBe('unschedulable');
      expect(result.message).toMatch(/^pod group shop\/train: .*timed out after 1s.*\(1\/3 reserved\)$/);
      await expect(clients.reservation!.getReservation({ podUid: 'uid-shop-member-0' })).rejects.toMatchObject({ code: 5 });
    });
  });
});
