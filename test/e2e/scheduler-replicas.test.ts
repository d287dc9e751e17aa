// Two proofs of the scheduler on a real control plane (etcd + kube-apiserver),
// with informer, snapshot, filterscore and reservation in-process and the
// scheduler itself as two separate OS processes (services/scheduler/dist, so
// `npm run build` first) sharing one durable consumer:
//
// 1. replicas: one replica is SIGKILLed while pods are being bound; every pod
//    still ends bound, its Binding made exactly once (the apiserver's audit
//    log counts every successful POST pods/binding), reported once, and no
//    node goes over allocatable;
// 2. gang: a pod group of 4 (minMember 4) on room for 3 never binds (every
//    member gets a FailedScheduling once the group's Permit timeout passes);
//    a node that fits the fourth is added, and all 4 bind;
// 3. hand-over: a replica alone holds two gang members waiting in Permit (their
//    leases in reservation name it, its in-flight gauge says 2) when it is
//    SIGKILLed; the other replica gets their events after ackWait, backs off
//    quietly while the dead replica's leases live, then binds them, each
//    exactly once, with no SchedulerError written to them.
//
// Nothing waits on a sleep: every wait polls the API (or a replica's metrics)
// for a condition, with generous limits for a busy two-core machine.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { filterScoreConfigSchema, startFilterScoreApp } from '@schedmesh/filterscore-service';
import type { FilterScoreApp } from '@schedmesh/filterscore-service';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { ANNOTATION_POD_GROUP_MIN_MEMBER, ANNOTATION_POD_GROUP_TIMEOUT, LABEL_POD_GROUP } from '@schedmesh/model';
import { LeaseState, ReservationServiceDefinition } from '@schedmesh/proto/v1/reservation';
import { reservationConfigSchema, startReservation } from '@schedmesh/reservation-service';
import type { ReservationApp } from '@schedmesh/reservation-service';
import { snapshotConfigSchema, startSnapshotApp } from '@schedmesh/snapshot-service';
import type { SnapshotApp } from '@schedmesh/snapshot-service';
import { connectChannel, createServiceClient } from '@schedmesh/runtime';
import { createFakeNodes, fakeNodeObject, fakeNodeSpecs, freePort, pollUntil, requireBinary, spawnManaged, startControlPlane, testEnvKeys } from '@schedmesh/testkit';
import type { ControlPlane, ManagedProcess } from '@schedmesh/testkit';

import { bindingsAuditArgs, bindingsFromAudit, overcommitted } from './bindings-audit';

const REPLICA_NODES = 20;
// 8 pods of 500m fit a 4-CPU node: 150 pods on 160 slots, so a double-booked node shows.
const PODS = 150;
const GANG_NODE_CPU = '2';
const GANG_MEMBER_CPU = '1500m';
const GANG_TIMEOUT_SECONDS = 6;
const MAIN_JS = join(__dirname, '../../services/scheduler/dist/main.js');

let cp: ControlPlane;
let dir: string;
let auditLog: string;
let informer: InformerApp | undefined;
let snapshot: SnapshotApp | undefined;
let filterscore: FilterScoreApp | undefined;
let reservation: ReservationApp | undefined;
const replicas: (Replica | undefined)[] = [undefined, undefined];
const figures: Record<string, string> = {};

const common = { http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, shutdown: { grace: '1s' } };
const grpc = { host: '127.0.0.1', port: 0 };
// One stream, consumer and key prefix per run: NATS and Redis outlive this suite.
const run = `replicas-e2e-${process.pid}`;
const nats = () => ({ url: process.env[testEnvKeys.natsUrl]!, stream: `REPLICAS_E2E_${process.pid}`, subjectPrefix: run, memoryStorage: true });

/** A scheduler replica: `node services/scheduler/dist/main.js` in its own process group. */
interface Replica {
  readonly instance: string;
  readonly process: ManagedProcess;
  readonly httpPort: number;
}

async function startReplica(index: number, scheduler: Record<string, unknown> = {}): Promise<Replica> {
  const instance = `replica-${index}`;
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const configPath = join(dir, `${instance}.json`);
  // JSON is YAML: the file SCHEDMESH_CONFIG names.
  writeFileSync(
    configPath,
    JSON.stringify({
      grpc: { host: '127.0.0.1', port: grpcPort },
      http: { host: '127.0.0.1', port: httpPort },
      log: { level: 'info' },
      shutdown: { grace: '1s' },
      nats: nats(),
      filterscore: { address: `127.0.0.1:${filterscore!.grpcPort}` },
      reservation: { address: `127.0.0.1:${reservation!.grpcPort}` },
      kubernetes: { kubeconfig: cp.kubeconfigPath },
      scheduler: {
        instance,
        durableName: run,
        // A killed replica's pods go to the live one 3 s after its last heartbeat.
        ackWait: '3s',
        leaseTtl: '10s',
        // Gang members must meet inside one Permit round: backoff stays well under the group's timeout.
        podInitialBackoff: '500ms',
        podMaxBackoff: '2s',
        // Every gang node is tried at Reserve, not only the first three ranked.
        maxReserveTries: 5,
        ...scheduler,
      },
    }),
  );
  const child = spawnManaged({
    name: instance,
    command: process.execPath,
    args: [MAIN_JS],
    logPath: join(dir, `${instance}.log`),
    // The test's own SCHEDMESH_* variables (cluster bin, test servers) would be config keys there, and refused.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SCHEDMESH_'))), SCHEDMESH_CONFIG: configPath },
  });
  const replica = { instance, process: child, httpPort };
  await pollUntil(async () => ((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200 ? true : undefined), {
    what: `${instance} ready (view in sync)`,
    timeoutMs: 90_000,
    intervalMs: 250,
    abortIf: () => (child.exit() ? `${instance} exited:\n${child.logTail(30)}` : undefined),
  });
  return replica;
}

/**
 * A sample of a replica's /metrics: the series `name` whose labels include
 * `labels` (every series carries the registry's default label `service`).
 */
async function gaugeOf(replica: Replica, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${replica.httpPort}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const have = (m[2] ?? '').split(',');
    if (wanted.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

function replicaTails(): string {
  return replicas
    .filter((r): r is Replica => r !== undefined)
    .map((r) => `--- ${r.instance} (pid ${r.process.pid}${r.process.exit() ? `, ${JSON.stringify(r.process.exit())}` : ''}), last lines of ${r.process.logPath}:\n${r.process.logTail(60)}`)
    .join('\n');
}

function pod(name: string, namespace: string, opts: { cpu: string; pool: string; labels?: Record<string, string>; annotations?: Record<string, string> }): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: run, ...opts.labels }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      schedulerName: 'schedmesh',
      nodeSelector: { pool: opts.pool },
      containers: [{ name: 'main', image: 'registry.invalid/pause:never-pulled', resources: { requests: { cpu: opts.cpu, memory: '256Mi' } } }],
    },
  };
}

async function podsIn(namespace: string): Promise<V1Pod[]> {
  return (await cp.core.listNamespacedPod({ namespace })).items;
}

async function eventsIn(namespace: string): Promise<CoreV1Event[]> {
  return (await cp.core.listNamespacedEvent({ namespace })).items;
}

/**
 * The Bindings of `names` from the audit log, once it shows each of them (it is
 * written as requests complete), or as it stands after 30 s: the caller's
 * assertion names what is missing.
 */
async function loggedBindings(namespace: string, names: readonly string[]): Promise<ReturnType<typeof bindingsFromAudit>> {
  let bindings = bindingsFromAudit(auditLog, namespace);
  await pollUntil(
    async () => {
      bindings = bindingsFromAudit(auditLog, namespace);
      return names.every((n) => (bindings.get(n)?.created ?? 0) >= 1) ? true : undefined;
    },
    { what: 'every Binding in the audit log', timeoutMs: 30_000, intervalMs: 250 },
  ).catch(() => undefined);
  return bindings;
}

/** The namespace's pods once there are `count` and all are bound. */
async function allBound(namespace: string, count: number, what: string, timeoutMs: number): Promise<V1Pod[]> {
  return pollUntil(
    async () => {
      const list = await podsIn(namespace);
      return list.length === count && list.every((p) => p.spec?.nodeName) ? list : undefined;
    },
    { what, timeoutMs, intervalMs: 500 },
  );
}

beforeAll(async () => {
  requireBinary('etcd');
  requireBinary('kube-apiserver');
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (the replicas run the built scheduler)`);
  dir = mkdtempSync(join(tmpdir(), 'replicas-e2e-'));
  const audit = bindingsAuditArgs(dir);
  auditLog = audit.auditLog;
  cp = await startControlPlane({ apiServerArgs: audit.args });
  for (const name of ['replicas', 'gang']) await cp.core.createNamespace({ body: { metadata: { name } } });
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(REPLICA_NODES, { prefix: 'replica-node', labels: { pool: 'replicas' } }));
  // Room for exactly 3 gang members: one per node.
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(3, { prefix: 'gang-node', labels: { pool: 'gang' }, capacity: { cpu: GANG_NODE_CPU, memory: '4Gi', pods: '110' } }));
  await cp.core.createNamespace({ body: { metadata: { name: 'handover' } } });
  await createFakeNodes(cp.kubeConfig, fakeNodeSpecs(3, { prefix: 'handover-node', labels: { pool: 'handover' }, capacity: { cpu: GANG_NODE_CPU, memory: '4Gi', pods: '110' } }));

  const kubeconfig = cp.kubeconfigPath;
  informer = await startInformerApp(informerConfigSchema.parse({ ...common, grpc, nats: nats(), source: { kubeconfig } }), { handleSignals: false });
  snapshot = await startSnapshotApp(snapshotConfigSchema.parse({ ...common, grpc, nats: nats() }), { handleSignals: false });
  filterscore = await startFilterScoreApp(filterScoreConfigSchema.parse({ ...common, grpc, snapshot: { address: `127.0.0.1:${snapshot.grpcPort}` } }), { handleSignals: false });
  reservation = await startReservation(reservationConfigSchema.parse({ ...common, grpc, nats: nats(), redis: { url: process.env[testEnvKeys.redisUrl]!, keyPrefix: run } }), {
    handleSignals: false,
  });
  const started = Date.now();
  // One after the other: the first creates the shared durable consumer.
  replicas[0] = await startReplica(0);
  replicas[1] = await startReplica(1);
  figures['2 replica processes ready'] = `${Date.now() - started} ms`;
}, 240_000);

afterAll(async () => {
  // Process groups first: a replica must not outlive the suite, whatever failed above.
  await Promise.all(replicas.flatMap((r) => (r ? [r.process.stop(3_000)] : [])));
  for (const app of [reservation, filterscore, snapshot, informer]) await app?.stop().catch(() => undefined);
  await cp?.stop();
  if (Object.keys(figures).length > 0) console.log(`scheduler replicas e2e figures:\n${Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
}, 120_000);

/** Runs `fn`; on a failure, the error carries the replicas' log tails. */
async function withTails<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${replicaTails()}`, { cause: err });
  }
}

describe('scheduler replicas on a real control plane', () => {
  test(`two replica processes bind ${PODS} pods, each exactly once, although one is SIGKILLed midway`, async () => {
    await withTails(async () => {
      const started = Date.now();
      const names = Array.from({ length: PODS }, (_, i) => `r-${i}`);
      // Created in small batches while the replicas bind, so that the kill below lands mid-stream.
      const creating = (async () => {
        for (let i = 0; i < names.length; i += 10) {
          await Promise.all(names.slice(i, i + 10).map((n) => cp.core.createNamespacedPod({ namespace: 'replicas', body: pod(n, 'replicas', { cpu: '500m', pool: 'replicas' }) })));
        }
      })();
      const victim = replicas[0]!;
      // Some bound, more still being created and bound: kill the victim there.
      const boundAtKill = await pollUntil(
        async () => {
          const bound = (await podsIn('replicas')).filter((p) => p.spec?.nodeName).length;
          const held = await gaugeOf(victim, 'schedmesh_scheduler_held_pods');
          return bound >= 10 ? { bound, held: held ?? 0 } : undefined;
        },
        { what: 'some pods bound while the victim holds others', timeoutMs: 120_000, intervalMs: 25 },
      );
      process.kill(-victim.process.pid, 'SIGKILL');
      const killedAt = Date.now();
      await victim.process.exited;
      await creating;
      figures['at the SIGKILL'] = `${boundAtKill.bound}/${PODS} bound, ${boundAtKill.held} held by ${victim.instance}`;
      expect(boundAtKill.bound).toBeLessThan(PODS);

      const pods = await allBound('replicas', PODS, `${PODS} pods bound after the SIGKILL`, 180_000);
      figures[`create + bind ${PODS} pods, one replica killed`] = `${Date.now() - started} ms`;

      // Exactly once: one successful Binding per pod. The apiserver refuses a second (409), so a
      // count of 2 would mean a pod was unbound and bound again; refusals are replicas that lost a race.
      const bindings = await loggedBindings('replicas', names);
      const twice = names.filter((n) => (bindings.get(n)?.created ?? 0) !== 1).map((n) => `${n}: ${bindings.get(n)?.created ?? 0}`);
      expect(twice).toEqual([]);
      const refused = [...bindings.values()].reduce((sum, b) => sum + b.refused, 0);
      figures['Binding POSTs refused (lost races)'] = String(refused);

      // Reported once: a Scheduled event per pod — none for a pod the victim bound just before
      // it died (its event write was lost with it), never two.
      const scheduled = new Map<string, CoreV1Event[]>();
      await pollUntil(
        async () => {
          scheduled.clear();
          for (const e of await eventsIn('replicas')) {
            if (e.reason !== 'Scheduled') continue;
            const list = scheduled.get(e.involvedObject.name!) ?? [];
            list.push(e);
            scheduled.set(e.involvedObject.name!, list);
          }
          // Every pod bound after the kill must be reported, by the survivor.
          return names.every((n) => (bindings.get(n)!.firstAt <= killedAt + 1_000 ? true : scheduled.has(n))) ? true : undefined;
        },
        { what: 'a Scheduled event for every pod bound after the kill', timeoutMs: 60_000, intervalMs: 500 },
      );
      const reportedTwice = [...scheduled].filter(([, list]) => list.length > 1).map(([n, list]) => `${n}: ${list.map((e) => `${e.reportingInstance} ${e.message}`).join(' | ')}`);
      expect(reportedTwice).toEqual([]);
      const unreported = names.filter((n) => !scheduled.has(n));
      for (const n of unreported) expect(bindings.get(n)!.firstAt).toBeLessThanOrEqual(killedAt + 1_000);
      figures['bound by the victim, unreported'] = String(unreported.length);
      const byInstance = new Map<string, number>();
      for (const [, [e]] of scheduled) byInstance.set(e!.reportingInstance ?? '', (byInstance.get(e!.reportingInstance ?? '') ?? 0) + 1);
      figures['Scheduled events by replica'] = JSON.stringify(Object.fromEntries(byInstance));

      const nodes = (await cp.core.listNode({ labelSelector: 'pool=replicas' })).items;
      expect(overcommitted(pods, nodes)).toEqual([]);
      // The survivor took over: it is still alive and bound the pods after the kill.
      expect(replicas[1]!.process.exit()).toBeUndefined();
    });
  }, 360_000);

  test('a gang of 4 with room for 3 binds nobody until a node for the fourth is added, then all 4', async () => {
    await withTails(async () => {
      // Both replicas again: the members' Permits wait in two processes.
      if (replicas[0]?.process.exit()) replicas[0] = await startReplica(0);
      const members = ['g-0', 'g-1', 'g-2', 'g-3'];
      const group = {
        labels: { [LABEL_POD_GROUP]: 'four' },
        annotations: { [ANNOTATION_POD_GROUP_MIN_MEMBER]: '4', [ANNOTATION_POD_GROUP_TIMEOUT]: String(GANG_TIMEOUT_SECONDS) },
      };
      const created = Date.now();
      await Promise.all(members.map((n) => cp.core.createNamespacedPod({ namespace: 'gang', body: pod(n, 'gang', { cpu: GANG_MEMBER_CPU, pool: 'gang', ...group }) })));

      // Three members reserve and wait at Permit; the fourth finds no room. Once the round's
      // timeout passes every member has been refused: each has a FailedScheduling event.
      const failed = await pollUntil(
        async () => {
          const events = (await eventsIn('gang')).filter((e) => e.reason === 'FailedScheduling');
          const byPod = new Map(events.map((e) => [e.involvedObject.name!, e.message ?? '']));
          return members.every((n) => byPod.has(n)) && events.some((e) => /timed out/.test(e.message ?? '')) ? byPod : undefined;
        },
        { what: 'FailedScheduling for all 4 members, a Permit timeout among them', timeoutMs: 120_000, intervalMs: 250 },
      );
      figures['gang: create -> all 4 refused'] = `${Date.now() - created} ms`;
      expect(Date.now() - created).toBeGreaterThanOrEqual(GANG_TIMEOUT_SECONDS * 1000);
      // Each was refused for the gang: its round timed out, or (the one without room) the nodes were leased to the others.
      for (const n of members) {
        expect(failed.get(n)).toMatch(/^pod group gang\/four: gang gang\/four timed out after \d+s waiting for 4 members to hold leases|reserved by other pods meanwhile: .*Insufficient cpu/);
      }
      // None bound: neither before the timeout (Permit held them) nor since.
      expect((await podsIn('gang')).filter((p) => p.spec?.nodeName).map((p) => p.metadata!.name)).toEqual([]);
      expect(bindingsFromAudit(auditLog, 'gang').size).toBe(0);

      const added = Date.now();
      await cp.core.createNode({
        body: fakeNodeObject({ ...fakeNodeSpecs(1, { prefix: 'gang-node-extra' })[0]!, labels: { pool: 'gang' }, capacity: { cpu: GANG_NODE_CPU, memory: '4Gi', pods: '110' } }),
      });
      const pods = await allBound('gang', 4, 'all 4 gang members bound after the node was added', 120_000);
      figures['gang: node added -> all 4 bound'] = `${Date.now() - added} ms`;
      // One member per node: the fourth on a node of its own.
      expect(new Set(pods.map((p) => p.spec!.nodeName)).size).toBe(4);
      const bindings = await loggedBindings('gang', members);
      expect(members.map((n) => bindings.get(n)?.created ?? 0)).toEqual([1, 1, 1, 1]);
      const nodes = (await cp.core.listNode({ labelSelector: 'pool=gang' })).items;
      expect(nodes).toHaveLength(4);
      expect(overcommitted(pods, nodes)).toEqual([]);
    });
  }, 300_000);

  test("a killed replica's pods waiting in Permit are bound by the other replica, each exactly once", async () => {
    await withTails(async () => {
      // The holder alone: both replicas stop, and one comes back with leases that outlive the hand-over
      // (45 s), so the survivor provably meets them and must wait for them to lapse.
      for (const i of [0, 1]) {
        await replicas[i]?.process.stop(5_000);
        replicas[i] = undefined;
      }
      replicas[0] = await startReplica(0, { leaseTtl: '45s' });
      const holder = replicas[0];
      const channel = connectChannel(`127.0.0.1:${reservation!.grpcPort}`);
      const ledger = createServiceClient(ReservationServiceDefinition, channel, { defaultDeadlineMs: 10_000 });
      try {
        // A gang of 3 with 2 members: both reserve and wait in Permit for a third.
        const group = { labels: { [LABEL_POD_GROUP]: 'relay' }, annotations: { [ANNOTATION_POD_GROUP_MIN_MEMBER]: '3', [ANNOTATION_POD_GROUP_TIMEOUT]: '90' } };
        const first = ['h-0', 'h-1'];
        await Promise.all(first.map((n) => cp.core.createNamespacedPod({ namespace: 'handover', body: pod(n, 'handover', { cpu: GANG_MEMBER_CPU, pool: 'handover', ...group }) })));
        const uids = new Map((await podsIn('handover')).map((p) => [p.metadata!.name!, p.metadata!.uid!]));

        // In flight on the holder: each member's live lease names it, and two attempts are in flight there.
        const holdsBoth = async (): Promise<true> => {
          const leases = await Promise.all(first.map((n) => ledger.getReservation({ podUid: uids.get(n)! }).catch(() => undefined)));
          const inFlight = await gaugeOf(holder, 'schedmesh_scheduler_pending_pods_in_flight');
          if (leases.every((l) => l?.lease?.holder === holder.instance && l.lease.state === LeaseState.LEASE_STATE_RESERVED) && inFlight === 2) return true;
          // Not yet: say what was seen (the timeout's message carries the last one).
          throw new Error(`leases ${JSON.stringify(leases.map((l) => l?.lease && { holder: l.lease.holder, state: l.lease.state }))}, in flight ${inFlight}`);
        };
        await pollUntil(holdsBoth, { what: `${holder.instance} holding both members in Permit`, timeoutMs: 60_000, intervalMs: 200 });
        replicas[1] = await startReplica(1);
        // Still holding them (the survivor cannot have them: their events are held unacknowledged).
        await pollUntil(holdsBoth, { what: `${holder.instance} still holding both members`, timeoutMs: 30_000, intervalMs: 100 });
        process.kill(-holder.process.pid, 'SIGKILL');
        const killedAt = Date.now();
        await holder.process.exited;
        expect((await podsIn('handover')).filter((p) => p.spec?.nodeName)).toEqual([]);

        // The third member completes the gang on the survivor (the dead replica's leases still count).
        await cp.core.createNamespacedPod({ namespace: 'handover', body: pod('h-2', 'handover', { cpu: GANG_MEMBER_CPU, pool: 'handover', ...group }) });
        const members = [...first, 'h-2'];
        const pods = await allBound('handover', 3, 'all 3 members bound by the survivor', 180_000);
        figures['hand-over: SIGKILL -> the held members bound'] = `${Date.now() - killedAt} ms`;
        expect(new Set(pods.map((p) => p.spec!.nodeName)).size).toBe(3);

        const bindings = await loggedBindings('handover', members);
        expect(members.map((n) => bindings.get(n)?.created ?? 0)).toEqual([1, 1, 1]);
        // Bound after the kill, so by the survivor, which reports each once.
        for (const n of first) expect(bindings.get(n)!.firstAt).toBeGreaterThan(killedAt);
        const events = await pollUntil(
          async () => {
            const list = await eventsIn('handover');
            return members.every((n) => list.some((e) => e.reason === 'Scheduled' && e.involvedObject.name === n)) ? list : undefined;
          },
          { what: 'a Scheduled event per member', timeoutMs: 30_000, intervalMs: 250 },
        );
        const scheduled = events.filter((e) => e.reason === 'Scheduled');
        expect(scheduled.map((e) => `${e.involvedObject.name} ${e.reportingInstance}`).sort()).toEqual(members.map((n) => `${n} ${replicas[1]!.instance}`));
        // Losing to the dead replica's leases is not the pods' failure: nothing about it is written to them.
        expect(events.filter((e) => /is being scheduled by/.test(e.message ?? '')).map((e) => `${e.involvedObject.name}: ${e.message}`)).toEqual([]);
        const held = await gaugeOf(replicas[1], 'schedmesh_scheduler_attempts_total', { outcome: 'held' });
        figures['hand-over: survivor attempts that met the dead replica\'s lease'] = String(held ?? 0);
        expect(held ?? 0).toBeGreaterThan(0);
      } finally {
        channel.close();
      }
    });
  }, 300_000);
});
