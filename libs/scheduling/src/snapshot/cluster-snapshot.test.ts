import { describe, expect, test } from '@jest/globals';
import { ClusterEventType } from '@schedmesh/proto/v1/types';
import type { ClusterEvent, Namespace, Node, Pod } from '@schedmesh/proto/v1/types';
import { ClusterSnapshot } from './cluster-snapshot.js';
import type { WorkloadObject } from './cluster-snapshot.js';
import { affinityTerm, namespace, node, pod, selector } from '@schedmesh/testkit';

let generation = 0;
function ev(object: Node | Pod | Namespace, type: 'upsert' | 'delete' = 'upsert'): ClusterEvent {
  generation++;
  const t = type === 'delete' ? ClusterEventType.CLUSTER_EVENT_TYPE_DELETE : ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT;
  if ('unschedulable' in object) return { generation, type: t, object: { $case: 'node', value: object } };
  if ('uid' in object) return { generation, type: t, object: { $case: 'pod', value: object } };
  return { generation, type: t, object: { $case: 'namespace', value: object } };
}

describe('ClusterSnapshot', () => {
  test('keeps Services by namespace and controllers by kind, namespace and name, for default spreading', () => {
    const s = new ClusterSnapshot();
    const sel = (app: string) => ({ matchLabels: { app }, matchExpressions: [] });
    const apply = (object: WorkloadObject, type = ClusterEventType.CLUSTER_EVENT_TYPE_UPSERT) => s.apply({ generation: ++generation, type, object });
    apply({ $case: 'service', value: { namespace: 'shop', name: 'web', resourceVersion: '1', selector: sel('web') } });
    apply({ $case: 'service', value: { namespace: 'shop', name: 'api', resourceVersion: '1', selector: sel('api') } });
    apply({ $case: 'service', value: { namespace: 'ops', name: 'web', resourceVersion: '1', selector: sel('ops') } });
    apply({ $case: 'replicaSet', value: { namespace: 'shop', name: 'web', resourceVersion: '1', selector: sel('web-rs') } });
    apply({ $case: 'statefulSet', value: { namespace: 'shop', name: 'web', resourceVersion: '1', selector: sel('web-ss') } });
    expect(s.services('shop').map((v) => v.name)).toEqual(['web', 'api']);
    expect(s.services('ops').map((v) => v.selector?.matchLabels)).toEqual([{ app: 'ops' }]);
    expect(s.services('none')).toEqual([]);
    expect(s.controller('ReplicaSet', 'shop', 'web')?.selector?.matchLabels).toEqual({ app: 'web-rs' });
    expect(s.controller('StatefulSet', 'shop', 'web')?.selector?.matchLabels).toEqual({ app: 'web-ss' });
    expect(s.controller('ReplicationController', 'shop', 'web')).toBeUndefined();

    // A changed selector replaces the old one; a deletion removes it from the lists already handed out next time.
    apply({ $case: 'service', value: { namespace: 'shop', name: 'web', resourceVersion: '2', selector: sel('web2') } });
    apply({ $case: 'service', value: { namespace: 'shop', name: 'api', resourceVersion: '2' } }, ClusterEventType.CLUSTER_EVENT_TYPE_DELETE);
    apply({ $case: 'replicaSet', value: { namespace: 'shop', name: 'web', resourceVersion: '2' } }, ClusterEventType.CLUSTER_EVENT_TYPE_DELETE);
    expect(s.services('shop').map((v) => v.selector?.matchLabels)).toEqual([{ app: 'web2' }]);
    expect(s.controller('ReplicaSet', 'shop', 'web')).toBeUndefined();
    expect([...s.workloads()].map((o) => `${o.$case} ${o.value.namespace}/${o.value.name}`)).toEqual(['service shop/web', 'service ops/web', 'statefulSet shop/web']);
  });

  test('aggregates pods into NodeInfo and follows moves, deletions and recreations', () => {
    const s = new ClusterSnapshot();
    s.apply(ev(node('n1').capacity({ cpu: '4', memory: '8Gi' }).build()));
    s.apply(ev(node('n2').capacity({ cpu: '4', memory: '8Gi' }).build()));
    s.apply(ev(pod('a').node('n1').req({ cpu: '1', memory: '1Gi' }).hostPort(80).build()));
    s.apply(ev(pod('b').node('n1').req({ cpu: '500m', memory: '1Gi' }).build()));
    expect(s.nodeInfo('n1')?.requested).toMatchObject({ milliCpu: 1500, pods: 2 });
    expect(s.nodeInfo('n1')?.usedPorts.size).toBe(1);

    s.apply(ev(pod('b').node('n2').req({ cpu: '500m', memory: '1Gi' }).build())); // moved
    expect(s.nodeInfo('n1')?.requested).toMatchObject({ milliCpu: 1000, pods: 1 });
    expect(s.nodeInfo('n2')?.pods.map((p) => p.pod.name)).toEqual(['b']);

    s.apply(ev(pod('a').uid('new-uid').node('n2').req({ cpu: '2', memory: '1Gi' }).build())); // recreated under the same name
    expect(s.nodeInfo('n1')?.pods).toHaveLength(0);
    expect(s.nodeInfo('n1')?.usedPorts.size).toBe(0);
    expect(s.nodeInfo('n2')?.requested.milliCpu).toBe(2500);

    s.apply(ev(pod('b').build(), 'delete'));
    expect(s.nodeInfo('n2')?.pods.map((p) => p.pod.uid)).toEqual(['new-uid']);
    expect(s.podCount).toBe(1);
    expect(s.generation).toBe(generation);
  });

  test('pods of an unknown node wait for it; a deleted node keeps its pods until they go', () => {
    const s = new ClusterSnapshot();
    s.apply(ev(pod('early').node('late').req({ cpu: '1', memory: '1' }).build()));
    expect(s.nodeInfos()).toHaveLength(0);
    s.apply(ev(node('late').build()));
    expect(s.nodeInfo('late')?.requested.milliCpu).toBe(1000);
    s.apply(ev(node('late').build(), 'delete'));
    expect(s.nodeCount).toBe(0);
    s.apply(ev(node('late').build()));
    expect(s.nodeInfo('late')?.pods.map((p) => p.pod.name)).toEqual(['early']);
  });

  test('lists nodes with zones interleaved, as the upstream node tree does', () => {
    const s = new ClusterSnapshot();
    for (const [n, z] of [['a1', 'a'], ['a2', 'a'], ['a3', 'a'], ['b1', 'b'], ['c1', 'c'], ['b2', 'b']] as const) {
      s.apply(ev(node(n).label('topology.kubernetes.io/zone', z).build()));
    }
    expect(s.nodeInfos().map((n) => n.name)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  test('indexes nodes with affinity pods, namespaces, images and nominated pods', () => {
    const s = new ClusterSnapshot();
    s.apply(ev(namespace('shop', { team: 'retail' })));
    s.apply(ev(node('n1').image(100, 'nginx:latest', 'nginx:1').build()));
    s.apply(ev(node('n2').image(100, 'nginx:latest').build()));
    s.apply(ev(pod('plain').node('n1').build()));
    expect(s.hasNominatedPods()).toBe(false);
    s.apply(ev(pod('anti').node('n2').podAntiAffinity('required', affinityTerm('kubernetes.io/hostname', selector({ app: 'x' }))).build()));
    s.apply(ev(pod('waiting').nominated('n1').priority(10).build()));
    expect(s.havePodsWithAffinity().map((n) => n.name)).toEqual(['n2']);
    expect(s.havePodsWithRequiredAntiAffinity().map((n) => n.name)).toEqual(['n2']);
    expect(s.namespaceLabels('shop')).toEqual({ team: 'retail' });
    expect(s.imageNodeCount('nginx:latest')).toBe(2);
    expect(s.imageNodeCount('nginx:1')).toBe(1);
    expect(s.nominatedPods('n1').map((p) => p.pod.name)).toEqual(['waiting']);
    expect(s.hasNominatedPods()).toBe(true);
    s.apply(ev(pod('anti').build(), 'delete'));
    expect(s.havePodsWithAffinity()).toEqual([]);
    s.apply(ev(pod('waiting').node('n1').priority(10).build())); // bound: no longer nominated
    expect(s.nominatedPods('n1')).toEqual([]);
    expect(s.hasNominatedPods()).toBe(false);
    s.apply(ev(node('n2').build(), 'delete'));
    expect(s.imageNodeCount('nginx:latest')).toBe(1);
  });
});
