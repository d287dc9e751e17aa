// The standard watches: one per named ConfigMap, each leaving the others'
// keys alone when it reconciles the stream.
import { expect, test } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { standardWatches } from './kubernetes-source.js';

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

test.each([
  { name: 'the plugin and profiles ConfigMaps', configMaps: ['schedmesh-system/schedmesh-plugins', 'schedmesh-system/schedmesh-profiles'], expected: [
    { path: '/api/v1/namespaces/schedmesh-system/configmaps', fieldSelector: 'metadata.name=schedmesh-plugins', othersKeys: ['schedmesh-system/schedmesh-profiles'] },
    { path: '/api/v1/namespaces/schedmesh-system/configmaps', fieldSelector: 'metadata.name=schedmesh-profiles', othersKeys: ['schedmesh-system/schedmesh-plugins'] },
  ] },
  { name: 'one, the other turned off', configMaps: ['', 'ns/profiles'], expected: [{ path: '/api/v1/namespaces/ns/configmaps', fieldSelector: 'metadata.name=profiles', othersKeys: [] }] },
  { name: 'the same one twice', configMaps: ['ns/a', 'ns/a'], expected: [{ path: '/api/v1/namespaces/ns/configmaps', fieldSelector: 'metadata.name=a', othersKeys: [] }] },
  { name: 'none', configMaps: ['', ''], expected: [] },
])('ConfigMap watches: $name', ({ configMaps, expected }) => {
  const specs = standardWatches(kubeConfig(), { admissionPolicies: false, podGroups: false, configMaps }).filter((s) => s.kind === 'ConfigMap');
  expect(specs.map((s) => ({ path: s.path, fieldSelector: s.fieldSelector, othersKeys: [...(s.othersKeys ?? [])] }))).toEqual(expected);
});

test.each([
  { podGroups: true, expected: [{ path: '/apis/scheduling.x-k8s.io/v1alpha1/podgroups', optional: true }] },
  { podGroups: false, expected: [] },
])('PodGroups watched: $podGroups, and never holding readiness', ({ podGroups, expected }) => {
  const specs = standardWatches(kubeConfig(), { admissionPolicies: true, podGroups, configMaps: [] });
  expect(specs.filter((s) => s.kind === 'PodGroup').map((s) => ({ path: s.path, optional: s.optional }))).toEqual(expected);
  expect(specs.filter((s) => s.optional).map((s) => s.kind)).toEqual(podGroups ? ['PodGroup'] : []);
});
