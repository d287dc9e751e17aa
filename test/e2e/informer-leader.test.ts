// Two informers on one cluster stream, against a real kube-apiserver and a
// real NATS (review M4): only the holder of the leader-election Lease
// publishes, a standby takes over when the leader is killed, and an informer
// that publishes late (a paused one of the previous release, without leader
// election) never puts an older version of an object after a newer one.
// The informers under test run as processes, so they can be killed and paused.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { compareResourceVersions } from '@schedmesh/model';
import { ClusterEvent } from '@schedmesh/proto/v1/types';
import { informerConfigSchema, startInformerApp } from '@schedmesh/informer-service';
import type { InformerApp } from '@schedmesh/informer-service';
import { clusterEventVersion, createLogger, ensureClusterStream, followClusterStream } from '@schedmesh/runtime';
import { freePort, kubectl, pollUntil, startServiceProcess } from '@schedmesh/testkit';
import type { ControlPlane, ServiceProcess } from '@schedmesh/testkit';
import { e2eNats, startE2eControlPlane } from './mesh.js';

const nats = e2eNats('leader-e2e');
const lease = { namespace: 'schedmesh-system', name: 'schedmesh-informer', leaseDuration: '3s', renewDeadline: '2s', retryPeriod: '250ms' };
const source = { admissionPolicies: false, podGroups: false, pluginConfigMap: '', profilesConfigMap: '', reportRejectedPods: [], restartBackoff: '100ms' };

let cp: ControlPlane;
let dir: string;
let nc: NatsConnection;
let jsm: JetStreamManager;
let core: CoreV1Api;
const processes: ServiceProcess[] = [];
let standby: InformerApp | undefined;

/** An informer as its own process, configured by a file. */
async function informerProcess(name: string, leaderElection: Record<string, unknown>): Promise<ServiceProcess> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const config = join(dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      grpc: { host: '127.0.0.1', port: grpcPort },
      http: { host: '127.0.0.1', port: httpPort },
      log: { level: 'debug' },
      shutdown: { grace: '1s' },
      nats,
      source: { ...source, kubeconfig: cp.kubeconfigPath },
      leaderElection,
    }),
  );
  mkdirSync(join(dir, name));
  const proc = startServiceProcess({ service: 'informer', env: { SCHEDMESH_CONFIG: config }, httpPort, logDir: join(dir, name) });
  processes.push(proc);
  await proc.ready(60_000);
  return proc;
}

async function holder(): Promise<string | undefined> {
  const l = await cp.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: lease.namespace, name: lease.name });
  return l.spec?.holderIdentity || undefined;
}

const podSubject = (name: string): string => `${nats.subjectPrefix}.pod.default.${name}`;

/** The version of the pod the stream holds last, if any. */
async function streamVersion(name: string): Promise<string | undefined> {
  try {
    const msg = await jsm.streams.getMessage(nats.stream, { last_by_subj: podSubject(name) });
    return msg ? clusterEventVersion(ClusterEvent.decode(msg.data)) : undefined;
  } catch {
    return undefined;
  }
}

/** Sets the pod's `step` label; resolves with the pod's new resourceVersion. */
async function label(name: string, value: string): Promise<string> {
  return kubectl(cp, ['label', 'pod', name, `step=${value}`, '--overwrite', '-o', 'jsonpath={.metadata.resourceVersion}']);
}

async function metric(proc: ServiceProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proc.httpPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'schedmesh-leader-'));
  cp = await startE2eControlPlane();
  core = cp.kubeConfig.makeApiClient(CoreV1Api);
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  // The stream as the informer makes it, but with a 500 ms de-duplication window instead of 2 min:
  // a late publish past the window is what the window cannot catch, and the test need not wait 2 min.
  await ensureClusterStream(jsm, { name: nats.stream, prefix: nats.subjectPrefix, memory: true });
  const info = await jsm.streams.info(nats.stream);
  await jsm.streams.update(nats.stream, { ...info.config, duplicate_window: 500_000_000 });
}, 120_000);

afterAll(async () => {
  await standby?.stop().catch(() => undefined);
  for (const p of processes) await p.stop().catch(() => undefined);
  await jsm?.streams.delete(nats.stream).catch(() => undefined);
  await nc?.close();
  await cp?.stop();
  if (dir && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('informer leader election (review M4)', () => {
  let leader: ServiceProcess;

  test('only the Lease holder publishes; killing it hands over to the standby, which publishes what changed', async () => {
    leader = await informerProcess('first', { ...lease, identity: 'first' });
    await pollUntil(async () => (await holder()) === 'first' || undefined, { what: 'the first informer to hold the Lease', timeoutMs: 30_000 });
    standby = await startInformerApp(
      informerConfigSchema.parse({ http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, shutdown: { grace: '1s' }, nats, source: { ...source, kubeconfig: cp.kubeconfigPath }, leaderElection: { ...lease, identity: 'standby' } }),
      { handleSignals: false },
    );
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'before' }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }] } } });
    await pollUntil(async () => (await streamVersion('before')) !== undefined || undefined, { what: 'the leader to publish pod before', timeoutMs: 30_000 });
    expect(standby.isLeader()).toBe(false);
    expect(standby.kubernetes).toBeUndefined();
    expect(await holder()).toBe('first');

    process.kill(leader.pid, 'SIGKILL');
    await leader.exited;
    await pollUntil(async () => ((await holder()) === 'standby' && standby!.isLeader()) || undefined, { what: 'the standby to take the Lease over', timeoutMs: 30_000 });
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'after' }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }] } } });
    await pollUntil(async () => (await streamVersion('after')) !== undefined || undefined, { what: 'the new leader to publish pod after', timeoutMs: 30_000 });
  }, 120_000);

  test('an informer that publishes late (paused, of a release without leader election) never puts an older version after a newer one', async () => {
    const name = 'rolling';
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name, labels: { step: '0' } }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1' }] } } });
    // Every version the stream takes for the pod, in stream order.
    const seen: string[] = [];
    const following = new AbortController();
    const follower = followClusterStream({
      js: jetstream(nc),
      logger: createLogger({ service: 'test', level: 'silent' }),
      stream: nats.stream,
      afterGeneration: 0,
      filterSubject: podSubject(name),
      signal: following.signal,
      onEvent: ({ event }) => void seen.push(clusterEventVersion(event)),
    });

    const old = await informerProcess('old-release', { enabled: false });
    await pollUntil(async () => (await metric(old, 'schedmesh_informer_published_events_total')) > 0 || undefined, { what: 'the old informer to publish its list', timeoutMs: 30_000 });
    // Pod events the old informer handled: published, or refused as older than the stream's.
    const handled = async (): Promise<number> =>
      (await metric(old, 'schedmesh_informer_published_events_total{kind="Pod"')) + (await metric(old, 'schedmesh_informer_stale_events_total{kind="Pod"'));
    const handledBefore = await handled();
    process.kill(old.pid, 'SIGSTOP');
    // While it is paused its watch takes these in, unread; the leader publishes them.
    await label(name, '1');
    await label(name, '2');
    const newest = await label(name, '3');
    await pollUntil(async () => (compareResourceVersions((await streamVersion(name)) ?? '', newest) ?? -1) >= 0 || undefined, {
      what: 'the leader to publish the newest version',
      timeoutMs: 30_000,
    });
    // Past the de-duplication window: the old informer's versions are no repeats the server would drop.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    process.kill(old.pid, 'SIGCONT');
    // The old informer catches up on what it took in while paused: every one of them is older than the stream's.
    await pollUntil(async () => (await handled()) >= handledBefore + 3 || undefined, { what: 'the old informer to handle its late versions', timeoutMs: 30_000 });
    const current = await kubectl(cp, ['get', 'pod', name, '-o', 'jsonpath={.metadata.resourceVersion}']);
    await pollUntil(async () => (await streamVersion(name)) === current || undefined, { what: "the stream to hold the pod's current version", timeoutMs: 30_000 });
    following.abort();
    await follower;
    expect(seen.length).toBeGreaterThan(1);
    // Each version the stream took is later than the one before: none older, none repeated.
    const notLater = seen.filter((v, i) => i > 0 && compareResourceVersions(seen[i - 1]!, v) !== -1);
    expect({ seen, notLater }).toEqual({ seen, notLater: [] });
    expect(seen.at(-1)).toBe(current);
    expect(await metric(old, 'schedmesh_informer_stale_events_total{kind="Pod"')).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
