import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { trace } from '@opentelemetry/api';
import { EdgeError } from '@schedmesh/model';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { createLogger, ensureClusterStream } from '@schedmesh/runtime';
import { sharedServers } from '@schedmesh/testkit';
import { Counter, Registry } from 'prom-client';
import { ClusterPublisher } from './publisher.js';
import type { WatchedKind } from './publisher.js';
import { StreamIndex } from './stream-index.js';

const logger = createLogger({ service: 'test', level: 'silent' });

function rawPod(name: string, labels: Record<string, string> = {}, resourceVersion = '1'): unknown {
  return {
    metadata: { name, namespace: 'tenant-a', uid: `uid-${name}`, resourceVersion, labels },
    spec: { schedulerName: 'schedmesh', containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
  };
}

/** About 1.3 MB of labels, each one valid: Kubernetes bounds labels per key and value only. */
function hugeLabels(): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let i = 0; i < 14_000; i++) labels[`example.com/label-${i}`] = `v${i}`.padEnd(63, 'v');
  return labels;
}

describe('ClusterPublisher on a real JetStream', () => {
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const stream = `INFORMER_PUB_${process.pid}`;
  const prefix = `p${process.pid}.cluster`;
  const smallStream = `INFORMER_SMALL_${process.pid}`;
  const smallPrefix = `s${process.pid}.cluster`;

  beforeAll(async () => {
    nc = await connect({ servers: sharedServers().natsUrl });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await ensureClusterStream(jsm, { name: stream, prefix, memory: true });
    // A stream whose own limit is far below the connection's max_payload.
    await jsm.streams.add({ name: smallStream, subjects: [`${smallPrefix}.>`], max_msg_size: 4_096, storage: 'memory' });
  });
  afterAll(async () => {
    await jsm.streams.delete(stream);
    await jsm.streams.delete(smallStream);
    await nc.close();
  });

  /** A publisher with its own view of the stream, as one informer has. */
  async function publisher(
    subjectPrefix: string,
    streamName = subjectPrefix === prefix ? stream : smallStream,
  ): Promise<{ publisher: ClusterPublisher; rejected: Counter; stale: Counter; rejections: { kind: WatchedKind; err: unknown }[] }> {
    const registry = new Registry();
    const rejected = new Counter({ name: 'rejected', help: 'r', labelNames: ['kind', 'field'], registers: [registry] });
    const published = new Counter({ name: 'published', help: 'p', labelNames: ['kind', 'type'], registers: [registry] });
    const stale = new Counter({ name: 'stale', help: 's', labelNames: ['kind'], registers: [registry] });
    const rejections: { kind: WatchedKind; err: unknown }[] = [];
    const p = new ClusterPublisher({
      index: await StreamIndex.load({ js, logger, stream: streamName, prefix: subjectPrefix }),
      logger,
      tracer: trace.getTracer('test'),
      nodeOptions: {},
      rejected,
      published,
      stale,
      onRejected: (kind, _obj, err) => rejections.push({ kind, err }),
    });
    return { publisher: p, rejected, stale, rejections };
  }

  async function lastPodOnStream(name: string, streamName: string, subjectPrefix: string): Promise<ClusterEvent | undefined> {
    try {
      const msg = await jsm.streams.getMessage(streamName, { last_by_subj: `${subjectPrefix}.pod.tenant-a.${name}` });
      return msg ? ClusterEvent.decode(msg.data) : undefined;
    } catch {
      return undefined;
    }
  }

  async function sizeRejections(rejected: Counter): Promise<number> {
    const values = (await rejected.get()).values;
    return values.filter((v) => v.labels.field === 'size' && v.labels.kind === 'Pod').reduce((a, v) => a + v.value, 0);
  }

  test('a pod with 1.3 MB of labels (over max_payload) is rejected, counted and reported; the next pod is published', async () => {
    const { publisher: p, rejected, rejections } = await publisher(prefix);
    const poison = rawPod('poison', hugeLabels());
    expect(JSON.stringify(poison).length).toBeGreaterThan(1_200_000);

    await expect(p.upsert('Pod', poison)).resolves.toBe(false);
    await expect(p.upsert('Pod', rawPod('ordinary'))).resolves.toBe(true);

    expect(await sizeRejections(rejected)).toBe(1);
    expect(rejections).toHaveLength(1);
    const err = rejections[0]!.err;
    expect(err).toBeInstanceOf(EdgeError);
    expect((err as EdgeError).object).toBe('tenant-a/poison');
    expect((err as EdgeError).reason).toMatch(/^the object is \d+ bytes in the compact model, over the cluster stream's message size limit/);
    expect(await lastPodOnStream('poison', stream, prefix)).toBeUndefined();
    expect((await lastPodOnStream('ordinary', stream, prefix))?.object?.$case).toBe('pod');
  });

  test("a pod over the stream's max_msg_size (JetStream refuses it) is rejected the same way, not retried", async () => {
    const { publisher: p, rejected } = await publisher(smallPrefix);
    const labels: Record<string, string> = {};
    for (let i = 0; i < 200; i++) labels[`example.com/l-${i}`] = 'x'.repeat(40);

    await expect(p.upsert('Pod', rawPod('big', labels))).resolves.toBe(false);
    await expect(p.upsert('Pod', rawPod('small'))).resolves.toBe(true);

    expect(await sizeRejections(rejected)).toBe(1);
    expect(await lastPodOnStream('big', smallStream, smallPrefix)).toBeUndefined();
    expect((await lastPodOnStream('small', smallStream, smallPrefix))?.object?.$case).toBe('pod');
  });

  test('an earlier version that fitted stays on the stream when an update no longer fits', async () => {
    const { publisher: p } = await publisher(prefix);
    await expect(p.upsert('Pod', rawPod('grows', { app: 'web' }))).resolves.toBe(true);
    await expect(p.upsert('Pod', rawPod('grows', hugeLabels(), '2'))).resolves.toBe(false);

    const last = await lastPodOnStream('grows', stream, prefix);
    expect(last?.object?.$case === 'pod' ? last.object.value.labels : undefined).toEqual({ app: 'web' });
  });

  test('a PodGroup is published on its own subject; a bad minMember is rejected naming the field; a deletion follows', async () => {
    const { publisher: p, rejected, rejections } = await publisher(prefix);
    const group = (minMember: unknown) => ({ apiVersion: 'scheduling.x-k8s.io/v1alpha1', kind: 'PodGroup', metadata: { name: 'train', namespace: 'ml', resourceVersion: '3' }, spec: { minMember, scheduleTimeoutSeconds: 60 } });
    const last = async () => ClusterEvent.decode((await jsm.streams.getMessage(stream, { last_by_subj: `${prefix}.podgroup.ml.train` }))!.data);

    await expect(p.upsert('PodGroup', group(4))).resolves.toBe(true);
    expect((await last()).object).toEqual({ $case: 'podGroup', value: { namespace: 'ml', name: 'train', resourceVersion: '3', minMember: 4, scheduleTimeoutSeconds: 60 } });

    await expect(p.upsert('PodGroup', group(0))).resolves.toBe(false);
    expect((await rejected.get()).values.find((v) => v.labels.kind === 'PodGroup')?.labels.field).toBe('spec.minMember');
    expect(rejections.map((r) => r.kind)).toEqual(['PodGroup']);
    expect((await last()).object?.value).toMatchObject({ minMember: 4 });

    await p.delete('PodGroup', group(4));
    expect((await last()).type).toBe(ClusterEventType.CLUSTER_EVENT_TYPE_DELETE);
  });
  test('a Service and a ReplicaSet of one name are published on their own subjects, selectors only; a bad selector is rejected naming the field', async () => {
    const { publisher: p, rejected } = await publisher(prefix);
    const meta = { name: 'web', namespace: 'shop', resourceVersion: '5' };
    const last = async (token: string) => ClusterEvent.decode((await jsm.streams.getMessage(stream, { last_by_subj: `${prefix}.${token}.shop.web` }))!.data);
    const selector = { matchLabels: { app: 'web' }, matchExpressions: [] };

    await expect(p.upsert('Service', { apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })).resolves.toBe(true);
    await expect(p.upsert('ReplicaSet', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta, spec: { selector: { matchLabels: { app: 'web' } }, replicas: 2 } })).resolves.toBe(true);
    expect((await last('service')).object).toEqual({ $case: 'service', value: { ...meta, selector } });
    expect((await last('replicaset')).object).toEqual({ $case: 'replicaSet', value: { ...meta, selector } });

    await expect(p.upsert('StatefulSet', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta, spec: { selector: { matchExpressions: [{ key: 'app', operator: 'Near' }] } } })).resolves.toBe(false);
    expect((await rejected.get()).values.find((v) => v.labels.kind === 'StatefulSet')?.labels.field).toBe('spec.selector.matchExpressions[0].operator');

    await p.delete('Service', { metadata: meta });
    expect((await last('service')).type).toBe(ClusterEventType.CLUSTER_EVENT_TYPE_DELETE);
    expect((await last('replicaset')).type).toBe(ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT);
  });

  describe('ordering: two informers on one stream (review M4)', () => {
    const labelsOf = (e: ClusterEvent | undefined) => (e?.object?.$case === 'pod' ? e.object.value.labels : undefined);
    const staleCount = async (c: Counter) => (await c.get()).values.reduce((n, v) => n + v.value, 0);

    test('an older version published last, by another informer, does not overwrite the newer one', async () => {
      const a = await publisher(prefix);
      const b = await publisher(prefix);
      await expect(a.publisher.upsert('Pod', rawPod('rolling', { v: '10' }, '10'))).resolves.toBe(true);
      // B saw version 12 and published it; A, slower, still has 11 to send.
      await expect(b.publisher.upsert('Pod', rawPod('rolling', { v: '12' }, '12'))).resolves.toBe(true);
      await expect(a.publisher.upsert('Pod', rawPod('rolling', { v: '11' }, '11'))).resolves.toBe(true);
      expect(labelsOf(await lastPodOnStream('rolling', stream, prefix))).toEqual({ v: '12' });
      expect(await staleCount(a.stale)).toBe(1);
      // A newer version from A still goes through: it learnt the subject's sequence when it lost.
      await expect(a.publisher.upsert('Pod', rawPod('rolling', { v: '13' }, '13'))).resolves.toBe(true);
      expect(labelsOf(await lastPodOnStream('rolling', stream, prefix))).toEqual({ v: '13' });
    });

    test("a late older update of a deleted object is refused while its tombstone stays; the same version's delete is not", async () => {
      const a = await publisher(prefix);
      const b = await publisher(prefix);
      await expect(a.publisher.upsert('Pod', rawPod('gone', { v: '20' }, '20'))).resolves.toBe(true);
      await b.publisher.delete('Pod', rawPod('gone', {}, '22'));
      await expect(a.publisher.upsert('Pod', rawPod('gone', { v: '21' }, '21'))).resolves.toBe(true);
      expect((await lastPodOnStream('gone', stream, prefix))?.type).toBe(ClusterEventType.CLUSTER_EVENT_TYPE_DELETE);
      // Re-created under the same name: a later version.
      await expect(a.publisher.upsert('Pod', rawPod('gone', { v: '30' }, '30'))).resolves.toBe(true);
      expect(labelsOf(await lastPodOnStream('gone', stream, prefix))).toEqual({ v: '30' });
      await a.publisher.delete('Pod', rawPod('gone', {}, '30'));
      expect((await lastPodOnStream('gone', stream, prefix))?.type).toBe(ClusterEventType.CLUSTER_EVENT_TYPE_DELETE);
    });

    test('a fresh informer learns every subject from the stream, and a repeated version is not published twice', async () => {
      const first = await publisher(prefix);
      await expect(first.publisher.upsert('Pod', rawPod('known', { v: '40' }, '40'))).resolves.toBe(true);
      const before = (await jsm.streams.info(stream)).state.last_seq;
      const fresh = await publisher(prefix);
      await expect(fresh.publisher.upsert('Pod', rawPod('known', { v: '40' }, '40'))).resolves.toBe(true);
      await expect(fresh.publisher.upsert('Pod', rawPod('known', { v: '39' }, '39'))).resolves.toBe(true);
      expect((await jsm.streams.info(stream)).state.last_seq).toBe(before);
      expect(await staleCount(fresh.stale)).toBe(2);
    });
  });
});
