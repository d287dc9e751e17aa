import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterEvent, ClusterEventType } from '@schedmesh/proto/v1/types';
import { sharedServers } from '@schedmesh/testkit';
import {
  clusterEventSubject,
  clusterKindFilter,
  clusterObjectAttributes,
  ensureClusterStream,
  followClusterStream,
  publishClusterEvent,
  subjectToken,
} from './cluster-stream.js';
import type { ReceivedClusterEvent } from './cluster-stream.js';
import { createLogger } from './logger.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const upsert = ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
const remove = ClusterEventType.CLUSTER_EVENT_TYPE_DELETE;
const node = (name: string, rv: string, type = upsert): ClusterEvent =>
  ClusterEvent.fromPartial({ type, object: { $case: 'node', value: { name, resourceVersion: rv, labels: { rv } } } });
const pod = (ns: string, name: string, rv: string, nodeName = '', type = upsert): ClusterEvent =>
  ClusterEvent.fromPartial({ type, object: { $case: 'pod', value: { uid: `${ns}-${name}`, namespace: ns, name, resourceVersion: rv, nodeName } } });

describe('subjects', () => {
  test.each([
    ['n1', 'n1'],
    ['node-1.zone-a.example.com', 'node-1%2Ezone-a%2Eexample%2Ecom'],
    ['a*b>c d%', 'a%2Ab%3Ec%20d%25'],
    ['', '%00'],
  ])('token of %j is %j', (value, token) => expect(subjectToken(value)).toBe(token));

  test('one subject per object; pods by namespace and name', () => {
    expect(clusterEventSubject(node('ip-10-0-0-1.ec2.internal', '1'))).toBe('schedmesh.cluster.node.ip-10-0-0-1%2Eec2%2Einternal');
    expect(clusterEventSubject(pod('team-a', 'web-0', '1'))).toBe('schedmesh.cluster.pod.team-a.web-0');
    expect(clusterKindFilter('pod')).toBe('schedmesh.cluster.pod.>');
  });

  test("workload selectors have a subject per kind, so a Service and a ReplicaSet of one name are two objects", () => {
    const of = (object: ClusterEvent['object']) => clusterEventSubject(ClusterEvent.fromPartial({ type: upsert, object }));
    const value = { namespace: 'shop', name: 'web', resourceVersion: '1' };
    expect([of({ $case: 'service', value }), of({ $case: 'replicaSet', value }), of({ $case: 'statefulSet', value }), of({ $case: 'replicationController', value })]).toEqual([
      'schedmesh.cluster.service.shop.web',
      'schedmesh.cluster.replicaset.shop.web',
      'schedmesh.cluster.statefulset.shop.web',
      'schedmesh.cluster.replicationcontroller.shop.web',
    ]);
    expect(clusterKindFilter('replicaSet')).toBe('schedmesh.cluster.replicaset.>');
  });
});

describe('span attributes of an object (the Kubernetes semantic conventions)', () => {
  test.each([
    ['a pod: name, UID and namespace', pod('team-a', 'web-0', '1'), { 'schedmesh.object.kind': 'pod', 'schedmesh.object.key': 'team-a/web-0', 'k8s.namespace.name': 'team-a', 'k8s.pod.name': 'web-0', 'k8s.pod.uid': 'team-a-web-0' }],
    ['a node: its name', node('n1', '1'), { 'schedmesh.object.kind': 'node', 'schedmesh.object.key': 'n1', 'k8s.node.name': 'n1' }],
    ['a namespace', ClusterEvent.fromPartial({ object: { $case: 'namespace', value: { name: 'team-a' } } }), { 'schedmesh.object.kind': 'namespace', 'schedmesh.object.key': 'team-a', 'k8s.namespace.name': 'team-a' }],
    ['a ConfigMap: kind and key only', ClusterEvent.fromPartial({ object: { $case: 'configMap', value: { namespace: 'ops', name: 'profiles' } } }), { 'schedmesh.object.kind': 'configMap', 'schedmesh.object.key': 'ops/profiles' }],
    ['an event without an object: none', ClusterEvent.fromPartial({}), {}],
  ])('%s', (_name, event, want) => expect(clusterObjectAttributes(event)).toEqual(want));
});

describe('the cluster stream on real JetStream', () => {
  let nc: NatsConnection;
  let js: JetStreamClient;
  const name = `CLUSTER_TEST_${process.pid}`;
  const prefix = `t${process.pid}.cluster`;

  beforeAll(async () => {
    nc = await connect({ servers: sharedServers().natsUrl });
    js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await ensureClusterStream(jsm, { name, prefix, memory: true });
    await ensureClusterStream(jsm, { name, prefix, memory: true }); // idempotent
  });
  afterAll(async () => {
    await (await jetstreamManager(nc)).streams.delete(name);
    await nc.close();
  });

  async function collect(afterGeneration: number, filterSubject?: string): Promise<ReceivedClusterEvent[]> {
    const out: ReceivedClusterEvent[] = [];
    const ac = new AbortController();
    const done = followClusterStream({
      js, logger, stream: name, afterGeneration, signal: ac.signal, ...(filterSubject ? { filterSubject } : {}),
      onEvent(r) {
        out.push(r);
        if (r.pending === 0) ac.abort();
      },
    });
    const timer = setTimeout(() => ac.abort(), 3000);
    await done;
    clearTimeout(timer);
    return out;
  }

  test('keeps the latest state per object, de-duplicates republished events, and resumes after a generation', async () => {
    await publishClusterEvent(js, node('n1', '1'), prefix);
    await publishClusterEvent(js, node('n2', '2'), prefix);
    await publishClusterEvent(js, pod('default', 'a', '3'), prefix);
    await publishClusterEvent(js, node('n1', '4'), prefix);
    const dup = await publishClusterEvent(js, node('n1', '4'), prefix);
    expect(dup.duplicate).toBe(true);
    await publishClusterEvent(js, node('n2', '5', remove), prefix);

    const replay = await collect(0);
    // n1@1 and n2@2 were superseded: a new consumer sees only the latest of each object.
    expect(replay.map((r) => [r.event.generation, r.event.object?.$case, r.event.type])).toEqual([
      [3, 'pod', upsert],
      [4, 'node', upsert],
      [5, 'node', remove],
    ]);
    expect(replay[1]!.event.object).toMatchObject({ value: { name: 'n1', labels: { rv: '4' } } });

    await publishClusterEvent(js, pod('default', 'a', '6', 'n1'), prefix);
    const resumed = await collect(5);
    expect(resumed.map((r) => r.event.generation)).toEqual([6]);
    expect(resumed[0]!.event.object).toMatchObject({ $case: 'pod', value: { nodeName: 'n1' } });

    const podsOnly = await collect(0, `${prefix}.pod.>`);
    expect(podsOnly.map((r) => r.event.generation)).toEqual([6]);
  });

  test('a message that is not a ClusterEvent is skipped and reported', async () => {
    const bad = await js.publish(`${prefix}.node.garbage`, new Uint8Array([0xff, 0xff, 0xff]));
    await publishClusterEvent(js, node('n3', '7'), prefix);
    const invalid: number[] = [];
    const seen: number[] = [];
    const ac = new AbortController();
    await followClusterStream({
      js, logger, stream: name, afterGeneration: bad.seq - 1, signal: ac.signal,
      onInvalid: (msg) => invalid.push(msg.seq),
      onEvent(r) {
        seen.push(r.event.generation);
        if (r.pending === 0) ac.abort();
      },
    });
    expect(invalid).toEqual([bad.seq]);
    expect(seen).toEqual([bad.seq + 1]);
  });
});
